"""Where a wrong answer went wrong: the error breakdown of `chatocr eval` and the benchmarks.

For a labelled field answered wrongly (or null) the cause is one of:

- ``ocr_miss``: the value is not in the OCR text (no line, no run of joined lines, no line that
  matches it tolerantly): no reader could have answered it;
- ``proposal_miss``: the text holds it, but none of the strategy's proposals (the learned reader's
  proposals, or the rule candidates) does;
- ``choice_miss``: a proposal held it and another answer (or null) was chosen.

An absent field answered with a value is a ``false_answer``.  Diagnosis happens when the labels and
the document are both at hand (at prediction time) and is stored with each prediction.
"""

from __future__ import annotations

from chatocr.document import Document
from chatocr.eval.matching import MatchOptions, normalize, tolerant_match
from chatocr.extract.candidates import DocView
from chatocr.extract.normalize import normalize_value
from chatocr.fields.spec import FieldSpec, Schema
from chatocr.result import ExtractionResult

CAUSES = ("ocr_miss", "proposal_miss", "choice_miss", "false_answer")


def in_ocr_text(label: str, view: DocView, options: MatchOptions) -> bool:
    """The OCR ceiling: the label is inside the joined OCR text, or one line matches it tolerantly."""
    target = normalize(label, options, cjk=True)
    if not target:
        return False
    if target in "".join(normalize(item.text, options, cjk=True) for item in view.lines):
        return True
    return any(tolerant_match(label, item.text, options) for item in view.lines)


def proposed(label: str, texts: list[str], spec: FieldSpec, options: MatchOptions) -> bool:
    """Some proposal holds the label, as printed or normalised like the field's values."""
    for text in texts:
        if tolerant_match(label, text, options):
            return True
        value = normalize_value(text, spec.normalize)
        if value and value != text and tolerant_match(label, value, options):
            return True
    return False


def diagnose(
    result: ExtractionResult,
    schema: Schema,
    labels: dict[str, str],
    absent: frozenset[str] | set[str],
    proposals: dict[str, list[str]],
    options: MatchOptions,
) -> dict[str, str]:
    """The cause of each wrong answer (fields answered right are left out)."""
    document: Document | None = result.document
    view = DocView(document) if document is not None else None
    out: dict[str, str] = {}
    for spec in schema.fields:
        answer = result.fields.get(spec.name)
        if answer is None or not spec.extractive:
            continue
        label = labels.get(spec.name)
        if label is None:
            if spec.name in absent and answer.value is not None:
                out[spec.name] = "false_answer"
            continue
        if any(v is not None and tolerant_match(label, v, options) for v in (answer.value, answer.raw)):
            continue
        if proposed(label, proposals.get(spec.name, []), spec, options):
            out[spec.name] = "choice_miss"
        elif view is not None and in_ocr_text(label, view, options):
            out[spec.name] = "proposal_miss"
        else:
            out[spec.name] = "ocr_miss"
    return out

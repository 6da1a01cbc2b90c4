"""Is an answer grounded?  Its box must hold OCR line(s) that contain the printed value.

Checked independently of the extractor's own grounding step, from the OCR lines the
result carries (``ExtractionResult.document``).  The lines "held" by a value's box are
those on the same page whose centre lies inside the box (grown by a small margin, since
boxes are rounded); their texts, joined in reading order, must contain the printed value
(``raw``, else ``value``) after normalisation, allowing OCR-level slips (partial-ratio
similarity >= 0.9).  Values that are not printed (derived enum answers with no ``raw``),
null answers and results without OCR lines are not checked (``None``).
"""

from __future__ import annotations

from rapidfuzz import fuzz

from chatocr.document import Document, box_bounds
from chatocr.eval.matching import normalize
from chatocr.result import ExtractionResult, FieldResult

_MARGIN = 4.0  # pixels
_THRESHOLD = 90.0


def _held_text(document: Document, page: int | None, box: list[list[float]]) -> str:
    x0, y0, x1, y1 = box_bounds(box)
    x0, y0, x1, y1 = x0 - _MARGIN, y0 - _MARGIN, x1 + _MARGIN, y1 + _MARGIN
    texts = []
    for page_number, line in document.lines:
        if page is not None and page_number != page:
            continue
        lx0, ly0, lx1, ly1 = line.bounds
        cx, cy = (lx0 + lx1) / 2, (ly0 + ly1) / 2
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            texts.append(line.text)
    return " ".join(texts)


def is_grounded(answer: FieldResult, document: Document | None) -> bool | None:
    """True/False for a non-null printed value with a document at hand; None when not checkable."""
    if answer.value is None or document is None or not document.lines:
        return None
    printed = answer.raw if answer.raw is not None else (None if answer.derived_from else answer.value)
    if printed is None or not printed.strip():
        return None
    if answer.box is None:
        return False  # a printed value must say where it was printed
    held = _held_text(document, answer.page, answer.box)
    if not held:
        return False
    needle, haystack = normalize(printed, cjk=True), normalize(held, cjk=True)
    if needle in haystack:
        return True
    return bool(fuzz.partial_ratio(needle, haystack) >= _THRESHOLD)


def grounding_flags(result: ExtractionResult) -> dict[str, bool | None]:
    return {name: is_grounded(answer, result.document) for name, answer in result.fields.items()}

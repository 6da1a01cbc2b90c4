"""Teacher labelling: a strong model behind an OpenAI-compatible endpoint labels real, unlabelled
document images; only answers that pass validation and grounding are kept.

For each image of ``--images`` (sorted by name), chatocr's own OCR reads it (cached), the teacher is
shown the layout text and asked for every field of the schema as printed (JSON schema enforced
where the server supports it), and each answer is checked:

- the reply is a JSON object with exactly the schema's keys, each a string or null (a list field an
  array of strings or null: the generate prompt's schema);
- an extractive field's value must be grounded: found (fuzzily, tolerant to OCR slips) in the OCR
  text, otherwise the field is dropped (an invented value must never become a label);
- an enum field's value must be one of its choices;
- a value that must normalise (dates, amounts) and does not is dropped;
- a list field keeps the items that are grounded (an invented item is dropped, the field only when
  none is left); its label is the items joined with ``"; "`` as the extractor's value is.

The output folder has the dataset layout the evaluation and ``chatocr data samples`` read:
``images/`` (a copy), ``labels/<id>.json`` (kept values, normalised as the label conventions say),
``absent/<id>.json`` (fields the teacher answered null), ``meta/<id>.json`` (teacher, dropped fields
and why, the generate-style training sample: prompt and grounded reply, list fields as arrays; written
last, so it marks a finished document) and ``rejected/<id>.json`` for documents
whose reply could not be used at all.  A rerun skips finished and rejected ids, so an interrupted
run resumes where it stopped; every file is written atomically.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatocr.backends.base import LLMBackend, Message, create_backend
from chatocr.data.samples import ocr_cached
from chatocr.document import Document
from chatocr.errors import BackendError, DatasetError
from chatocr.eval.dataset import IMAGE_SUFFIXES
from chatocr.extract.extractor import ground_value
from chatocr.extract.generation import GENERATE_PROMPT_VERSION, generate_schema
from chatocr.extract.normalize import normalize_value, strip_keys
from chatocr.fields.spec import FieldSpec, FieldType, Schema
from chatocr.files import atomic_write_text
from chatocr.options import Options
from chatocr.result import LIST_JOINER

log = logging.getLogger(__name__)

_SYSTEM = (
    "You are a careful document annotator. You read the OCR text of a document and copy the value of each "
    "requested field exactly as it is printed, without its printed label (not 'Total:' or '证书编号：'). "
    "Answer null for a field the document does not contain. Never guess or invent a value."
)


@dataclass
class LabelStats:
    images: int = 0
    labelled: int = 0
    skipped_done: int = 0
    rejected: int = 0
    fields_kept: int = 0
    fields_null: int = 0
    fields_dropped: int = 0
    dropped_reasons: dict[str, int] = field(default_factory=dict)


def teacher_schema(schema: Schema) -> dict[str, Any]:
    """The generate prompt's schema: every field a string or null, enum fields restricted to their
    choices, list fields an array of strings or null."""
    return generate_schema(schema.fields)


def teacher_messages(document: Document, schema: Schema) -> list[Message]:
    """The extractor's own generate prompt (line-numbered layout text, field rules), so every labelled
    document is also a generate-style training sample with exactly the text the extractor sends."""
    from chatocr.extract.candidates import DocView
    from chatocr.extract.generation import build_generate_prompt, document_text
    from chatocr.extract.prompt import detect_language

    view = DocView(document)
    language = schema.language if schema.language in ("zh", "en") else detect_language(view.full_text)
    return build_generate_prompt(schema.fields, document_text(view, language), language=language).messages


def legacy_teacher_messages(document: Document, schema: Schema) -> list[Message]:
    """The teacher prompt before the generate strategy (kept for comparing teachers)."""
    lines = []
    for spec in schema.fields:
        line = f"- {spec.name}"
        if spec.description:
            line += f": {spec.description}"
        if spec.type is FieldType.enum and spec.choices:
            line += f" (one of: {', '.join(spec.choices)})"
        for rule in spec.rules:
            line += f"; {rule.then} if the text contains {' or '.join(rule.if_text_contains)}"
        lines.append(line)
    user = (
        f"OCR text of the document (layout kept):\n\n{document.to_layout_text()}\n\n"
        f"Fields:\n" + "\n".join(lines) + "\n\nAnswer a JSON object with exactly these keys; each value a string "
        "copied from the text, or null."
    )
    return [Message("system", _SYSTEM), Message("user", user)]


def grounded_items(spec: FieldSpec, value: Any, document: Document) -> tuple[list[str], int]:
    """A list answer's items that are grounded in the OCR text (printed keys stripped, duplicates once,
    in the teacher's order), and how many non-empty items were dropped."""
    items = value if isinstance(value, list) else [value]
    kept: list[str] = []
    dropped = 0
    for item in items:
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        if not isinstance(item, str):
            dropped += 1
            continue
        raw = normalize_value(strip_keys(item.strip(), spec.aliases), None)
        if raw and ground_value(raw, document):
            if raw not in kept:
                kept.append(raw)
        else:
            dropped += 1
    return kept, dropped


def check_answer(spec: FieldSpec, value: Any, document: Document) -> tuple[str | None, str | None]:
    """(label value, None) for a usable answer, (None, None) for null, (None, reason) for a dropped one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if spec.type is FieldType.list:
        items, dropped = grounded_items(spec, value, document)
        if items:
            return LIST_JOINER.join(items), None
        return None, ("not grounded in the OCR text" if dropped else None)
    if not isinstance(value, str):
        return None, "not a string"
    if spec.type is FieldType.enum:
        if spec.choices and value not in spec.choices:
            return None, "not one of the choices"
        return value, None
    raw = strip_keys(value.strip(), spec.aliases)
    if not ground_value(raw, document):
        return None, "not grounded in the OCR text"
    normalizer = spec.normalize or {FieldType.date: "date_iso", FieldType.amount: "amount"}.get(spec.type)
    if normalizer:
        normalised = normalize_value(raw, normalizer)
        if normalised is None:
            return None, f"does not normalise ({normalizer})"
        return normalised, None
    return raw, None


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such images folder")
    found = [
        p
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not found:
        raise DatasetError(f"{folder}: holds no images or PDFs")
    return found


def _copy_atomic(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def label_images(
    images_dir: str | Path,
    out: str | Path,
    schema: Schema,
    options: Options,
    *,
    backend: LLMBackend | None = None,
    ocr_cache: Path | None = None,
    limit: int | None = None,
    on_document: Callable[[str, str], None] | None = None,
) -> LabelStats:
    """Label every image of ``images_dir`` into the dataset folder ``out`` (resumable)."""
    images_dir, out = Path(images_dir), Path(out)
    if backend is None:
        import chatocr.backends  # noqa: F401  (registers the built-in backends)
    teacher = backend or create_backend(options.backend)
    model_name = options.backend.model or teacher.describe()
    json_schema = teacher_schema(schema)
    stats = LabelStats()
    for image in _images(images_dir)[:limit]:
        doc_id = image.stem
        stats.images += 1
        if (out / "meta" / f"{doc_id}.json").is_file() or (out / "rejected" / f"{doc_id}.json").is_file():
            stats.skipped_done += 1
            continue
        document = ocr_cached(image, options, ocr_cache)
        messages = teacher_messages(document, schema)
        try:
            completion = teacher.complete(messages, json_schema=json_schema, max_tokens=1024)
            reply = json.loads(completion.text)
            if not isinstance(reply, dict):
                raise ValueError("the reply is not a JSON object")
        except (BackendError, ValueError) as exc:
            # A document the teacher could not answer is set aside (not retried on resume).
            atomic_write_text(out / "rejected" / f"{doc_id}.json", _dump({"id": doc_id, "reason": str(exc)}))
            stats.rejected += 1
            if on_document:
                on_document(doc_id, "rejected")
            continue
        labels: dict[str, str] = {}
        absent: list[str] = []
        dropped: dict[str, str] = {}
        for spec in schema.fields:
            if spec.name not in reply:
                dropped[spec.name] = "missing from the reply"
                continue
            value, reason = check_answer(spec, reply[spec.name], document)
            if reason:
                dropped[spec.name] = reason
            elif value is None:
                absent.append(spec.name)
            else:
                labels[spec.name] = value
        for reason in dropped.values():
            stats.dropped_reasons[reason] = stats.dropped_reasons.get(reason, 0) + 1
        stats.fields_kept += len(labels)
        stats.fields_null += len(absent)
        stats.fields_dropped += len(dropped)
        _copy_atomic(image, out / "images" / image.name)
        atomic_write_text(out / "labels" / f"{doc_id}.json", _dump(labels))
        atomic_write_text(out / "absent" / f"{doc_id}.json", _dump(absent))
        # The generate-style sample: the prompt sent and the teacher's reply with only its grounded values
        # (a list field: its grounded items, an array as the generate schema asks).
        kept: dict[str, Any] = {}
        dropped_items: dict[str, int] = {}
        for spec in schema.fields:
            if spec.name not in labels:
                kept[spec.name] = None
            elif spec.type is FieldType.list:
                kept[spec.name], lost = grounded_items(spec, reply[spec.name], document)
                if lost:
                    dropped_items[spec.name] = lost  # the field stands with its other items
            else:
                kept[spec.name] = reply[spec.name]
        sample = {
            "prompt_version": GENERATE_PROMPT_VERSION,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "reply": json.dumps(kept, ensure_ascii=False),
        }
        meta = {
            "id": doc_id,
            "template": schema.name,
            "teacher": model_name,
            "dropped": dropped,
            **({"dropped_items": dropped_items} if dropped_items else {}),
            "source": str(image),
            "sample": sample,
        }
        atomic_write_text(out / "meta" / f"{doc_id}.json", _dump(meta))  # last: marks the document done
        stats.labelled += 1
        if on_document:
            on_document(doc_id, "labelled")
    return stats

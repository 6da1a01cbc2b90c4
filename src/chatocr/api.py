"""The Python API; the CLI, the server and the batch runner all call these."""

from __future__ import annotations

from typing import Any

from chatocr.document import Document
from chatocr.io.loader import Source
from chatocr.options import Options
from chatocr.pipeline import run_ocr
from chatocr.result import ExtractionResult


def ocr(source: Source, *, options: Options | None = None, name: str | None = None, **overrides: Any) -> Document:
    """OCR a document (path or bytes) into a :class:`Document`.

    ``overrides`` are option keys such as ``engine="tesseract"`` (shorthand for
    ``ocr.engine``) or ``ocr__orientation=False``.  ``name`` becomes ``Document.file``
    (default: the path; ``None`` for bytes).  Bad input raises a
    :class:`~chatocr.errors.ChatOCRError` subclass with an actionable message.
    """
    opts = Options.create(options, **_shorthand(overrides))
    result: Document = run_ocr(source, opts.ocr, name=name)
    return result


_SHORTHAND = {
    "engine": "ocr.engine",
    "backend": "backend.name",
    "model": "backend.model",
    "base_url": "backend.base_url",
}


def _shorthand(overrides: dict[str, Any]) -> dict[str, Any]:
    return {_SHORTHAND.get(k, k): v for k, v in overrides.items()}


# One extractor per distinct options, so repeated calls keep the OCR engine and the model loaded.
_EXTRACTORS: dict[str, Any] = {}


def extract(
    source: Source,
    *,
    fields: str | list[str] | None = None,
    template: str | None = None,
    schema: Any = None,
    options: Options | None = None,
    name: str | None = None,
    **overrides: Any,
) -> ExtractionResult:
    """Answer the requested fields of a document (path or bytes) as grounded, validated values.

    Exactly one of ``fields`` ("company,date,total" or a list), ``template`` ("receipt") or
    ``schema`` (a JSON/YAML file path or a dict) names the fields.  ``overrides`` accept the
    shorthands ``backend="local"|"openai"``, ``model=...``, ``base_url=...`` and any option key
    (``extract__strategy="rules"``).  A value the document does not hold is ``None``.
    """
    from chatocr.extract.extractor import Extractor
    from chatocr.fields import load_schema

    spec = load_schema(fields=fields, template=template, schema=schema)
    opts = Options.create(options, **_shorthand(overrides))
    key = opts.model_dump_json()
    extractor = _EXTRACTORS.get(key)
    if extractor is None:
        _EXTRACTORS.clear()  # keep one loaded model at a time
        extractor = _EXTRACTORS[key] = Extractor(opts)
    result: ExtractionResult = extractor.run(source, spec, name=name)
    return result

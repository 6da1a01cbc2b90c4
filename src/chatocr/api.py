"""The Python API; the CLI, the server and the batch runner all call these."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from chatocr.document import Document
from chatocr.io.loader import Source
from chatocr.options import Options
from chatocr.pipeline import run_ocr
from chatocr.result import ExtractionResult

if TYPE_CHECKING:
    from chatocr.extract.extractor import Extractor


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
# The lock makes the cache safe to use from many threads: one extractor is created per options,
# and a thread that finds it busy waits instead of loading a second copy.  An extractor whose
# model runs in this process (no base_url: llama.cpp) is run by one thread at a time, since a
# loaded llama.cpp model is not safe to call from two threads (the server does the same).
_EXTRACTORS: dict[str, tuple[Extractor, threading.Lock | None]] = {}
_EXTRACTORS_LOCK = threading.Lock()


def _cached_extractor(opts: Options) -> tuple[Extractor, threading.Lock | None]:
    from chatocr.extract.extractor import Extractor

    key = opts.model_dump_json()
    with _EXTRACTORS_LOCK:
        entry = _EXTRACTORS.get(key)
        if entry is None:
            _EXTRACTORS.clear()  # keep one loaded model at a time (callers still running keep theirs)
            run_lock = threading.Lock() if opts.backend.base_url is None else None
            entry = _EXTRACTORS[key] = (Extractor(opts), run_lock)
        return entry


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
    from chatocr.fields import load_schema

    spec = load_schema(fields=fields, template=template, schema=schema)
    opts = Options.create(options, **_shorthand(overrides))
    extractor, run_lock = _cached_extractor(opts)
    if run_lock is None:
        return extractor.run(source, spec, name=name)
    with run_lock:
        return extractor.run(source, spec, name=name)

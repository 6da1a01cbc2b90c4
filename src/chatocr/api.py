"""The Python API; the CLI, the server and the batch runner all call these."""

from __future__ import annotations

from typing import Any

from chatocr.document import Document
from chatocr.io.loader import Source
from chatocr.options import Options
from chatocr.pipeline import run_ocr


def ocr(source: Source, *, options: Options | None = None, name: str | None = None, **overrides: Any) -> Document:
    """OCR a document (path or bytes) into a :class:`Document`.

    ``overrides`` are option keys such as ``engine="tesseract"`` (shorthand for
    ``ocr.engine``) or ``ocr__orientation=False``.
    """
    opts = Options.create(options, **_shorthand(overrides))
    result: Document = run_ocr(source, opts.ocr, name=name)
    return result


_SHORTHAND = {"engine": "ocr.engine", "backend": "backend.name", "model": "backend.model", "base_url": "backend.base_url"}


def _shorthand(overrides: dict[str, Any]) -> dict[str, Any]:
    return {_SHORTHAND.get(k, k): v for k, v in overrides.items()}

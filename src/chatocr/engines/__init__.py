"""OCR engines behind one contract (:class:`OcrEngine`) and a registry (:data:`ENGINES`)."""

from __future__ import annotations

# Built-in engines register themselves on import, exactly like plugins do.  The tesseract
# module always imports; a missing tesserocr is reported when the engine is created.
from chatocr.engines import rapidocr_engine as _rapidocr  # noqa: F401
from chatocr.engines import tesseract_engine as _tesseract  # noqa: F401
from chatocr.engines.base import ENGINES, OcrEngine, clear_engine_cache, get_engine

__all__ = ["ENGINES", "OcrEngine", "clear_engine_cache", "get_engine"]

"""OCR engines behind one contract (:class:`OcrEngine`) and a registry (:data:`ENGINES`)."""

from __future__ import annotations

from chatocr.engines.base import ENGINES, OcrEngine, clear_engine_cache, get_engine

# Built-in engines register themselves on import, exactly like plugins do.
from chatocr.engines import rapidocr_engine as _rapidocr  # noqa: F401,E402

try:  # tesseract is an optional extra; its module registers lazily and fails only on use
    from chatocr.engines import tesseract_engine as _tesseract  # noqa: F401
except ImportError:  # pragma: no cover
    pass

__all__ = ["ENGINES", "OcrEngine", "clear_engine_cache", "get_engine"]

"""chatocr: read a document and answer the fields you ask for as grounded, validated JSON."""

from __future__ import annotations

from chatocr import extract  # a callable module: chatocr.extract(...) and chatocr.extract.Extractor
from chatocr.api import ocr
from chatocr.document import Document, Line, Page
from chatocr.errors import ChatOCRError
from chatocr.options import Options

__version__ = "0.1.0"

__all__ = ["ChatOCRError", "Document", "Line", "Options", "Page", "__version__", "extract", "ocr"]

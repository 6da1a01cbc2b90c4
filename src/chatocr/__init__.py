"""chatocr: read a document and answer the fields you ask for as grounded, validated JSON.

``chatocr.ocr(...)`` and ``chatocr.extract(...)`` are plain typed functions
(:mod:`chatocr.api`).  The extraction package keeps its name: ``from chatocr.extract import
Extractor`` and ``from chatocr.extract.extractor import ...`` import it as usual.  It is
imported below *before* the function is bound, because importing a submodule for the first
time sets it as an attribute of its parent package; once it is in ``sys.modules`` later
imports leave the attribute alone, so ``chatocr.extract`` stays the function.
"""

from __future__ import annotations

import importlib

importlib.import_module("chatocr.extract")  # first, so that the function below is not replaced by it

from chatocr.api import extract as extract  # noqa: E402
from chatocr.api import ocr as ocr  # noqa: E402
from chatocr.document import Document, Line, Page  # noqa: E402
from chatocr.errors import ChatOCRError  # noqa: E402
from chatocr.options import Options  # noqa: E402
from chatocr.result import ExtractionResult, FieldResult  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ChatOCRError", "Document", "ExtractionResult", "FieldResult", "Line", "Options", "Page", "__version__",
    "extract", "ocr",
]  # fmt: skip

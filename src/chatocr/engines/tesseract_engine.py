"""Optional engine: Tesseract through tesserocr, with the system's tessdata (Debian: tesseract-ocr-eng, -chi-sim).

Install with ``pip install 'chatocr[tesseract]'``.  The module always imports, so the engine is
always listed; a missing ``tesserocr`` or language file is reported when the engine is created.
"""

from __future__ import annotations

import glob
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from chatocr.document import Line, box_from_rect
from chatocr.engines.base import ENGINES, OcrEngine
from chatocr.errors import EngineError, MissingDependencyError
from chatocr.options import OcrOptions

_INSTALL_HINT = "pip install 'chatocr[tesseract]' (needs Debian's libtesseract-dev and pkg-config to build)"
_TESSDATA_HINT = "apt-get install tesseract-ocr-eng tesseract-ocr-chi-sim, or set TESSDATA_PREFIX"

# Where Debian/Ubuntu, Homebrew and source builds put the language files.
_TESSDATA_CANDIDATES = [
    "/usr/share/tesseract-ocr/*/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
]


def find_tessdata(languages: list[str]) -> Path:
    """The first tessdata folder holding every requested language, TESSDATA_PREFIX first."""
    candidates: list[Path] = []
    if os.environ.get("TESSDATA_PREFIX"):
        prefix = Path(os.environ["TESSDATA_PREFIX"])
        candidates += [prefix, prefix / "tessdata"]
    for pattern in _TESSDATA_CANDIDATES:
        candidates += [Path(p) for p in sorted(glob.glob(pattern), reverse=True)]
    for folder in candidates:
        if all((folder / f"{lang}.traineddata").is_file() for lang in languages):
            return folder
    searched = ", ".join(str(c) for c in candidates) or "none"
    raise MissingDependencyError(
        f"no tessdata folder holds every language in {languages} (searched: {searched})", hint=_TESSDATA_HINT
    )


class TesseractEngine(OcrEngine):
    name = "tesseract"

    def __init__(self, options: OcrOptions | None = None) -> None:
        try:
            import tesserocr
        except ImportError as exc:
            raise MissingDependencyError(
                "the tesseract engine needs the 'tesserocr' package", hint=_INSTALL_HINT
            ) from exc
        self._tesserocr = tesserocr
        languages = list(options.languages) if options else ["eng"]
        if not languages:
            raise MissingDependencyError("the tesseract engine needs at least one language", hint="set ocr.languages")
        self._tessdata = find_tessdata(languages)
        self._lang = "+".join(languages)
        try:
            # tesserocr wants the folder with a trailing separator; one API object is reused for every page.
            self._api = tesserocr.PyTessBaseAPI(path=str(self._tessdata) + os.sep, lang=self._lang)
        except RuntimeError as exc:
            raise EngineError(f"tesseract failed to start with languages {self._lang!r}: {exc}") from exc
        self._lock = threading.Lock()  # a PyTessBaseAPI handles one image at a time

    def version(self) -> str:
        first_line: str = self._tesserocr.tesseract_version().splitlines()[0]
        return f"{first_line} ({self._lang})"

    def recognize(self, image: np.ndarray) -> list[Line]:
        from PIL import Image

        tesserocr = self._tesserocr
        level = tesserocr.RIL.TEXTLINE
        lines: list[Line] = []
        with self._lock:
            try:
                self._api.SetImage(Image.fromarray(np.ascontiguousarray(image)))
                self._api.Recognize()
                iterator = self._api.GetIterator()
                for item in tesserocr.iterate_level(iterator, level):
                    text = _clean(item.GetUTF8Text(level))
                    bbox = item.BoundingBox(level)
                    if not text or bbox is None:
                        continue
                    x0, y0, x1, y1 = bbox
                    confidence = min(1.0, max(0.0, float(item.Confidence(level)) / 100.0))
                    lines.append(Line(text=text, box=box_from_rect(x0, y0, x1, y1), confidence=confidence))
            except Exception as exc:
                raise EngineError(f"tesseract failed on a page: {exc}") from exc
            finally:
                self._api.Clear()
        return lines


def _clean(text: Any) -> str:
    """One line of text: Tesseract ends lines with newlines and spaces out CJK characters."""
    if not text:
        return ""
    joined = " ".join(str(text).split())
    # "发 票 代 码" -> "发票代码": drop spaces between two CJK characters only.
    out: list[str] = []
    for i, char in enumerate(joined):
        if char == " " and 0 < i < len(joined) - 1 and _is_cjk(joined[i - 1]) and _is_cjk(joined[i + 1]):
            continue
        out.append(char)
    return "".join(out)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3000 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


@ENGINES.register("tesseract", "Tesseract via tesserocr with the system tessdata (optional extra: chatocr[tesseract])")
def _make_tesseract(options: OcrOptions | None = None) -> OcrEngine:
    return TesseractEngine(options)

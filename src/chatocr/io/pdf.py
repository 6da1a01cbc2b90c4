"""PDF pages through pypdfium2: the embedded text layer where a page has one, rendering where not.

* Text-layer pages: pdfium's characters are grouped into lines (a line ends at a line
  break, a jump to another baseline, or a gap wider than a couple of characters, like
  an OCR engine's lines) and mapped into the pixels of the page as it would be rendered.
* A page that is one scanned image is rendered at that image's native resolution, so a
  300 dpi scan is neither blurred nor blown up; other pages at ``limits.pdf_dpi``.
  Either way the long side is capped at ``limits.max_render_side``.
* Pages are rendered lazily (on first use of ``PageInput.image``) so a long PDF does not
  hold every page bitmap in memory at once.

pdfium is not thread-safe, so every call into it holds :data:`PDFIUM_LOCK`.
"""

from __future__ import annotations

import ctypes
import math
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from chatocr.document import Line, box_from_rect
from chatocr.errors import EncryptedPdfError, InputFileError, LimitExceededError, MissingDependencyError
from chatocr.io.loader import PageInput, check_document_pixels, check_pixels, to_rgb_array
from chatocr.io.pdf_budget import check_page_content
from chatocr.options import Limits

PDFIUM_LOCK = threading.RLock()

# A page counts as "one scanned image" when a single image covers this share of it.
_SCAN_COVERAGE = 0.8
# A scanned page whose text layer is this short (a stamp, a page number) is still OCRed.
_MIN_TEXT_CHARS_OVER_SCAN = 20
# A text layer with more unmapped glyphs than this share is not used (see _readable).
_MAX_UNREADABLE_SHARE = 0.3
# Form XObjects are followed this deep when counting a page's images (pypdfium2's get_objects default).
_MAX_FORM_DEPTH = 15


def _pdfium() -> Any:
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:  # pragma: no cover - core dependency
        raise MissingDependencyError("PDF support needs pypdfium2", hint="pip install pypdfium2") from exc
    return pdfium


def _open(data: bytes, name: str) -> Any:
    pdfium = _pdfium()
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # pdfium's last error is process-wide and not reset by every failure, so a bad PDF opened after
        # an encrypted one can still read "password": only a file with an /Encrypt entry is encrypted.
        if "password" in str(exc).lower() and b"/Encrypt" in data:
            raise EncryptedPdfError(
                f"{name}: the PDF is password-protected", hint="remove the password (e.g. qpdf --decrypt) and retry"
            ) from exc
        raise InputFileError(
            f"{name}: the PDF could not be opened ({exc})",
            hint="the file is probably truncated or corrupt; re-export or re-download it",
        ) from exc


@dataclass
class _Char:
    """A character's box in PDF user space (y grows upwards), where text runs along x."""

    text: str
    left: float
    bottom: float
    right: float
    top: float

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2


class _PageMapper:
    """Maps PDF user-space points to pixels of the page rendered at ``scale`` (handles /Rotate and crop boxes)."""

    def __init__(self, page: Any, width_px: int, height_px: int) -> None:
        self._raw = _pdfium().raw
        self._page = page
        self._size = (width_px, height_px)
        self._x = ctypes.c_int()
        self._y = ctypes.c_int()

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        # PageToDevice rounds to whole pixels; boxes are exported at 0.1 px, so map at 8x and divide.
        ok = self._raw.FPDF_PageToDevice(
            self._page, 0, 0, self._size[0] * 8, self._size[1] * 8, 0, x, y, self._x, self._y
        )
        if not ok:  # pragma: no cover - only fails for a null page handle
            raise InputFileError("pdfium could not map a text position onto the page")
        return self._x.value / 8.0, self._y.value / 8.0


def _page_chars(textpage: Any) -> list[_Char]:
    raw = _pdfium().raw
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    chars: list[_Char] = []
    for index in range(raw.FPDFText_CountChars(textpage)):
        code = raw.FPDFText_GetUnicode(textpage, index)
        text = chr(code) if code else ""
        if text in ("\r", "\n", "\x02") or not text:
            chars.append(_Char("\n", 0, 0, 0, 0))
            continue
        if text.isspace() or not raw.FPDFText_GetCharBox(textpage, index, left, right, bottom, top):
            chars.append(_Char(" ", 0, 0, 0, 0))
            continue
        chars.append(_Char(text, left.value, bottom.value, right.value, top.value))
    return chars


def _group_lines(chars: list[_Char], mapper: _PageMapper) -> list[Line]:
    """Group characters into engine-like lines (break at line ends, baseline jumps and wide gaps),
    grouping in user space so that /Rotate pages group the same way, then map boxes to pixels."""
    lines: list[Line] = []
    current: list[_Char] = []
    pending_space = False

    def flush() -> None:
        nonlocal current, pending_space
        text = "".join(c.text for c in current).strip()
        if text:
            visible = [c for c in current if c.text != " "]
            left, right = min(c.left for c in visible), max(c.right for c in visible)
            bottom, top = min(c.bottom for c in visible), max(c.top for c in visible)
            corners = [mapper(x, y) for x, y in ((left, bottom), (left, top), (right, bottom), (right, top))]
            xs, ys = [p[0] for p in corners], [p[1] for p in corners]
            lines.append(
                Line(text=" ".join(text.split()), box=box_from_rect(min(xs), min(ys), max(xs), max(ys)), confidence=1.0)
            )
        current, pending_space = [], False

    for char in chars:
        if char.text == "\n":
            flush()
            continue
        if char.text == " ":
            pending_space = bool(current)
            continue
        if current:
            visible = [c for c in current if c.text != " "]
            line_bottom, line_top = min(c.bottom for c in visible), max(c.top for c in visible)
            height = max(0.1, line_top - line_bottom)
            # Vertical overlap with the line so far, so that small marks (".", ",") on the baseline stay in it.
            overlap = min(line_top, char.top) - max(line_bottom, char.bottom)
            new_baseline = overlap < 0.25 * min(height, max(0.1, char.height))
            gap = char.left - visible[-1].right
            # Small marks right next to the line ("_", "-", "'") belong to it even off the baseline.
            small_mark = char.height < 0.5 * height and abs(gap) < 0.5 * height and overlap > -0.5 * height
            new_baseline = new_baseline and not small_mark
            wide_gap = gap > 2.0 * height or gap < -2.0 * height  # a jump back left is a new line too
            if new_baseline or wide_gap:
                flush()
            elif pending_space:
                current.append(_Char(" ", 0, 0, 0, 0))
        pending_space = False
        current.append(char)
    flush()
    return lines


def _readable(lines: list[Line]) -> bool:
    """False for a text layer that is mostly unmapped glyphs (fonts without a ToUnicode map give
    control or private-use characters); such a page is rendered and OCRed instead."""
    chars = [char for line in lines for char in line.text if not char.isspace()]
    unreadable = sum(1 for char in chars if char == "\ufffd" or unicodedata.category(char) in ("Cc", "Co", "Cs", "Cn"))
    return bool(chars) and unreadable <= _MAX_UNREADABLE_SHARE * len(chars)


def _scan_image_scale(page: Any, width_pt: float, height_pt: float) -> float | None:
    """Pixels per point of the page's one full-page image, or None if the page is not a single scan."""
    pdfium = _pdfium()
    images = list(page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=2))
    if len(images) != 1:
        return None
    image = images[0]
    left, bottom, right, top = image.get_bounds()
    placed_w, placed_h = right - left, top - bottom
    if placed_w <= 0 or placed_h <= 0 or placed_w * placed_h < _SCAN_COVERAGE * width_pt * height_pt:
        return None
    px_w, px_h = image.get_px_size()
    # Pixels per point by area, so an image placed turned by 90 degrees gets the same answer.
    return math.sqrt(px_w * px_h / (placed_w * placed_h)) if px_w and px_h else None


def _image_pixels(page: Any, name: str, number: int, limits: Limits) -> int:
    """Pixels of the images a page draws (image XObjects and inline images, inside forms too), read
    from their dictionaries: pdfium decodes none of them here.  Each one is held to
    ``limits.max_megapixels`` like an image file; each time an image is drawn it counts again."""
    raw = _pdfium().raw
    width, height = ctypes.c_uint(), ctypes.c_uint()
    total = 0
    # (count, get, parent, depth): the page itself, then the form objects found on it.
    pending: list[tuple[Any, Any, Any, int]] = [(raw.FPDFPage_CountObjects, raw.FPDFPage_GetObject, page, 0)]
    while pending:
        count_objects, get_object, parent, depth = pending.pop()
        for index in range(max(0, count_objects(parent))):
            obj = get_object(parent, index)
            if not obj:
                continue
            kind = raw.FPDFPageObj_GetType(obj)
            if kind == raw.FPDF_PAGEOBJ_IMAGE:
                if raw.FPDFImageObj_GetImagePixelSize(obj, width, height) and width.value and height.value:
                    check_pixels(width.value, height.value, name, limits, what=f"page {number}'s image")
                    total += width.value * height.value
            elif kind == raw.FPDF_PAGEOBJ_FORM and depth + 1 < _MAX_FORM_DEPTH:
                pending.append((raw.FPDFFormObj_CountObjects, raw.FPDFFormObj_GetObject, obj, depth + 1))
    return total


def _render_scale(page: Any, limits: Limits) -> tuple[float, str]:
    width_pt, height_pt = page.get_size()
    scan_scale = _scan_image_scale(page, width_pt, height_pt)
    scale, reason = (scan_scale, "scan") if scan_scale else (limits.pdf_dpi / 72.0, "dpi")
    longest = max(width_pt, height_pt) * scale
    if longest > limits.max_render_side:
        scale *= limits.max_render_side / longest
    # Never decode more pixels than the image limit allows.
    if width_pt * height_pt * scale * scale > limits.max_megapixels * 1e6:
        scale = math.sqrt(limits.max_megapixels * 1e6 / (width_pt * height_pt))
    return scale, reason


def count_pdf_pages(data: bytes) -> int:
    """Pages of a PDF without loading any page; 1 when pdfium cannot open it (the loader reports why)."""
    with PDFIUM_LOCK:
        try:
            return len(_pdfium().PdfDocument(data))
        except Exception:
            return 1


def load_pdf(data: bytes, name: str, limits: Limits, *, use_text_layer: bool = True) -> list[PageInput]:
    with PDFIUM_LOCK:
        pdf = _open(data, name)
        count = len(pdf)
    if count == 0:
        raise InputFileError(f"{name}: the PDF has no pages", hint="is the file truncated?")
    if count > limits.max_pages:
        raise LimitExceededError(
            f"{name}: {count} pages is over the {limits.max_pages} page limit",
            hint="raise limits.max_pages or split the PDF",
        )
    # Before pdfium parses any page's content (outside the lock: pypdf only).
    check_page_content(data, limits, name)
    with PDFIUM_LOCK:
        pages: list[PageInput] = []
        pixels = 0
        for index in range(count):
            page, image_pixels = _load_page(pdf, index, name, limits, use_text_layer)
            # Rendering a page decodes the images it draws and fills its bitmap: the larger of the two counts
            # (a scanned page once, not twice; the work is at most twice that).
            pixels += max(page.width * page.height, image_pixels)
            # Pages render lazily, so this refuses the document before any page is rendered.
            check_document_pixels(pixels, name, limits, what=f"first {index + 1} of {count} pages")
            pages.append(page)
        return pages


def _load_page(pdf: Any, index: int, name: str, limits: Limits, use_text_layer: bool) -> tuple[PageInput, int]:
    """The page (rendered lazily) and the pixels of the images it draws."""
    try:
        page = pdf[index]
        width_pt, height_pt = page.get_size()
        if width_pt <= 0 or height_pt <= 0:
            raise InputFileError(f"{name}: page {index + 1} has no area", hint="the PDF is malformed")
        image_pixels = _image_pixels(page, name, index + 1, limits)
        scale, reason = _render_scale(page, limits)
    except _pdfium().PdfiumError as exc:
        raise InputFileError(f"{name}: page {index + 1} could not be read ({exc})") from exc
    width_px, height_px = math.ceil(width_pt * scale), math.ceil(height_pt * scale)
    text_lines: list[Line] | None = None
    if use_text_layer:
        textpage = page.get_textpage()
        lines = _group_lines(_page_chars(textpage), _PageMapper(page, width_px, height_px))
        n_chars = sum(len(line.text) for line in lines)
        if lines and not (reason == "scan" and n_chars < _MIN_TEXT_CHARS_OVER_SCAN) and _readable(lines):
            text_lines = lines

    def render() -> np.ndarray:
        with PDFIUM_LOCK:
            try:
                bitmap = pdf[index].render(scale=scale)
                return to_rgb_array(bitmap.to_pil())
            except Exception as exc:
                raise InputFileError(f"{name}: page {index + 1} could not be rendered ({exc})") from exc

    meta = {"format": "PDF", "scale": scale, "render": reason, "dpi": round(scale * 72.0, 1)}
    size = (width_px, height_px)
    return PageInput(number=index + 1, text_lines=text_lines, meta=meta, render=render, size=size), image_pixels

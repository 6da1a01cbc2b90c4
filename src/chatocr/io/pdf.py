"""PDF pages through pypdfium2: text layer where present, rendering where not."""

from __future__ import annotations

import numpy as np

from chatocr.document import Line, box_from_rect
from chatocr.errors import EncryptedPdfError, InputFileError, LimitExceededError, MissingDependencyError
from chatocr.io.loader import PageInput
from chatocr.options import Limits


def _open(data: bytes, name: str):  # type: ignore[no-untyped-def]
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:  # pragma: no cover - core dependency
        raise MissingDependencyError("PDF support needs pypdfium2", hint="pip install pypdfium2") from exc
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise EncryptedPdfError(
                f"{name}: the PDF is encrypted", hint="remove the password (e.g. qpdf --decrypt) and retry"
            ) from exc
        raise InputFileError(f"{name}: the PDF could not be opened ({exc})", hint="is the file truncated?") from exc


def _text_lines(page, scale: float, height_pt: float) -> list[Line]:  # type: ignore[no-untyped-def]
    textpage = page.get_textpage()
    lines: list[Line] = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top).strip()
        if not text:
            continue
        lines.append(
            Line(
                text=" ".join(text.split()),
                box=box_from_rect(left * scale, (height_pt - top) * scale, right * scale, (height_pt - bottom) * scale),
                confidence=1.0,
            )
        )
    return lines


def load_pdf(data: bytes, name: str, limits: Limits, *, use_text_layer: bool = True) -> list[PageInput]:
    pdf = _open(data, name)
    n = len(pdf)
    if n == 0:
        raise InputFileError(f"{name}: the PDF has no pages")
    if n > limits.max_pages:
        raise LimitExceededError(f"{name}: {n} pages is over the {limits.max_pages} page limit")
    pages: list[PageInput] = []
    for index in range(n):
        page = pdf[index]
        width_pt, height_pt = page.get_size()
        scale = limits.pdf_dpi / 72.0
        longest = max(width_pt, height_pt) * scale
        if longest > limits.max_render_side:
            scale *= limits.max_render_side / longest
        bitmap = page.render(scale=scale)
        image = np.asarray(bitmap.to_pil().convert("RGB"))
        text_lines = _text_lines(page, scale, height_pt) if use_text_layer else []
        pages.append(
            PageInput(number=index + 1, image=image, text_lines=text_lines or None, meta={"scale": scale})
        )
    return pages

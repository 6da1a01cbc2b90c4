"""The OCR pipeline as named stages: load -> orient -> recognise -> order.

Each stage is a small function so the server, the batch runner and the benchmarks
can time or replace them individually.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatocr.document import Document, Page
from chatocr.engines import get_engine
from chatocr.engines import orientation as orient
from chatocr.io import PageInput, load_pages
from chatocr.io.loader import Source
from chatocr.layout import order_lines
from chatocr.options import OcrOptions

log = logging.getLogger(__name__)


@dataclass
class PageResult:
    page: Page
    image: object  # the upright RGB numpy image the boxes refer to


def stage_load(source: Source, options: OcrOptions) -> list[PageInput]:
    return load_pages(source, options.limits, pdf_text_layer=options.pdf_text_layer)


def stage_orient(page: PageInput, options: OcrOptions) -> tuple[PageInput, int]:
    """Turn a rendered/scanned page upright; text-layer pages are already upright."""
    if not options.orientation or page.text_lines or not orient.available():
        return page, 0
    degrees = orient.detect_rotation(page.image)
    if degrees:
        page = PageInput(number=page.number, image=orient.rotate_upright(page.image, degrees), meta=page.meta)
    return page, degrees


def stage_recognize(page: PageInput, options: OcrOptions) -> Page:
    if page.text_lines:
        lines, source = page.text_lines, "text_layer"
    else:
        lines, source = get_engine(options).recognize(page.image), "ocr"
    return Page(page=page.number, width=page.width, height=page.height, lines=lines, source=source)


def stage_order(page: Page) -> Page:
    page.lines = order_lines(page.lines)
    return page


def run_ocr(source: Source, options: OcrOptions, *, name: str | None = None, keep_images: bool = False):  # type: ignore[no-untyped-def]
    """Run every stage; returns the Document (and the upright page images if asked)."""
    inputs = stage_load(source, options)
    pages: list[Page] = []
    images = []
    for page_input in inputs:
        upright, degrees = stage_orient(page_input, options)
        page = stage_order(stage_recognize(upright, options))
        page.rotation = degrees
        pages.append(page)
        if keep_images:
            images.append(upright.image)
    doc = Document(file=name if name is not None else (source if isinstance(source, str) else str(source) if not isinstance(source, bytes) else None), pages=pages)
    return (doc, images) if keep_images else doc

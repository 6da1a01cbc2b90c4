"""The OCR pipeline as named stages: load -> orient -> lift seals -> recognise -> order.

Each stage is a small function so the server, the batch runner and the benchmarks
can time or replace them individually.  :func:`run_ocr` chains them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal, overload

import numpy as np

from chatocr.document import Document, Page
from chatocr.engines import ENGINES, get_engine, seals
from chatocr.engines import orientation as orient
from chatocr.io import PageInput, load_pages
from chatocr.io.loader import Source
from chatocr.layout import order_lines
from chatocr.options import OcrOptions

log = logging.getLogger(__name__)

# Called after each page with (pages done, pages in the document): long PDFs report progress.
PageHook = Callable[[int, int], None]
# Progress of one document's whole run, (fraction done in 0..1, stage), for jobs and progress bars.
ProgressCallback = Callable[[float, str], None]


def page_progress(progress: ProgressCallback, share: float = 1.0) -> PageHook:
    """A page hook that reports OCR as the first ``share`` of a document's progress."""

    def on_page(done: int, total: int) -> None:
        progress(share * done / total, f"ocr: page {done} of {total}")

    return on_page


def stage_load(source: Source, options: OcrOptions, *, name: str | None = None) -> list[PageInput]:
    """Decode the input into pages (limits enforced, PDF text layers read)."""
    return load_pages(source, options.limits, pdf_text_layer=options.pdf_text_layer, name=name)


def stage_orient(page: PageInput, options: OcrOptions) -> tuple[PageInput, int]:
    """Turn an image page upright; returns the page and the counter-clockwise turn applied.

    Text-layer pages are skipped: their text is read, not seen, and they are not rendered.
    """
    if not options.orientation or page.text_lines or not orient.available():
        return page, 0
    degrees_ccw = orient.detect_rotation(page.image)
    if degrees_ccw:
        turned = orient.rotate_upright(page.image, degrees_ccw)
        page = PageInput(number=page.number, image=turned, meta={**page.meta, "rotated_ccw": degrees_ccw})
    return page, degrees_ccw


def stage_lift_seals(page: PageInput, options: OcrOptions) -> PageInput:
    """The page with red stamps' ink replaced by paper colour, for the engine only: boxes keep their
    coordinates, and the page shown to users (``keep_images``) keeps its seals."""
    if not options.remove_seals or page.text_lines:
        return page
    cleaned, found = seals.lift_seals(page.image)
    if not found:
        return page
    log.debug("page %d: lifted %d seal(s)", page.number, len(found))
    return PageInput(number=page.number, image=cleaned, meta={**page.meta, "seals": len(found)})


def stage_recognize(page: PageInput, options: OcrOptions) -> Page:
    """Lines from the text layer when the page has one, from the OCR engine otherwise."""
    source: Literal["ocr", "text_layer"] = "text_layer" if page.text_lines else "ocr"
    lines = page.text_lines if page.text_lines else get_engine(options).recognize(page.image)
    return Page(page=page.number, width=page.width, height=page.height, lines=lines, source=source, rotation=0)


def stage_order(page: Page) -> Page:
    """Put the page's lines into reading order (rows top to bottom, left to right within a row)."""
    page.lines = order_lines(page.lines)
    return page


def document_name(source: Source, name: str | None) -> str | None:
    """Document.file: the name given, else the input path; None for anonymous bytes."""
    if name is not None:
        return name
    if isinstance(source, str | Path):
        return str(source)
    return None


@overload
def run_ocr(
    source: Source,
    options: OcrOptions,
    *,
    name: str | None = ...,
    keep_images: Literal[False] = ...,
    on_page: PageHook | None = ...,
) -> Document: ...


@overload
def run_ocr(
    source: Source,
    options: OcrOptions,
    *,
    name: str | None = ...,
    keep_images: Literal[True],
    on_page: PageHook | None = ...,
) -> tuple[Document, list[np.ndarray]]: ...


def run_ocr(
    source: Source,
    options: OcrOptions,
    *,
    name: str | None = None,
    keep_images: bool = False,
    on_page: PageHook | None = None,
) -> Document | tuple[Document, list[np.ndarray]]:
    """Run every stage; returns the Document, plus the upright page images the boxes refer to
    when ``keep_images`` (text-layer PDF pages are rendered for that).  ``on_page(done, total)``
    is called after each page."""
    ENGINES.factory(options.engine)  # an unknown engine fails here, even for text-layer PDFs that never use it
    inputs = stage_load(source, options, name=name)
    pages: list[Page] = []
    images: list[np.ndarray] = []
    for page_input in inputs:
        upright, degrees_ccw = stage_orient(page_input, options)
        page = stage_order(stage_recognize(stage_lift_seals(upright, options), options))
        page.rotation = degrees_ccw  # what orientation.rotate_upright(input image, rotation) undoes
        pages.append(page)
        if keep_images:
            images.append(upright.image)
        page_input.release()  # long PDFs: keep one rendered page in memory at a time
        if on_page is not None:
            on_page(len(pages), len(inputs))
    doc = Document(file=document_name(source, name), pages=pages)
    return (doc, images) if keep_images else doc

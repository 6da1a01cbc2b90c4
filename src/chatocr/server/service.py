"""What the routes call: spec parsing, the shared extractors, OCR and page images.

Models load once per process: the OCR engine is shared through
:func:`chatocr.engines.get_engine`, and each backend profile gets one
:class:`chatocr.extract.extractor.Extractor`, created on first use (or at start-up with
``preload``) and reused by every request (creation is serialised by a lock).  An extractor whose backend runs in this
process (no ``base_url``: llama.cpp) is used by one worker at a time, since a loaded
llama.cpp model is not safe to call from two threads; remote backends run concurrently.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from chatocr.document import Document
from chatocr.errors import LimitExceededError, MissingDependencyError, OptionsError, SpecError
from chatocr.fields.spec import Schema
from chatocr.io import detect_format
from chatocr.options import Options
from chatocr.pipeline import ProgressCallback, page_progress, run_ocr, stage_load
from chatocr.result import ExtractionResult
from chatocr.server.cancel import check_cancelled
from chatocr.server.settings import ServerSettings

log = logging.getLogger("chatocr.server")

# Longest side of the page images the server hands to the web UI (boxes stay in page pixels).
PAGE_IMAGE_MAX_SIDE = 1800


class ExtractorLike(Protocol):
    def run(
        self, source: Any, schema: Schema, name: str | None = None, progress: ProgressCallback | None = None
    ) -> ExtractionResult: ...


ExtractorFactory = Callable[[Options], ExtractorLike]


def default_extractor_factory(options: Options) -> ExtractorLike:
    try:
        from chatocr.extract.extractor import Extractor
    except ImportError as exc:
        raise MissingDependencyError("field extraction is not available in this installation") from exc
    extractor: ExtractorLike = Extractor(options)
    return extractor


def parse_spec(fields: str | None, template: str | None, schema: str | None) -> Schema:
    """Exactly one of the three multipart parts -> a Schema (SpecError otherwise)."""
    from chatocr.fields import load_schema
    from chatocr.fields.loader import parse_schema_text

    given = {k: v for k, v in {"fields": fields, "template": template, "schema": schema}.items() if v and v.strip()}
    if len(given) != 1:
        raise SpecError(
            "give exactly one of the form parts 'fields', 'template' or 'schema'"
            + (f" (got {', '.join(sorted(given))})" if given else ""),
            hint='e.g. fields="company,date,total" or template="receipt"',
        )
    if fields:
        return load_schema(fields=fields)
    if template:
        return load_schema(template=template.strip())
    assert schema is not None
    # JSON is YAML, so both are accepted; size, depth and node count are checked before and while parsing.
    data = parse_schema_text(schema, "the 'schema' part")
    if not isinstance(data, dict | list):
        raise SpecError("the 'schema' part must be a JSON/YAML object with a 'fields' list")
    return load_schema(schema=data if isinstance(data, dict) else {"fields": data})


def count_pages(data: bytes, fmt: str, at_most: int = 1_000_000) -> int:
    """Pages of a PDF or frames of a TIFF, from headers only (1 for other images); decode errors are
    left to the loader.  pdfium is opened under its lock: it is not thread-safe."""
    if fmt == "pdf":
        from chatocr.io.pdf import count_pdf_pages

        return count_pdf_pages(data)
    from chatocr.io.loader import count_image_pages

    return count_image_pages(data, fmt, at_most)


def _stop_if_cancelled(progress: ProgressCallback | None) -> ProgressCallback:
    """A progress hook that first stops the work when its request's client has gone (server/cancel.py)."""

    def hook(fraction: float, stage: str) -> None:
        check_cancelled()
        if progress is not None:
            progress(fraction, stage)

    return hook


def encode_png(image: np.ndarray, max_side: int = PAGE_IMAGE_MAX_SIDE) -> bytes:
    from PIL import Image

    img = Image.fromarray(image)
    longest = max(img.size)
    if longest > max_side:
        scale = max_side / longest
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


class ExtractionService:
    def __init__(self, settings: ServerSettings, extractor_factory: ExtractorFactory | None = None) -> None:
        from chatocr.backends import BACKENDS

        for options in settings.backends.values():
            # An unknown backend fails at start-up, not on the first request the candidates cannot settle.
            BACKENDS.factory(options.name)
        self.settings = settings
        self._factory = extractor_factory or default_extractor_factory
        self._extractors: dict[str, ExtractorLike] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._create_lock = threading.Lock()

    # -- options ---------------------------------------------------------------------------------
    def profile(self, name: str | None) -> str:
        chosen = (name or "").strip() or self.settings.default_backend
        if chosen not in self.settings.backends:
            raise OptionsError(
                f"backend {chosen!r} is not offered by this server",
                hint=f"choose one of: {', '.join(self.settings.backends)}",
            )
        return chosen

    def options(self, profile: str) -> Options:
        return Options(ocr=self.settings.ocr, backend=self.settings.backends[profile], extract=self.settings.extract)

    # -- input checks ----------------------------------------------------------------------------
    def check_upload(self, data: bytes, *, max_pages: int | None) -> str:
        """Refuse oversized, unsupported (415) or too-long uploads before any worker time is spent."""
        if len(data) > self.settings.max_upload_bytes:
            raise LimitExceededError(
                f"the upload is {len(data) / 1048576:.1f} MB,"
                f" over the server's {self.settings.max_upload_mb:g} MB limit"
            )
        if not data:
            from chatocr.errors import InputFileError

            raise InputFileError("the uploaded file is empty")
        fmt = detect_format(data)
        if max_pages is not None:
            pages = count_pages(data, fmt, at_most=max_pages + 1)  # PDF pages and TIFF frames alike
            if pages > max_pages:
                raise LimitExceededError(
                    f"the document has more than {max_pages} pages; this endpoint takes at most {max_pages}",
                    hint="submit it as a job: POST /v1/jobs",
                )
        return fmt

    # -- work (runs on worker threads) -----------------------------------------------------------
    def extractor(self, profile: str) -> tuple[ExtractorLike, threading.Lock | None]:
        with self._create_lock:
            if profile not in self._extractors:
                self._extractors[profile] = self._factory(self.options(profile))
                self._locks[profile] = threading.Lock()
        in_process = self.settings.backends[profile].base_url is None
        return self._extractors[profile], (self._locks[profile] if in_process else None)

    def extract(
        self, data: bytes, schema: Schema, profile: str, name: str | None, progress: ProgressCallback | None = None
    ) -> ExtractionResult:
        check_cancelled()
        progress = _stop_if_cancelled(progress)
        extractor, lock = self.extractor(profile)
        if lock is None:
            return extractor.run(data, schema, name=name, progress=progress)
        with lock:
            check_cancelled()  # the client may have left while this waited for the model
            return extractor.run(data, schema, name=name, progress=progress)

    def ocr(self, data: bytes, name: str | None, progress: ProgressCallback | None = None) -> Document:
        check_cancelled()
        on_page = page_progress(_stop_if_cancelled(progress))
        document: Document = run_ocr(data, self.settings.ocr, name=name or "", on_page=on_page)
        return document

    def page_images(self, data: bytes, document: Document) -> list[bytes]:
        """The upright page images the boxes refer to, as PNG.

        The pages are decoded again and turned by each page's recorded rotation, which
        reproduces exactly the images the pipeline worked on without keeping them in memory
        for the whole request.
        """
        from chatocr.engines.orientation import rotate_upright

        inputs = stage_load(data, self.settings.ocr)
        rotation = {page.page: page.rotation for page in document.pages}
        images = []
        for page_input in inputs:
            images.append(encode_png(rotate_upright(page_input.image, rotation.get(page_input.number, 0))))
            page_input.release()  # long PDFs: one rendered page in memory at a time
        return images

    def warm_up(self) -> None:
        """Load the OCR engine and the default extractor now instead of on the first request."""
        from chatocr.engines import get_engine

        get_engine(self.settings.ocr)
        try:
            self.extractor(self.settings.default_backend)
        except MissingDependencyError as exc:
            log.warning("extraction unavailable: %s", exc)

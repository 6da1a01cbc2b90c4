"""Decode images and PDFs into :class:`PageInput` objects, enforcing the limits."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from chatocr.document import Line
from chatocr.errors import EncryptedPdfError, InputFileError, LimitExceededError, UnsupportedFormatError
from chatocr.options import Limits

Source = str | Path | bytes


@dataclass
class PageInput:
    """One page ready for OCR: an RGB image and, for PDF pages with text, the text layer's lines."""

    number: int
    image: np.ndarray
    text_lines: list[Line] | None = None
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
    (b"GIF8", "gif"),
]


def detect_format(data: bytes) -> str:
    """Name the format from the bytes alone (never from the file name)."""
    head = data[:1024]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if b"%PDF-" in head:  # PDFs may carry junk before the header
        return "pdf"
    raise UnsupportedFormatError(
        "unsupported file type: not a PDF, JPEG, PNG, WebP, BMP, GIF or TIFF",
        hint="convert the document to PDF or an image",
    )


def read_source(source: Source, limits: Limits) -> tuple[bytes, str]:
    """Return (bytes, display name), refusing missing, empty and oversized files."""
    if isinstance(source, bytes | bytearray | memoryview):
        data, name = bytes(source), "<bytes>"
    else:
        path = Path(source)
        name = str(source)
        if not path.exists():
            raise InputFileError(f"{name}: no such file")
        if path.is_dir():
            raise InputFileError(f"{name}: is a directory, not a document")
        size = path.stat().st_size
        if size > limits.max_file_mb * 1e6:
            raise LimitExceededError(
                f"{name}: {size / 1e6:.1f} MB is over the {limits.max_file_mb:g} MB limit",
                hint="raise limits.max_file_mb",
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputFileError(f"{name}: cannot read ({exc.strerror})") from exc
    if not data:
        raise InputFileError(f"{name}: the file is empty")
    if len(data) > limits.max_file_mb * 1e6:
        raise LimitExceededError(f"{name}: {len(data) / 1e6:.1f} MB is over the {limits.max_file_mb:g} MB limit")
    return data, name


def load_pages(source: Source, limits: Limits | None = None, *, pdf_text_layer: str = "auto") -> list[PageInput]:
    limits = limits or Limits()
    data, name = read_source(source, limits)
    fmt = detect_format(data)
    if fmt == "pdf":
        from chatocr.io.pdf import load_pdf

        return load_pdf(data, name, limits, use_text_layer=pdf_text_layer == "auto")
    return load_image(data, name, limits)


def _check_pixels(width: int, height: int, name: str, limits: Limits) -> None:
    if width * height > limits.max_megapixels * 1e6:
        raise LimitExceededError(
            f"{name}: image of {width}x{height} ({width * height / 1e6:.0f} MP) is over the"
            f" {limits.max_megapixels:g} MP limit",
            hint="raise limits.max_megapixels if the file is trusted",
        )


def load_image(data: bytes, name: str, limits: Limits) -> list[PageInput]:
    # Pillow's own bomb guard would raise a generic warning/error; we check sizes ourselves.
    Image.MAX_IMAGE_PIXELS = None
    try:
        img = Image.open(io.BytesIO(data))
        _check_pixels(img.width, img.height, name, limits)
        n_frames = int(getattr(img, "n_frames", 1))
        if n_frames > limits.max_pages:
            raise LimitExceededError(f"{name}: {n_frames} frames is over the {limits.max_pages} page limit")
        pages = []
        for i in range(n_frames):
            img.seek(i)
            frame = ImageOps.exif_transpose(img) if i == 0 else img.copy()
            _check_pixels(frame.width, frame.height, name, limits)
            rgb = np.asarray(frame.convert("RGB"))
            pages.append(PageInput(number=i + 1, image=rgb))
            if img.format not in ("TIFF", "GIF", "WEBP"):
                break
        return pages
    except (LimitExceededError, EncryptedPdfError):
        raise
    except Exception as exc:
        raise InputFileError(f"{name}: the image could not be decoded ({exc})", hint="is the file truncated?") from exc

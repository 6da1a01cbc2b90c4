"""Decode images and PDFs into :class:`PageInput` objects, enforcing the limits.

Formats are recognised from the bytes, never from the file name.  Every size limit is
checked from the file header before any pixels are decoded, so a decompression bomb
costs a few bytes of reading, not gigabytes of memory.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, ImageFile, ImageOps

from chatocr.document import Line
from chatocr.errors import (
    ChatOCRError,
    InputFileError,
    LimitExceededError,
    MissingDependencyError,
    UnsupportedFormatError,
)
from chatocr.options import Limits

Source = str | Path | bytes

# Reads from files, streams and devices go in pieces of this size, so that a stream
# longer than limits.max_file_mb costs that much memory at most before it is refused.
_READ_CHUNK = 1 << 20


class PageInput:
    """One page ready for OCR: an RGB image (decoded or rendered on first use) and, for
    PDF pages with an embedded text layer, that layer's lines in the image's pixels."""

    def __init__(
        self,
        number: int,
        image: np.ndarray | None = None,
        text_lines: list[Line] | None = None,
        meta: dict[str, Any] | None = None,
        *,
        render: Callable[[], np.ndarray] | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        if image is None and (render is None or size is None):
            raise ValueError("PageInput needs an image, or a render callable with the (width, height) it yields")
        self.number = number
        self.text_lines = text_lines
        self.meta: dict[str, Any] = meta if meta is not None else {}
        self._image = image
        self._render = render
        if image is not None:
            self._size = (int(image.shape[1]), int(image.shape[0]))
        else:
            assert size is not None
            self._size = (int(size[0]), int(size[1]))

    @property
    def image(self) -> np.ndarray:
        """The page as an HxWx3 uint8 RGB array; PDF pages are rendered on first access."""
        if self._image is None:
            assert self._render is not None
            self._image = self._render()
            self._size = (int(self._image.shape[1]), int(self._image.shape[0]))
        return self._image

    def release(self) -> None:
        """Drop a re-renderable image so long PDFs do not hold every page in memory."""
        if self._render is not None:
            self._image = None

    @property
    def width(self) -> int:
        return self._size[0]

    @property
    def height(self) -> int:
        return self._size[1]

    def __repr__(self) -> str:
        kind = "text layer" if self.text_lines else "image"
        return f"PageInput(number={self.number}, {self.width}x{self.height}, {kind})"


_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
    (b"BM", "bmp"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
]

# Things people often pass by mistake, named so the message can say what the file is.
_KNOWN_OTHER: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "a ZIP archive (e.g. DOCX/XLSX)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
    (b"{\\rtf", "an RTF document"),
    (b"<?xml", "an XML file"),
    (b"<svg", "an SVG drawing"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
]


def detect_format(data: bytes, name: str | None = None) -> str:
    """Name the format (pdf, jpeg, png, webp, bmp, gif, tiff) from the bytes alone; ``name`` is for the message."""
    head = data[:1024]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if b"%PDF-" in head:  # PDFs may carry junk before the header
        return "pdf"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        what = "a HEIC/AVIF image"
    else:
        what = next((label for magic, label in _KNOWN_OTHER if head.lstrip().startswith(magic)), "")
        if not what and _looks_like_text(head):
            what = "a plain-text file"
    found = f" (it looks like {what})" if what else ""
    prefix = f"{name}: " if name else ""
    raise UnsupportedFormatError(
        f"{prefix}unsupported file type{found}; chatocr reads PDF, JPEG, PNG, WebP, BMP, GIF and TIFF",
        hint="convert the document to PDF or an image",
    )


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _too_big(name: str, size: int, limits: Limits, *, streamed: bool = False) -> LimitExceededError:
    amount = f"more than {limits.max_file_mb:g} MB" if streamed else f"{size / 1e6:.1f} MB"
    return LimitExceededError(
        f"{name}: {amount} is over the {limits.max_file_mb:g} MB limit",
        hint="raise limits.max_file_mb if the file is trusted",
    )


def read_stream(stream: IO[bytes], limits: Limits, name: str = "<stdin>") -> bytes:
    """Everything a stream, pipe or device holds (possibly nothing), refusing it as soon as it
    passes ``limits.max_file_mb``: at most that much is ever held in memory."""
    limit = int(limits.max_file_mb * 1e6)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_big(name, total, limits, streamed=True)
    return b"".join(chunks)


def read_source(source: Source, limits: Limits) -> tuple[bytes, str]:
    """Return (bytes, display name), refusing missing, empty and oversized files.

    Files are read in bounded pieces, never whole: ``/dev/zero`` or a named pipe reports a
    size of 0 and would otherwise be read without end.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data, name = bytes(source), "<bytes>"
    elif isinstance(source, str | Path):
        path = Path(source)
        name = str(source)
        if not path.exists():
            raise InputFileError(f"{name}: no such file", hint="check the path")
        if path.is_dir():
            raise InputFileError(f"{name}: is a directory, not a document", hint="pass the files inside it")
        size = path.stat().st_size
        if size > limits.max_file_mb * 1e6:
            raise _too_big(name, size, limits)
        try:
            with path.open("rb") as handle:
                data = read_stream(handle, limits, name)
        except OSError as exc:
            raise InputFileError(f"{name}: cannot read ({exc.strerror})", hint="check the file's permissions") from exc
    else:
        raise InputFileError(
            f"cannot read a document from a {type(source).__name__}", hint="pass a file path or the file's bytes"
        )
    if not data:
        raise InputFileError(f"{name}: the file is empty (0 bytes)", hint="was the upload or download interrupted?")
    if len(data) > limits.max_file_mb * 1e6:
        raise _too_big(name, len(data), limits)
    return data, name


def load_pages(
    source: Source, limits: Limits | None = None, *, pdf_text_layer: str = "auto", name: str | None = None
) -> list[PageInput]:
    """Every page of an image or PDF (path or bytes), as :class:`PageInput` objects.

    ``name`` is what error messages call the input (defaults to the path, or ``<bytes>``).
    """
    limits = limits or Limits.model_validate({})
    data, default_name = read_source(source, limits)
    name = name or default_name
    fmt = detect_format(data, name)
    if fmt == "pdf":
        from chatocr.io.pdf import load_pdf

        return load_pdf(data, name, limits, use_text_layer=pdf_text_layer == "auto")
    return load_image(data, name, limits)


def check_pixels(width: int, height: int, name: str, limits: Limits, what: str = "image") -> None:
    """Refuse an image (a file, a TIFF frame, an image a PDF page draws) over ``limits.max_megapixels``."""
    if width <= 0 or height <= 0:
        raise InputFileError(f"{name}: the image has no pixels ({width}x{height})")
    if width * height > limits.max_megapixels * 1e6:
        raise LimitExceededError(
            f"{name}: {what} of {width}x{height} ({width * height / 1e6:.0f} MP) is over"
            f" the {limits.max_megapixels:g} MP limit",
            hint="raise limits.max_megapixels (or --max-megapixels) if the file is trusted",
        )


def to_rgb_array(frame: Image.Image) -> np.ndarray:
    """An HxWx3 uint8 RGB array; transparency is laid on white (dark text on a transparent
    background would otherwise turn black on black) and 16-bit/float images are rescaled."""
    if frame.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(frame, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        gray = ((values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    has_alpha = frame.mode in ("RGBA", "LA", "La", "RGBa", "PA") or (frame.mode == "P" and "transparency" in frame.info)
    if has_alpha:
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(frame.convert("RGB"), dtype=np.uint8))


def _exif_upright(frame: Image.Image) -> Image.Image:
    """Apply the EXIF orientation tag (phone photos come out as shown); a broken tag is ignored."""
    try:
        return ImageOps.exif_transpose(frame)
    except (SyntaxError, ValueError, TypeError, KeyError, struct.error):
        return frame


_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF", "bmp": "BMP", "gif": "GIF", "webp": "WEBP"}


def open_image(data: bytes, fmt: str | None = None) -> Image.Image:
    """Open (read the header of) an image with Pillow's plugin for ``fmt``, decoding no pixels.

    ``Image.open`` would also apply Pillow's process-wide ``MAX_IMAGE_PIXELS`` guard, at a size
    other than ``limits.max_megapixels``; chatocr leaves that global alone (a library must not
    change it for the program that imports it) and checks its own limit from the header instead.
    """
    fmt = fmt or detect_format(data)
    plugin = _PIL_FORMATS.get(fmt)
    if plugin is None:
        raise UnsupportedFormatError(f"{fmt} is not an image format")
    if plugin not in Image.OPEN:
        Image.init()
    if plugin not in Image.OPEN:  # pragma: no cover - Pillow built without this format
        raise MissingDependencyError(f"this Pillow cannot read {plugin} images", hint="reinstall pillow")
    factory, _accept = Image.OPEN[plugin]
    image: Image.Image = factory(io.BytesIO(data), "")
    return image


def check_document_pixels(total: int, name: str, limits: Limits, what: str = "pages") -> None:
    """Refuse a document whose pages together decode to more than ``limits.max_document_megapixels``."""
    if total > limits.max_document_megapixels * 1e6:
        raise LimitExceededError(
            f"{name}: its {what} decode to {total / 1e6:.0f} MP together, over the"
            f" {limits.max_document_megapixels:g} MP per-document limit",
            hint="raise limits.max_document_megapixels or split the document",
        )


def _tiff_frame_sizes(img: Image.Image, name: str, limits: Limits) -> list[tuple[int, int]]:
    """Every frame's size, read from the frame headers only, stopping one past ``limits.max_pages``."""
    sizes: list[tuple[int, int]] = []
    while True:
        index = len(sizes)
        try:
            if index:
                img.seek(index)
        except EOFError:
            break
        if index >= limits.max_pages:
            raise LimitExceededError(
                f"{name}: more than {limits.max_pages} TIFF frames is over the {limits.max_pages} page limit",
                hint="raise limits.max_pages or split the file",
            )
        check_pixels(img.width, img.height, name, limits)
        sizes.append((img.width, img.height))
    img.seek(0)
    return sizes


def count_image_pages(data: bytes, fmt: str, at_most: int = 1_000_000) -> int:
    """Frames of a multi-page TIFF (1 for other images), from the frame headers, counting no
    further than ``at_most``; 1 when unreadable (the loader reports why)."""
    if fmt != "tiff":
        return 1
    try:
        img = open_image(data, fmt)
        count = 1
        while count < at_most:
            try:
                img.seek(count)
            except EOFError:
                break
            count += 1
        return count
    except Exception:
        return 1


class _FrameDecoder:
    """Decodes one TIFF frame at a time on demand, so a long TIFF never has every page in memory."""

    def __init__(self, img: Image.Image, name: str) -> None:
        self._img = img
        self._name = name
        self._lock = threading.Lock()

    def __call__(self, index: int) -> np.ndarray:
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self._img.seek(index)
                return to_rgb_array(_exif_upright(self._img))
            except Exception as exc:
                raise _decode_error(self._name, exc) from exc


def _decode_error(name: str, exc: Exception) -> InputFileError:
    # Pillow names its in-memory stream in messages ("<_io.BytesIO object at 0x...>"): drop it so the
    # message is the same for the same file in every process.
    reason = re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-f]+>", "", str(exc)).strip() or type(exc).__name__
    return InputFileError(
        f"{name}: the image could not be decoded ({reason})",
        hint="the file is probably truncated or corrupt; re-export or re-download it",
    )


def load_image(data: bytes, name: str, limits: Limits) -> list[PageInput]:
    """Decode an image; every frame of a multi-page TIFF is a page, other formats give one page.

    Every frame's size is checked from its header before any pixel is decoded (the image limit,
    the page limit and the per-document pixel budget); TIFF frames are then decoded one at a
    time, when the pipeline reaches them.
    """
    # A truncated file must be an error, not a half-grey page (another library may flip this).
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd EXIF/metadata; the image still loads
            img = open_image(data)
            # Opening reads only the header: the size checks below run before any pixel is decoded.
            check_pixels(img.width, img.height, name, limits)
            if img.format == "TIFF":
                sizes = _tiff_frame_sizes(img, name, limits)
                check_document_pixels(sum(w * h for w, h in sizes), name, limits, what=f"{len(sizes)} TIFF frames")
                if len(sizes) > 1:
                    decode = _FrameDecoder(img, name)
                    return [
                        PageInput(
                            number=index + 1,
                            meta={"format": "TIFF"},
                            render=functools.partial(decode, index),
                            size=_upright_size(img, index, size),
                        )
                        for index, size in enumerate(sizes)
                    ]
            frame = _exif_upright(img)
            return [PageInput(number=1, image=to_rgb_array(frame), meta={"format": img.format})]
    except ChatOCRError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own guard inside a plugin (GIF frames)
        raise LimitExceededError(f"{name}: {exc}") from exc
    except Exception as exc:
        raise _decode_error(name, exc) from exc


def _upright_size(img: Image.Image, index: int, size: tuple[int, int]) -> tuple[int, int]:
    """A frame's (width, height) after its EXIF orientation is applied (5-8 swap the sides)."""
    try:
        img.seek(index)
        orientation = img.getexif().get(0x0112, 1)
    except Exception:
        orientation = 1
    finally:
        img.seek(0)
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size

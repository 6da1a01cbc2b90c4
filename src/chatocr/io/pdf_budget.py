"""How much a PDF page's content inflates to, measured before pdfium parses it.

pdfium inflates a page's whole content stream into memory before it draws or reads a
glyph: a 4 MB file whose content inflates to 4 GB took 5 GB of memory.  Here each page's
content streams (and the form XObjects it draws, recursively) are inflated in bounded
pieces and counted; the count stops one byte past ``limits.max_pdf_page_content_mb``,
so refusing a bomb costs that many bytes of work, not the bomb's size.  Flate, LZW,
RunLength and the ASCII filters (and chains of them) are decoded here under that cap; a
stream with another filter is decoded by pypdf under its own caps.  Image XObjects are not
counted here: their pixels are checked against ``limits.max_megapixels`` (pdf.py).  Inline
images are, as pdfium decodes them while it parses the page to find where their data ends:
their declared size is read from the content and held to ``limits.max_megapixels`` here.

The structure is read with pypdf, which has its own caps for the page tree.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from chatocr.errors import LimitExceededError
from chatocr.options import Limits

# Form XObjects nested deeper than this are not followed (pdfium itself stops at a similar depth).
_MAX_FORM_DEPTH = 12
_PIECE = 1 << 20


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs a warning for every oddity it repairs; pdfium decides whether the file is usable."""
    logger = logging.getLogger("pypdf")
    disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = disabled


def _inflate(data: bytes | bytearray, cap: int) -> bytes | bytearray:
    """Inflate zlib (or raw deflate) data, returning at most ``cap`` bytes; garbage inflates to what came before it."""
    for wbits in (zlib.MAX_WBITS | 32, -zlib.MAX_WBITS):
        inflater = zlib.decompressobj(wbits)
        out = bytearray()
        try:
            pending = data
            while pending and len(out) < cap:
                out += inflater.decompress(pending, min(_PIECE, cap - len(out)))
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    break
            return out
        except zlib.error:
            if out:
                return out
    return b""


def _lzw(data: bytes | bytearray, cap: int, early_change: int = 1) -> bytearray:
    """Decode LZW data (PDF's: 9 to 12-bit codes, most significant bit first), returning at most ``cap``
    bytes; a bad code ends the data, as garbage ends a Flate stream."""
    out = bytearray()
    table: list[bytes] = []
    previous: bytes | None = None
    width, buffer, bits = 9, 0, 0
    for byte in data:
        buffer, bits = (buffer << 8) | byte, bits + 8
        while bits >= width:
            bits -= width
            code = (buffer >> bits) & ((1 << width) - 1)
            buffer &= (1 << bits) - 1
            if code == 256:
                table, previous, width = [], None, 9
                continue
            if code == 257:
                return _cut(out, cap)
            if code < 256:
                current = bytes((code,))
            elif code - 258 < len(table):
                current = table[code - 258]
            elif code - 258 == len(table) and previous is not None:
                current = previous + previous[:1]
            else:
                return _cut(out, cap)
            if previous is not None and len(table) < 4096 - 258:
                table.append(previous + current[:1])
            previous = current
            out += current
            if len(out) >= cap:
                return _cut(out, cap)
            if width < 12 and len(table) + 258 + early_change >= 1 << width:
                width += 1
    return out


def _cut(out: bytearray, cap: int) -> bytearray:
    """``out`` cut to ``cap`` bytes in place (decoded content can be the whole budget: never copied)."""
    del out[cap:]
    return out


def _run_length(data: bytes | bytearray, cap: int) -> bytearray:
    """Decode RunLength data, returning at most ``cap`` bytes."""
    out = bytearray()
    index = 0
    while index < len(data) and len(out) < cap:
        length = data[index]
        if length == 128:
            break
        if length < 128:
            out += data[index + 1 : index + 2 + length]
            index += 2 + length
        else:
            out += data[index + 1 : index + 2] * (257 - length)
            index += 2
    return _cut(out, cap)


def _ascii_decoded(data: bytes | bytearray, name: str, cap: int) -> bytes:
    # Never longer than four times their input (ASCII85's 'z'), and that input is at most the file.
    from pypdf.filters import ASCII85Decode, ASCIIHexDecode

    decoder = ASCII85Decode if name in ("/ASCII85Decode", "/A85") else ASCIIHexDecode
    return decoder.decode(bytes(data))[:cap]


_CAPPED: dict[str, Callable[[bytes | bytearray, int], bytes | bytearray]] = {
    "/FlateDecode": _inflate,
    "/Fl": _inflate,
    "/LZWDecode": _lzw,
    "/LZW": _lzw,
    "/RunLengthDecode": _run_length,
    "/RL": _run_length,
}
_ASCII = ("/ASCII85Decode", "/A85", "/ASCIIHexDecode", "/AHx")


def _early_change(parms: Any) -> int:
    try:
        return int(parms.get_object().get("/EarlyChange", 1))
    except Exception:
        return 1


def _decoded(stream: Any, cap: int) -> tuple[int, bytes | bytearray]:
    """Bytes a stream decodes to, counted up to ``cap`` (a count of ``cap`` means 'at least'), and the
    decoded bytes when they were decoded here (empty when pypdf decoded them or they were cut off)."""
    from pypdf.errors import LimitReachedError
    from pypdf.generic import ArrayObject, NameObject

    filters = stream.get("/Filter")
    if filters is None:
        filters = []
    elif isinstance(filters, NameObject) or not isinstance(filters, ArrayObject | list):
        filters = [filters]
    names = [str(f.get_object() if hasattr(f, "get_object") else f) for f in filters]
    parms = stream.get("/DecodeParms")
    parms = parms.get_object() if parms is not None else None
    raw = stream._data if hasattr(stream, "_data") else b""
    if all(name in _CAPPED or name in _ASCII for name in names):
        data: bytes | bytearray = raw
        for index, name in enumerate(names):
            if name in _ASCII:
                data = _ascii_decoded(data, name, cap)
            elif name in ("/LZWDecode", "/LZW"):
                entry = parms[index] if isinstance(parms, ArrayObject | list) and index < len(parms) else parms
                data = _lzw(data, cap, _early_change(entry) if entry is not None else 1)
            else:
                data = _CAPPED[name](data, cap)
        return min(len(data), cap), data
    try:
        data = stream.get_data()
    except LimitReachedError:
        return cap, b""
    except Exception:  # a filter pypdf cannot decode: pdfium will report the page if it cannot either
        return 0, b""
    return min(len(data), cap), data


# An inline image's dictionary: `BI /W 100 /H 50 ... ID` (pdfium decodes its data while parsing the page).
# The pattern starts with its literal so that `re` skips to each "BI"; the byte before it is checked after.
_INLINE_IMAGE = re.compile(rb"BI[\s/](.{0,4096}?)[\s/\])>]ID\s", re.S)
_DELIMITERS = frozenset(b" \t\r\n\f\0])>}")
_INLINE_WIDTH = re.compile(rb"/(?:W|Width)\s*(\d{1,12})")
_INLINE_HEIGHT = re.compile(rb"/(?:H|Height)\s*(\d{1,12})")


def _check_inline_images(content: bytes | bytearray, name: str, number: int, limits: Limits) -> None:
    from chatocr.io.loader import check_pixels

    for match in _INLINE_IMAGE.finditer(content):
        if match.start() and content[match.start() - 1] not in _DELIMITERS:
            continue
        width, height = _INLINE_WIDTH.search(match.group(1)), _INLINE_HEIGHT.search(match.group(1))
        if width and height and int(width.group(1)) and int(height.group(1)):
            check_pixels(int(width.group(1)), int(height.group(1)), name, limits, what=f"page {number}'s inline image")


def _content_streams(page: Any) -> Iterator[Any]:
    contents = page.get("/Contents")
    if contents is None:
        return
    contents = contents.get_object()
    if isinstance(contents, list):
        for item in contents:
            yield item.get_object()
    else:
        yield contents


def _forms(resources: Any, depth: int, seen: set[int]) -> Iterator[Any]:
    """The form XObjects a resources dictionary draws, and theirs, each once."""
    if resources is None or depth > _MAX_FORM_DEPTH:
        return
    xobjects = resources.get_object().get("/XObject")
    if xobjects is None:
        return
    for ref in xobjects.get_object().values():
        key = getattr(ref, "idnum", None) or id(ref)
        if key in seen:
            continue
        seen.add(key)
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Form":
            yield xobject
            yield from _forms(xobject.get("/Resources"), depth + 1, seen)


def check_page_content(data: bytes, limits: Limits, name: str) -> None:
    """Refuse the PDF if one page's content (streams and forms) inflates past the limit.

    A PDF pypdf cannot read is left to pdfium (which names the problem); the check then passes.
    """
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - a core dependency
        return
    cap = int(limits.max_pdf_page_content_mb * 1e6)
    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return  # pdfium asks for the password
            pages = list(reader.pages[: limits.max_pages])
        except Exception:
            return
        for number, page in enumerate(pages, 1):
            try:
                total = 0
                streams = [*_content_streams(page), *_forms(page.get("/Resources"), 0, set())]
                for stream in streams:
                    size, content = _decoded(stream, cap + 1 - total)
                    total += size
                    _check_inline_images(content, name, number, limits)
                    if total > cap:
                        raise LimitExceededError(
                            f"{name}: page {number}'s content inflates to more than"
                            f" {limits.max_pdf_page_content_mb:g} MB, over the per-page limit",
                            hint="raise limits.max_pdf_page_content_mb if the file is trusted",
                        )
            except LimitExceededError:
                raise
            except Exception:
                continue

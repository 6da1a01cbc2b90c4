"""Hostile and careless input (issue 14): every budget refuses with a clear error before the
expensive work, and the bound holds (time, or peak memory measured in a subprocess).

Every input is built here.  Peak memory is the high-water mark (VmHWM) of a fresh Python
process that does only the loading, so the figure is the loader's, not the test runner's.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from chatocr.batch import check_writable, csv_cell, write_csv
from chatocr.cli import _load_commands
from chatocr.cli.app import app
from chatocr.errors import (
    EncryptedPdfError,
    InputFileError,
    LimitExceededError,
    OutputFileError,
    SpecError,
    SpecLimitError,
)
from chatocr.fields import load_schema
from chatocr.fields.loader import parse_schema_text
from chatocr.fields.spec import FieldSpec
from chatocr.files import json_line
from chatocr.io import load_pages
from chatocr.io.loader import read_stream
from chatocr.options import Limits

REPO = Path(__file__).resolve().parents[1]
CHATOCR = str(Path(sys.executable).with_name("chatocr"))
runner = CliRunner()
_load_commands()


def _peak_mb(code: str, timeout: float = 120) -> tuple[float, float, str]:
    """Run ``code`` in a fresh interpreter; (peak RSS in MB, seconds, its last output line)."""
    # VmHWM (this process's own high-water mark): ru_maxrss can carry the parent's peak across fork + exec.
    wrapper = (
        "import re, time\n"
        "started = time.perf_counter()\n"
        f"{code}\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
        "print('PEAK', int(hwm) / 1024, time.perf_counter() - started)\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    _, peak, seconds = lines[-1].split()
    return float(peak), float(seconds), lines[-2] if len(lines) > 1 else ""


# -- Pillow's global guard is left alone ------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height (1-bit grey) and whose data is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_importing_chatocr_leaves_pillows_pixel_limit_and_its_loader_still_refuses_a_bomb() -> None:
    code = (
        "from PIL import Image\n"
        "before = Image.MAX_IMAGE_PIXELS\n"
        "import chatocr, chatocr.io, chatocr.io.loader, chatocr.io.pdf, chatocr.pipeline\n"
        "assert Image.MAX_IMAGE_PIXELS == before, (before, Image.MAX_IMAGE_PIXELS)\n"
        "print('unchanged', before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("unchanged ")
    bomb = _png_header(50_000, 50_000)  # 2,500 MP declared in 100 bytes
    started = time.perf_counter()
    with pytest.raises(LimitExceededError, match=r"2500 MP.*over the 180 MP limit"):
        load_pages(bomb)
    assert time.perf_counter() - started < 1.0
    assert Image.MAX_IMAGE_PIXELS is not None


def test_chatocrs_own_pixel_limit_applies_above_pillows() -> None:
    # Pillow alone refuses over 2 x 89.5 MP; chatocr's limit is its own option, in either direction.
    header = _png_header(15_000, 15_000)  # 225 MP
    with pytest.raises(LimitExceededError, match="225 MP"):
        load_pages(header)
    with pytest.raises(InputFileError) as caught:  # the limit allows it: decoding runs (and finds no pixels)
        load_pages(header, Limits(max_megapixels=300))
    assert not isinstance(caught.value, LimitExceededError)


# -- field specs --------------------------------------------------------------------------------


def test_a_hundred_thousand_field_names_are_refused_at_once() -> None:
    names = ",".join(f"field_{i}" for i in range(100_000))  # 0.9 MB
    started = time.perf_counter()
    with pytest.raises(SpecLimitError, match="100000 fields is over the 200 field limit") as caught:
        load_schema(fields=names)
    assert time.perf_counter() - started < 0.5
    assert (caught.value.exit_code, caught.value.http_status) == (15, 413)
    # Under the limit, duplicates are found in linear time.
    with pytest.raises(SpecError, match="duplicate field names: a"):
        load_schema(fields="a,b,a")


def test_field_name_length_and_control_characters_are_spec_errors() -> None:
    with pytest.raises(SpecLimitError, match="101 characters"):
        load_schema(fields="x" * 101)
    for bad in ("total\tamount", "total\x1b[31m", "a\u202eb"):
        with pytest.raises(SpecError, match="control or format characters"):
            load_schema(fields=bad)
        with pytest.raises(SpecError, match="control or format characters"):
            load_schema(schema={"fields": [{"name": bad}]})
    result = runner.invoke(app, ["extract", "x.png", "--fields", "total\tamount"])
    assert result.exit_code == 9, result.output
    assert "Traceback" not in result.output


def test_catastrophic_invalid_and_overlong_patterns_are_refused() -> None:
    with pytest.raises(SpecError, match="exponential time"):
        load_schema(schema={"fields": [{"name": "name", "pattern": "(a+)+$"}]})
    with pytest.raises(SpecError, match="exponential time"):
        load_schema(schema={"fields": [{"name": "name", "pattern": "(?:a|aa)*x"}]})
    with pytest.raises(SpecError, match="not a valid regular expression"):
        load_schema(schema={"fields": [{"name": "name", "pattern": "([A-Z"}]})
    with pytest.raises(SpecLimitError, match="over the 300 limit"):
        load_schema(schema={"fields": [{"name": "name", "pattern": "a" * 301}]})
    # The safe ways to say the same: a character class, an atomic group.
    assert load_schema(schema={"fields": [{"name": "n", "pattern": "(?>a+)+$"}]}).fields[0].matches("aaa")
    assert load_schema(schema={"fields": [{"name": "n", "pattern": "[A-Z]{2}\\d+"}]}).fields[0].matches("AB12")


def test_an_invalid_pattern_in_a_schema_file_is_exit_9_without_traceback(tmp_path: Path) -> None:
    schema = tmp_path / "s.yaml"
    schema.write_text("fields:\n  - name: total\n    pattern: '(['\n", encoding="utf-8")
    result = runner.invoke(app, ["extract", "x.png", "--schema", str(schema)])
    assert result.exit_code == 9, result.output
    assert "not a valid regular expression" in result.output and "Traceback" not in result.output


def test_pattern_matching_is_time_bounded() -> None:
    spec = FieldSpec(name="code", pattern=r"\w*\w*\w*\W")  # passes the shape check, cubic on `re`
    value = "a1" * 20_000
    started = time.perf_counter()
    assert spec.matches(value, timeout_s=0.05) is False
    assert time.perf_counter() - started < 0.5
    started = time.perf_counter()
    assert re.fullmatch(r"[a-z]*[a-z]*[a-z]*[a-z]*1", "a" * 300) is None  # what `re` costs on a 300-char line
    assert time.perf_counter() - started > 0.05


def test_unknown_normaliser_and_deep_or_big_schemas_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unknown normaliser 'no_such_normaliser'"):
        load_schema(schema={"fields": [{"name": "total", "normalize": "no_such_normaliser"}]})
    started = time.perf_counter()
    with pytest.raises(SpecLimitError, match="nested more than 16 levels"):
        parse_schema_text("[" * 100_000 + "]" * 100_000, "schema")
    block = "fields:\n" + "".join("  " * depth + "- \n" for depth in range(1, 400))
    with pytest.raises(SpecLimitError, match="nested"):
        parse_schema_text(block, "schema")
    aliases = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    with pytest.raises(SpecLimitError, match="more than 100000 values"):
        parse_schema_text(aliases, "schema")
    assert time.perf_counter() - started < 2.0
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"fields": [{"name": "n", "description": "x" * 300_000}]}), encoding="utf-8")
    with pytest.raises(SpecLimitError, match="over the 256 KiB limit"):
        load_schema(schema=str(big))
    result = runner.invoke(app, ["extract", "x.png", "--schema", str(big)])
    assert result.exit_code == 15 and "Traceback" not in result.output


# -- images and PDFs -----------------------------------------------------------------------------


def _blank_a4_tiff(pages: int) -> bytes:
    page = Image.new("1", (2480, 3508), 1)  # A4 at 300 dpi, 8.7 MP
    buffer = io.BytesIO()
    page.save(buffer, format="TIFF", compression="group4", save_all=True, append_images=[page] * (pages - 1))
    return buffer.getvalue()


@pytest.mark.slow
def test_a_long_tiff_is_decoded_one_frame_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "long.tif"
    path.write_bytes(_blank_a4_tiff(30))  # 30 x 26 MB of RGB if decoded up front
    peak, seconds, _ = _peak_mb(
        "from chatocr.io import load_pages\n"
        f"pages = load_pages({str(path)!r})\n"
        "for page in pages:\n"
        "    page.image\n"
        "    page.release()\n"
        "print(len(pages))"
    )
    assert peak < 400, f"peak {peak:.0f} MB"  # measured 169 MB for 40 and for 150 pages
    assert seconds < 60


def test_the_per_document_pixel_budget_is_checked_before_decoding() -> None:
    data = _blank_a4_tiff(12)  # 104 MP in all
    started = time.perf_counter()
    with pytest.raises(LimitExceededError, match="12 TIFF frames decode to 104 MP together, over the 50 MP"):
        load_pages(data, Limits(max_document_megapixels=50))
    assert time.perf_counter() - started < 1.0


def _pdf_with_content(content: bytes, padding_mb: int = 0) -> bytes:
    """A one-page PDF whose content stream is ``content`` plus ``padding_mb`` MB of spaces (compressed
    in pieces, so a gigabyte of content never sits in this process's memory)."""
    deflate = zlib.compressobj(9)
    stream = deflate.compress(content)
    spaces = b" " * 1_000_000
    for _ in range(padding_mb):
        stream += deflate.compress(spaces)
    stream += deflate.flush()
    return _pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(stream, b"/Filter /FlateDecode"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< " + entries + b" /Length " + str(len(data)).encode() + b" >>\nstream\n" + data + b"\nendstream"


def _pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of these numbered objects (object 1 is the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


TEXT = b"BT /F1 24 Tf 72 700 Td (Total: 12.50) Tj ET\n"


@pytest.mark.slow
def test_a_pdf_whose_content_inflates_to_a_gigabyte_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    assert [line.text for line in load_pages(_pdf_with_content(TEXT))[0].text_lines or []] == ["Total: 12.50"]
    path = tmp_path / "bomb.pdf"
    path.write_bytes(_pdf_with_content(TEXT, padding_mb=1000))  # 1 GB of content in about 1 MB
    assert path.stat().st_size < 2_000_000
    peak, seconds, last = _peak_mb(
        "from chatocr.errors import LimitExceededError\n"
        "from chatocr.io import load_pages\n"
        "try:\n"
        f"    load_pages({str(path)!r})\n"
        "except LimitExceededError as exc:\n"
        "    print('refused:', exc)"
    )
    assert "page 1's content inflates to more than 64 MB" in last
    assert peak < 500, f"peak {peak:.0f} MB"  # pdfium alone took over 1 GB per GB of content
    assert seconds < 10


def _white_bits(width: int, height: int) -> bytes:
    """Flate data of a white 1-bit image (rows of width/8 bytes), compressed in pieces."""
    deflate = zlib.compressobj(9)
    row = b"\xff" * ((width + 7) // 8)
    rows_per_piece = max(1, (1 << 22) // len(row))
    pieces = [deflate.compress(row * min(rows_per_piece, height - top)) for top in range(0, height, rows_per_piece)]
    return b"".join(pieces) + deflate.flush()


def _pdf_drawing_image(width: int, height: int, how: str = "xobject", pages: int = 1) -> bytes:
    """A PDF whose pages each draw one white width x height image over the page: an image XObject,
    an inline image (BI ... ID ... EI in the content), or an image XObject inside a form XObject."""
    data = _white_bits(width, height)
    place = b"q 595 0 0 842 0 0 cm "
    image = b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray" % (width, height)
    image += b" /BitsPerComponent 1 /Filter /FlateDecode"
    kids = " ".join(f"{3 + page} 0 R" for page in range(pages)).encode()
    first = 3 + pages  # objects after the pages: content, then the image or form
    if how == "inline":
        inline = b"BI /W %d /H %d /BPC 1 /CS /G /F /Fl ID " % (width, height) + data + b" EI"
        content, resources, extra = place + inline + b" Q", b"", []
    elif how == "form":
        form = _stream(
            place + b"/Im1 Do Q",
            b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources"
            b" << /XObject << /Im1 %d 0 R >> >>" % (first + 2),
        )
        content, resources, extra = b"/Fm1 Do", b"/Resources << /XObject << /Fm1 %d 0 R >> >>" % (first + 1), [form]
        extra.append(_stream(data, image))
    else:
        content = place + b"/Im1 Do Q"
        resources, extra = b"/Resources << /XObject << /Im1 %d 0 R >> >>" % (first + 1), [_stream(data, image)]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R " % first + resources + b" >>"
    return _pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
            *[page] * pages,
            _stream(content),
            *extra,
        ]
    )


def test_a_huge_image_inside_a_small_pdf_is_refused_before_pdfium_decodes_it(tmp_path: Path) -> None:
    paths = []
    for how in ("xobject", "inline", "form"):
        path = tmp_path / f"{how}.pdf"
        path.write_bytes(_pdf_drawing_image(30_000, 30_000, how))  # 900 MP in about 120 KB
        assert path.stat().st_size < 300_000
        paths.append(str(path))
    peak, seconds, last = _peak_mb(
        "from chatocr.errors import LimitExceededError\n"
        "from chatocr.io import load_pages\n"
        "import json\n"
        "refused = []\n"
        f"for path in {paths!r}:\n"
        "    try:\n"
        "        load_pages(path)\n"
        "    except LimitExceededError as exc:\n"
        "        refused.append(str(exc))\n"
        "print(json.dumps(refused))"
    )
    refused = json.loads(last)
    assert len(refused) == 3, refused
    for message in refused:
        assert "page 1's" in message and "image of 30000x30000 (900 MP) is over the 180 MP limit" in message
    assert "inline image" in refused[1]
    # pdfium inflates inline image data while it parses the page, to find where it ends: an 8-bit one
    # of this size (900 MB) took it to a 1.8 GB peak before any check could run.
    assert peak < 300, f"peak {peak:.0f} MB"
    assert seconds < 10
    # Under the limit, the same PDF loads (and renders once asked).
    pages = load_pages(_pdf_drawing_image(3_000, 3_000), Limits(max_megapixels=300))
    assert pages[0].meta["render"] == "scan"


def test_the_images_pdf_pages_draw_count_against_the_document_pixel_budget() -> None:
    data = _pdf_drawing_image(10_000, 10_000, pages=3)  # 100 MP drawn on each page, rendered at 12 MP
    started = time.perf_counter()
    with pytest.raises(LimitExceededError, match="first 3 of 3 pages decode to 300 MP together, over the 250 MP"):
        load_pages(data, Limits(max_document_megapixels=250))
    assert time.perf_counter() - started < 2.0
    assert len(load_pages(data, Limits(max_document_megapixels=300))) == 3
    # A scanned page counts once (the larger of its image and its rendering), not twice.
    assert len(load_pages(_pdf_drawing_image(2_480, 3_508, pages=2), Limits(max_document_megapixels=18))) == 2


def _lzw_codes(codes: list[int]) -> bytes:
    """Pack 9-bit LZW codes (most significant bit first); a multiple of 8 codes fills whole bytes."""
    packed = 0
    for code in codes:
        packed = (packed << 9) | code
    return packed.to_bytes(len(codes) * 9 // 8, "big")


def _pdf_with_lzw_content(content: bytes, padding_mb: int = 0) -> bytes:
    """A one-page PDF whose content stream is ``content`` (at most 60 bytes) plus about ``padding_mb`` MB
    of spaces, LZW-compressed: spaces as the codes 258, 259 ... 509 (each one space longer than the
    last), the table cleared before it needs 10-bit codes, so 2,286 bytes hold 257,048 spaces."""
    codes = [256, *content]
    codes += [256] * (-len(codes) % 8)
    head = _lzw_codes(codes)
    block = _lzw_codes([256, 32, *range(258, 510)] * 8)
    tail = _lzw_codes([257, 256, 256, 256, 256, 256, 256, 256])
    stream = head + block * round(padding_mb * 1e6 / 257_048) + tail
    return _pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(stream, b"/Filter /LZWDecode"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def test_lzw_content_is_held_to_the_page_content_option(tmp_path: Path) -> None:
    from pypdf import PdfReader

    from chatocr.io.pdf_budget import check_page_content

    small = _pdf_with_lzw_content(TEXT, padding_mb=1)
    # Another decoder (pypdf's) reads the same content: the test's encoder is right.
    contents = PdfReader(io.BytesIO(small)).pages[0].get_contents()
    assert contents is not None and contents.get_data().rstrip(b" ") == TEXT
    assert [line.text for line in load_pages(small)[0].text_lines or []] == ["Total: 12.50"]
    # pypdf caps LZW at 75 MB whatever the option says: 90 MB of content is under a 100 MB option.
    ninety = _pdf_with_lzw_content(TEXT, padding_mb=90)
    check_page_content(ninety, Limits(max_pdf_page_content_mb=100), "ninety.pdf")
    with pytest.raises(LimitExceededError, match="page 1's content inflates to more than 80 MB"):
        check_page_content(ninety, Limits(max_pdf_page_content_mb=80), "ninety.pdf")
    # A 500 MB bomb under a 5 MB option costs 5 MB of decoding, not pypdf's 75.
    path = tmp_path / "lzw-bomb.pdf"
    path.write_bytes(_pdf_with_lzw_content(TEXT, padding_mb=500))
    assert path.stat().st_size < 5_000_000
    peak, seconds, last = _peak_mb(
        "from chatocr.errors import LimitExceededError\n"
        "from chatocr.io import load_pages\n"
        "from chatocr.options import Limits\n"
        "try:\n"
        f"    load_pages({str(path)!r}, Limits(max_pdf_page_content_mb=5))\n"
        "except LimitExceededError as exc:\n"
        "    print('refused:', exc)"
    )
    assert "page 1's content inflates to more than 5 MB" in last
    assert peak < 120, f"peak {peak:.0f} MB"  # measured 88 MB, 0.5 s; 155 MB, 1.0 s through pypdf's cap
    assert seconds < 5


def test_reads_from_devices_and_streams_are_bounded() -> None:
    started = time.perf_counter()
    with pytest.raises(LimitExceededError, match="/dev/zero: more than 5 MB is over the 5 MB limit"):
        load_pages("/dev/zero", Limits(max_file_mb=5))
    assert time.perf_counter() - started < 2.0

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    with pytest.raises(LimitExceededError, match="<stdin>: more than 3 MB"):
        read_stream(io.BufferedReader(Endless()), Limits(max_file_mb=3))


@pytest.mark.slow
def test_chatocr_ocr_dev_zero_stops_at_the_file_limit() -> None:
    started = time.perf_counter()
    done = subprocess.run([CHATOCR, "ocr", "/dev/zero"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 6, done.stderr
    assert "more than 200 MB is over the 200 MB limit" in done.stderr and "Traceback" not in done.stderr
    record = json.loads(done.stdout)
    assert record["error"]["code"] == "limit_exceeded"
    assert time.perf_counter() - started < 60


def test_a_bad_pdf_after_an_encrypted_one_is_not_called_encrypted() -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(EncryptedPdfError):
        load_pages(buffer.getvalue())
    good = _pdf_with_content(TEXT)
    for bad in (good[: len(good) // 2], b"%PDF-1.7\n" + b"\0" * 200, good.replace(b"/Root", b"/Rooz")):
        with pytest.raises(InputFileError) as caught:
            load_pages(bad)
        assert not isinstance(caught.value, EncryptedPdfError), caught.value


def test_a_stale_password_error_from_pdfium_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    import pypdfium2

    def stale(*_args: object, **_kwargs: object) -> None:
        raise pypdfium2.PdfiumError("Failed to load document (PDFium: Incorrect password error).")

    monkeypatch.setattr(pypdfium2, "PdfDocument", stale)
    with pytest.raises(InputFileError) as caught:
        load_pages(b"%PDF-1.4\nnot really a pdf\n")
    assert not isinstance(caught.value, EncryptedPdfError)


# -- file names are data ----------------------------------------------------------------------


def test_json_lines_are_valid_utf8_for_any_file_name() -> None:
    name = os.fsdecode(b"scan-\xff-[draft].jpg")
    line = json_line({"file": name, "v": "发票"})
    line.encode("utf-8")  # strict: no lone surrogate left
    assert json.loads(line)["file"] == name and "发票" in line


def test_csv_cells_are_never_formulas(tmp_path: Path) -> None:
    assert [csv_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(1+1)", "ok", None)] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(1+1)",
        "ok",
        "",
    ]
    out = tmp_path / "r.csv"
    write_csv([{"file": os.fsdecode(b"=r\xff.png"), "fields": {"total": {"value": "@SUM(1+1)"}}}], ["total"], out)
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert rows[1] == "'=r\\xff.png,'@SUM(1+1),"


def test_an_unwritable_out_is_refused_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputFileError, match="cannot write the results here"):
        check_writable(blocker / "results.jsonl")
    (tmp_path / "doc.png").write_bytes(_png_header(10, 10))
    started = time.perf_counter()
    result = runner.invoke(
        app, ["batch", str(tmp_path / "doc.png"), "--out", str(blocker / "r.jsonl"), "--fields", "total"]
    )
    assert result.exit_code == 16, result.output
    assert "Traceback" not in result.output
    assert time.perf_counter() - started < 30


@pytest.mark.slow
def test_batch_with_non_utf8_and_bracketed_names_runs_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    broken = b"\x89PNG\r\n\x1a\n" + b"\0" * 20  # fails at decoding: no OCR needed
    for raw in (b"r\xff.png", b"[draft] r.png"):
        with open(os.fsencode(folder) + b"/" + raw, "wb") as handle:
            handle.write(broken)
    out = tmp_path / "results.jsonl"
    env = dict(os.environ, CHATOCR_PLUGINS="schema_first_backend", PYTHONPATH=str(REPO / "tests"))
    command = [CHATOCR, "batch", str(folder), "--out", str(out), "--fields", "total", "--backend", "schema-first"]
    for attempt in range(2):
        done = subprocess.run(command, capture_output=True, env=env, timeout=300)
        stderr = " ".join(done.stderr.decode("utf-8", "replace").split())  # rich wraps long lines
        assert done.returncode == 3, stderr
        assert "Traceback" not in stderr and "MarkupError" not in stderr
        assert "[draft] r.png: [input_file]" in stderr, stderr
        assert "r\\xff.png: [input_file]" in stderr, stderr
        text = out.read_bytes().decode("utf-8")  # strict UTF-8
        records = [json.loads(line) for line in text.splitlines()]
        assert sorted(r["file"] for r in records) == sorted(
            os.fsdecode(os.fsencode(folder) + b"/" + raw) for raw in (b"[draft] r.png", b"r\xff.png")
        ), attempt

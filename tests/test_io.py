"""The loader: every image format, multi-frame TIFF, EXIF orientation, PDFs (text layer, scans,
rendering, encryption), bad files and limits.  No OCR runs here."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chatocr.errors import EncryptedPdfError, InputFileError, LimitExceededError, UnsupportedFormatError
from chatocr.io import detect_format, load_pages
from chatocr.options import Limits


def _picture(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    """A small image with distinct content (so frames and orientations can be told apart)."""
    rng = np.random.default_rng(seed)
    # Flat 8x8 blocks: distinct per seed, and JPEG keeps them close to the original.
    blocks = rng.integers(0, 256, size=(-(-height // 8), -(-width // 8), 3), dtype=np.uint8)
    pixels = np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)[:height, :width]
    return Image.fromarray(np.ascontiguousarray(pixels))


def _encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _limits(**changes: object) -> Limits:
    return Limits.model_validate(changes)


LOSSLESS = ["PNG", "BMP", "TIFF", "WEBP"]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF"])
def test_each_image_format_loads_from_path_and_bytes(tmp_path: Path, fmt: str) -> None:
    original = _picture()
    extra: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    data = _encode(original, fmt, **extra)
    path = tmp_path / f"page.{fmt.lower()}"
    path.write_bytes(data)
    for source in (path, str(path), data):
        pages = load_pages(source)
        assert len(pages) == 1
        page = pages[0]
        assert (page.number, page.width, page.height) == (1, 64, 48)
        assert page.image.dtype == np.uint8 and page.image.shape == (48, 64, 3)
        assert page.text_lines is None
    expected = np.asarray(original, dtype=np.int16)
    difference = np.abs(pages[0].image.astype(np.int16) - expected).mean()
    if fmt in LOSSLESS:
        assert difference == 0
    elif fmt == "JPEG":
        assert difference < 12
    assert detect_format(data) == {"JPEG": "jpeg", "TIFF": "tiff"}.get(fmt, fmt.lower())


def test_multi_frame_tiff_gives_every_frame_as_a_page(tmp_path: Path) -> None:
    frames = [_picture(40 + 10 * i, 30, seed=i) for i in range(3)]
    path = tmp_path / "scan.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    pages = load_pages(path)
    assert [p.number for p in pages] == [1, 2, 3]
    for page, frame in zip(pages, frames, strict=True):
        assert np.array_equal(page.image, np.asarray(frame))


def test_tiff_frame_count_over_the_page_limit_is_refused() -> None:
    frames = [_picture(seed=i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    with pytest.raises(LimitExceededError, match="more than 2 TIFF frames is over the 2 page limit"):
        load_pages(buffer.getvalue(), _limits(max_pages=2))


def test_exif_orientation_of_a_phone_photo_is_applied() -> None:
    stored = _picture(80, 40)  # as the sensor stored it: landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the photo is shown portrait
    data = _encode(stored, "JPEG", exif=exif.tobytes(), quality=95)
    page = load_pages(data)[0]
    assert (page.width, page.height) == (40, 80)
    expected = np.asarray(stored.transpose(Image.Transpose.ROTATE_270), dtype=np.int16)
    assert np.abs(page.image.astype(np.int16) - expected).mean() < 40


def test_format_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    png_named_jpg = tmp_path / "photo.jpg"
    png_named_jpg.write_bytes(_encode(_picture(), "PNG"))
    assert load_pages(png_named_jpg)[0].image.shape == (48, 64, 3)

    text_named_png = tmp_path / "notes.png"
    text_named_png.write_text("these are meeting notes, not an image\n")
    with pytest.raises(UnsupportedFormatError, match="plain-text") as info:
        load_pages(text_named_png)
    assert str(text_named_png) in str(info.value)

    docx_named_pdf = tmp_path / "contract.pdf"
    docx_named_pdf.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(UnsupportedFormatError, match="ZIP archive"):
        load_pages(docx_named_pdf)


def test_zero_byte_missing_and_directory_inputs_are_input_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        load_pages(empty)
    with pytest.raises(InputFileError, match="empty"):
        load_pages(b"")
    with pytest.raises(InputFileError, match="no such file"):
        load_pages(tmp_path / "missing.png")
    with pytest.raises(InputFileError, match="directory"):
        load_pages(tmp_path)
    with pytest.raises(InputFileError, match="file path or the file's bytes"):
        load_pages(12345)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "WEBP", "GIF", "BMP"])
def test_truncated_images_are_input_errors_not_half_pages(fmt: str) -> None:
    data = _encode(_picture(200, 200), fmt)
    with pytest.raises(InputFileError, match="truncated or corrupt") as info:
        load_pages(data[: len(data) // 2])
    assert not isinstance(info.value, UnsupportedFormatError)  # the type is right, the content is broken


def test_corrupt_image_with_a_valid_signature_is_an_input_error() -> None:
    with pytest.raises(InputFileError, match="could not be decoded"):
        load_pages(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no pixel data (a bomb's header)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_from_the_header_before_decoding() -> None:
    bomb = _png_header_only(50_000, 50_000)  # 2500 MP: 7.5 GB if decoded
    started = time.perf_counter()
    with pytest.raises(LimitExceededError, match=r"2500 MP.*180 MP limit"):
        load_pages(bomb)
    assert time.perf_counter() - started < 1.0


def test_pixel_limit_is_configurable() -> None:
    data = _encode(_picture(100, 100), "PNG")
    with pytest.raises(LimitExceededError, match=r"0\.005 MP limit"):
        load_pages(data, _limits(max_megapixels=0.005))
    assert load_pages(data, _limits(max_megapixels=0.02))[0].width == 100


def test_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_encode(_picture(300, 300), "PNG"))
    assert path.stat().st_size > 2000
    with pytest.raises(LimitExceededError, match="MB limit"):
        load_pages(path, _limits(max_file_mb=0.001))
    with pytest.raises(LimitExceededError, match="MB limit"):
        load_pages(path.read_bytes(), _limits(max_file_mb=0.001))


def test_transparent_png_is_laid_on_white() -> None:
    rgba = np.zeros((20, 30, 4), dtype=np.uint8)  # fully transparent black...
    rgba[5:10, 5:25] = (0, 0, 0, 255)  # ...with an opaque black bar ("text")
    page = load_pages(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))[0]
    assert page.image[0, 0].tolist() == [255, 255, 255]
    assert page.image[7, 10].tolist() == [0, 0, 0]


def test_sixteen_bit_grayscale_is_scaled_to_eight_bits() -> None:
    values = np.tile(np.linspace(1000, 60000, 50, dtype=np.uint16), (10, 1))
    page = load_pages(_encode(Image.fromarray(values), "PNG"))[0]
    assert page.image.shape == (10, 50, 3)
    assert page.image[0, 0, 0] == 0 and page.image[0, -1, 0] == 255
    assert np.all(np.diff(page.image[0, :, 0].astype(int)) >= 0)


# --- PDF -------------------------------------------------------------------------------------------

fpdf = pytest.importorskip("fpdf", reason="fpdf2 (dev extra) makes the text-layer test PDFs")


def _text_pdf(pages: list[list[tuple[float, float, str]]], orientation: str = "P") -> bytes:
    """A PDF with a real text layer: each page is a list of (x_mm, baseline_y_mm, text)."""
    document = fpdf.FPDF(orientation=orientation, unit="mm", format="A4")
    for items in pages:
        document.add_page()
        document.set_font("helvetica", size=14)
        for x, y, text in items:
            document.text(x, y, text)
    return bytes(document.output())


def _image_pdf(images: list[Image.Image], resolution: float) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:], resolution=resolution)
    return buffer.getvalue()


def test_multi_page_text_pdf_gives_every_page_with_its_text_lines() -> None:
    data = _text_pdf(
        [[(20, 30, f"Invoice page {n}"), (20, 50, "Total: 99.50"), (140, 50, "Date 2024-01-02")] for n in (1, 2, 3)]
    )
    pages = load_pages(data)
    assert [p.number for p in pages] == [1, 2, 3]
    for number, page in enumerate(pages, start=1):
        assert page.text_lines is not None
        texts = [line.text for line in page.text_lines]
        # "Total" and "Date" share a baseline but are far apart: two lines, as an OCR engine would see them.
        assert texts == [f"Invoice page {number}", "Total: 99.50", "Date 2024-01-02"]
        # A4 at the default 200 dpi.
        assert (page.width, page.height) == (1654, 2339)
        assert page.meta["render"] == "dpi"


def test_chinese_text_layer_comes_back_as_lines(cjk_font: str) -> None:
    document = fpdf.FPDF()
    document.add_page()
    document.add_font("cjk", fname=cjk_font)
    document.set_font("cjk", size=14)
    document.text(20, 30, "发票代码：011002100611")
    document.text(20, 45, "购买方名称 北京星河科技有限公司")
    document.text(120, 45, "金额 ¥1234.50")
    page = load_pages(bytes(document.output()))[0]
    assert page.text_lines is not None
    assert [line.text for line in page.text_lines] == [
        "发票代码：011002100611",
        "购买方名称 北京星河科技有限公司",
        "金额 ¥1234.50",
    ]


def test_a_text_layer_of_unmapped_glyphs_is_not_used() -> None:
    from chatocr.document import Line, box_from_rect
    from chatocr.io.pdf import _readable

    box = box_from_rect(0, 0, 10, 10)
    assert _readable([Line(text="Invoice 发票 12.50", box=box, confidence=1.0)])
    # Fonts without a ToUnicode map come out as control or private-use characters.
    assert not _readable([Line(text="\x01\x02\x03\x04 ab", box=box, confidence=1.0)])
    assert not _readable([Line(text="\ue000\ue001\ue002\ue003 ab", box=box, confidence=1.0)])


def test_text_layer_boxes_sit_on_the_rendered_text() -> None:
    page = load_pages(_text_pdf([[(30, 40, "Grounded box check"), (30, 120, "Second line")]]))[0]
    assert page.text_lines is not None
    dark = page.image.min(axis=2) < 128
    inside = 0
    for line in page.text_lines:
        x0, y0, x1, y1 = (round(v) for v in line.bounds)
        # 30 mm from the left at 200 dpi is ~236 px.
        assert abs(x0 - 30 / 25.4 * 200) < 6
        inside += int(dark[y0 : y1 + 1, x0 : x1 + 1].sum())
    assert inside >= 0.97 * dark.sum()


def test_rotated_pdf_pages_map_text_boxes_onto_the_rotated_render() -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) sets the page rotation")
    reader = pypdf.PdfReader(io.BytesIO(_text_pdf([[(20, 30, "Rotated page text")]])))
    writer = pypdf.PdfWriter()
    for degrees in (90, 180, 270):
        writer.add_page(reader.pages[0])
        writer.pages[-1].rotate(degrees)
    buffer = io.BytesIO()
    writer.write(buffer)
    for page in load_pages(buffer.getvalue()):
        assert page.text_lines is not None and [line.text for line in page.text_lines] == ["Rotated page text"]
        dark = page.image.min(axis=2) < 128
        x0, y0, x1, y1 = (round(v) for v in page.text_lines[0].bounds)
        assert dark[y0 : y1 + 1, x0 : x1 + 1].sum() >= 0.97 * dark.sum()


def test_pdf_text_layer_can_be_ignored() -> None:
    data = _text_pdf([[(20, 30, "Rendered instead")]])
    pages = load_pages(data, pdf_text_layer="never")
    assert pages[0].text_lines is None
    assert (pages[0].image.min(axis=2) < 128).any()


def test_scanned_pdf_pages_render_at_the_scan_resolution() -> None:
    scans = [_picture(900, 1200, seed=i) for i in range(2)]
    pages = load_pages(_image_pdf(scans, resolution=150.0))
    assert len(pages) == 2
    for page, scan in zip(pages, scans, strict=True):
        assert page.text_lines is None
        assert page.meta["render"] == "scan"
        assert abs(page.width - 900) <= 1 and abs(page.height - 1200) <= 1
        rendered = page.image[:1199, :899].astype(np.int16)
        # Pillow stores the scan as JPEG: close to the original, far from the other page's scan.
        assert np.abs(rendered - np.asarray(scan)[:1199, :899]).mean() < 20
    assert np.abs(pages[0].image[:1199, :899].astype(np.int16) - np.asarray(scans[1])[:1199, :899]).mean() > 50


def test_a_300_dpi_scan_is_not_downsampled_to_the_200_dpi_default() -> None:
    page = load_pages(_image_pdf([_picture(900, 1200)], resolution=300.0))[0]
    assert page.meta["render"] == "scan" and round(page.meta["dpi"]) == 300
    assert abs(page.width - 900) <= 1 and abs(page.height - 1200) <= 1


def test_render_side_cap_and_dpi_are_configurable() -> None:
    data = _text_pdf([[(20, 30, "Capped")]])
    capped = load_pages(data, _limits(max_render_side=1000))[0]
    assert max(capped.width, capped.height) <= 1000
    assert capped.image.shape[:2] == (capped.height, capped.width)
    low = load_pages(data, _limits(pdf_dpi=72))[0]
    assert (low.width, low.height) == (596, 842)


def test_pdf_page_count_limit() -> None:
    data = _text_pdf([[(20, 30, "x")]] * 3)
    with pytest.raises(LimitExceededError, match="3 pages is over the 2 page limit"):
        load_pages(data, _limits(max_pages=2))


def test_encrypted_pdf_is_refused_with_a_clear_error() -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) encrypts the test PDF")
    writer = pypdf.PdfWriter()
    writer.append(pypdf.PdfReader(io.BytesIO(_text_pdf([[(20, 30, "secret")]]))))
    writer.encrypt("s3cret")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(EncryptedPdfError, match="password") as info:
        load_pages(buffer.getvalue())
    assert info.value.exit_code == 5 and info.value.hint and "qpdf" in info.value.hint


def test_truncated_pdf_is_an_input_error() -> None:
    data = _text_pdf([[(20, 30, "cut short")]])
    with pytest.raises(InputFileError):
        pages = load_pages(data[:200])
        _ = [p.image for p in pages]


def test_pdf_pages_render_lazily_and_can_be_released() -> None:
    page = load_pages(_text_pdf([[(20, 30, "lazy")]]))[0]
    assert page._image is None  # nothing rendered yet: long PDFs do not sit in memory
    first = page.image
    page.release()
    assert page._image is None
    assert np.array_equal(page.image, first)


def test_shared_benchmark_pdf_has_a_text_layer(kleister_dir: Path) -> None:
    pdf = sorted((kleister_dir / "images").glob("*.pdf"))[0]
    pages = load_pages(pdf)
    assert len(pages) >= 1
    assert all(p.text_lines for p in pages)
    words = " ".join(line.text for p in pages for line in p.text_lines or []).lower()
    assert "agreement" in words

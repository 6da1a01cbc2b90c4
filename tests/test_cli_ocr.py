"""`chatocr ocr`: the JSON Lines shape, per-file failures, text/layout formats, and a clean stdout."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from rapidfuzz import fuzz
from typer.testing import CliRunner

from chatocr.cli import _load_commands
from chatocr.cli.app import app
from chatocr.document import Line, box_from_rect
from chatocr.engines import ENGINES, OcrEngine, clear_engine_cache
from chatocr.errors import UnsupportedFormatError

_load_commands()
runner = CliRunner()
CHATOCR = Path(sys.executable).with_name("chatocr")


class WordsEngine(OcrEngine):
    """Answers a fixed two-column form, so output formats can be checked without a real model."""

    name = "words"

    def __init__(self, options: Any = None) -> None:
        pass

    def recognize(self, image: np.ndarray) -> list[Line]:
        return [
            Line(text="Total", box=box_from_rect(10, 50, 60, 62), confidence=0.9),
            Line(text="Name", box=box_from_rect(10, 10, 60, 22), confidence=0.9),
            Line(text="12.50", box=box_from_rect(200, 51, 250, 63), confidence=0.8),
            Line(text="Alice", box=box_from_rect(200, 10, 250, 22), confidence=0.8),
        ]


@pytest.fixture
def words_engine() -> Iterator[str]:
    ENGINES.register("words", "test engine")(WordsEngine)
    clear_engine_cache()
    yield "words"
    ENGINES.unregister("words")
    clear_engine_cache()


def _write_png(path: Path, size: tuple[int, int] = (300, 100)) -> Path:
    Image.new("RGB", size, "white").save(path, format="PNG")
    return path


def _check_page_record(record: dict[str, Any]) -> None:
    """The exact `chatocr ocr --format json` shape."""
    assert set(record) == {"file", "pages"} and isinstance(record["file"], str)
    assert record["pages"], record
    for number, page in enumerate(record["pages"], start=1):
        assert set(page) == {"page", "width", "height", "lines"}
        assert page["page"] == number
        assert isinstance(page["width"], int) and isinstance(page["height"], int)
        for line in page["lines"]:
            assert set(line) == {"text", "box", "confidence"}
            assert isinstance(line["text"], str) and line["text"]
            assert len(line["box"]) == 4 and all(len(point) == 2 for point in line["box"])
            assert all(isinstance(v, int | float) for point in line["box"] for v in point)
            assert isinstance(line["confidence"], float) and 0.0 <= line["confidence"] <= 1.0


def test_json_lines_one_record_per_file_and_failures_do_not_stop_the_rest(tmp_path: Path, words_engine: str) -> None:
    good = _write_png(tmp_path / "good.png")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    also_good = _write_png(tmp_path / "also_good.png")
    result = runner.invoke(app, ["ocr", str(good), str(bad), str(also_good), "--engine", words_engine])
    assert result.exit_code == UnsupportedFormatError.exit_code  # the first failure's code, at the end
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(good), str(bad), str(also_good)]
    _check_page_record(records[0])
    _check_page_record(records[2])
    assert records[1] == {
        "file": str(bad),
        "error": {"code": "unsupported_format", "message": records[1]["error"]["message"]},
    }
    assert str(bad) in records[1]["error"]["message"]
    # Reading order: rows top to bottom, left to right.
    assert [line["text"] for line in records[0]["pages"][0]["lines"]] == ["Name", "Alice", "Total", "12.50"]
    assert "[unsupported_format]" in result.stderr


def test_text_and_layout_formats(tmp_path: Path, words_engine: str) -> None:
    image = _write_png(tmp_path / "form.png")
    text = runner.invoke(app, ["ocr", str(image), "--engine", words_engine, "--format", "text"])
    assert text.exit_code == 0
    assert text.stdout == "Name\nAlice\nTotal\n12.50\n"
    layout = runner.invoke(app, ["ocr", str(image), "--engine", words_engine, "-f", "layout"])
    assert layout.exit_code == 0
    rows = layout.stdout.splitlines()
    assert len(rows) == 2
    assert rows[0].split() == ["Name", "Alice"] and rows[1].split() == ["Total", "12.50"]
    assert rows[0].index("Alice") == rows[1].index("12.50")  # the value column stays aligned
    several = runner.invoke(app, ["ocr", str(image), str(image), "--engine", words_engine, "-f", "text"])
    assert several.stdout.count(f"==> {image} <==") == 2


def test_every_pdf_page_is_a_page_record(tmp_path: Path) -> None:
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (dev extra) makes the test PDF")
    document = fpdf.FPDF()
    for number in (1, 2, 3):
        document.add_page()
        document.set_font("helvetica", size=14)
        document.text(20, 30, f"Page number {number}")
    path = tmp_path / "three.pdf"
    path.write_bytes(bytes(document.output()))
    result = runner.invoke(app, ["ocr", str(path)])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    _check_page_record(record)
    assert [[line["text"] for line in page["lines"]] for page in record["pages"]] == [
        ["Page number 1"],
        ["Page number 2"],
        ["Page number 3"],
    ]


def _assert_reads(record: dict[str, Any], expected: list[str]) -> None:
    """The page's lines are the expected ones, in order (spacing and case aside, near-exact)."""
    found = [line["text"] for line in record["pages"][0]["lines"]]
    assert len(found) == len(expected), found
    for text, want in zip(found, expected, strict=True):
        assert fuzz.ratio(text.replace(" ", "").lower(), want.replace(" ", "").lower()) >= 85, found


@pytest.mark.slow
def test_real_command_keeps_stdout_pure_json_lines(tmp_path: Path, render_text: Any) -> None:
    """The installed command with the real default engine: stdout is JSON Lines only, logs and
    progress go to stderr, and the exit code reports the failed file."""
    if not CHATOCR.exists():
        pytest.skip(f"{CHATOCR} is not installed")
    receipt = tmp_path / "receipt.png"
    Image.fromarray(render_text(["COFFEE HOUSE", "Latte 4.50", "TOTAL 4.50"], size=30)).save(receipt)
    rotated = tmp_path / "rotated.jpg"
    photo = Image.fromarray(render_text(["SIDEWAYS PHOTO", "Line two here", "Third line 42"], size=30))
    photo.rotate(90, expand=True).save(rotated, quality=95)
    truncated = tmp_path / "truncated.jpg"
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG")
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    env = {**os.environ, "COLUMNS": "100"}
    proc = subprocess.run(
        [str(CHATOCR), "ocr", str(receipt), str(truncated), str(rotated)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 3, proc.stderr  # InputFileError for the truncated file
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]  # every stdout line is one JSON object
    _check_page_record(records[0])
    _assert_reads(records[0], ["COFFEE HOUSE", "Latte 4.50", "TOTAL 4.50"])
    assert records[1]["error"]["code"] == "input_file" and "truncated" in records[1]["error"]["message"]
    _check_page_record(records[2])
    # The photo was saved turned 90 degrees; orientation turns it back, so the lines read normally.
    _assert_reads(records[2], ["SIDEWAYS PHOTO", "Line two here", "Third line 42"])
    assert "INFO" not in proc.stderr and "Traceback" not in proc.stderr
    assert "[input_file]" in proc.stderr


def test_a_document_can_come_on_stdin(tmp_path: Path, words_engine: str) -> None:
    data = _write_png(tmp_path / "in.png").read_bytes()
    result = runner.invoke(app, ["ocr", "-", "--engine", words_engine], input=data)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    _check_page_record(record)
    assert record["file"] == "-" and record["pages"][0]["width"] == 300

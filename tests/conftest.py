"""Shared fixtures.

* ``benchmarks_dir`` / ``sroie_dir`` / ``wildreceipt_dir`` / ``funsd_dir`` / ``kleister_dir``: the public
  benchmark subsets.  They live beside the checkout (``<repo>/../shared/benchmarks``; CI runs on a
  clean clone in the same place) or wherever ``CHATOCR_BENCHMARKS`` points; tests that need them
  skip with a clear reason when they are absent.
* ``rapidocr_engine``: one RapidOCR engine for the whole session (models load once).
* ``render_text``: draws lines of text (Chinese or English) into an RGB image with PIL;
  ``cjk_font``: the path of an installed CJK font.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parents[1]

# Fonts from Debian packages (fonts-noto-cjk, fonts-wqy-*, fonts-dejavu-core); the first present wins.
CJK_FONTS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
]
LATIN_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    *CJK_FONTS,
]


def benchmarks_root() -> Path:
    """Where the benchmark subsets are: $CHATOCR_BENCHMARKS, else ../shared/benchmarks beside the repo."""
    override = os.environ.get("CHATOCR_BENCHMARKS")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "benchmarks"


def _dataset(name: str) -> Path:
    folder = benchmarks_root() / name
    if not (folder / "images").is_dir():
        pytest.skip(f"benchmark data {folder} is absent (set CHATOCR_BENCHMARKS to the benchmarks folder)")
    return folder


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    root = benchmarks_root()
    if not root.is_dir():
        pytest.skip(f"benchmark data {root} is absent (set CHATOCR_BENCHMARKS to the benchmarks folder)")
    return root


@pytest.fixture(scope="session")
def sroie_dir() -> Path:
    return _dataset("sroie")


@pytest.fixture(scope="session")
def wildreceipt_dir() -> Path:
    return _dataset("wildreceipt")


@pytest.fixture(scope="session")
def funsd_dir() -> Path:
    return _dataset("funsd")


@pytest.fixture(scope="session")
def kleister_dir() -> Path:
    return _dataset("kleister_nda")


@pytest.fixture(scope="session")
def rapidocr_engine():  # type: ignore[no-untyped-def]
    """The default engine, created once per test session through the registry."""
    from chatocr.engines import get_engine
    from chatocr.options import Options

    return get_engine(Options.create().ocr)


def find_font(cjk: bool = False) -> str | None:
    for path in CJK_FONTS if cjk else LATIN_FONTS:
        if Path(path).is_file():
            return path
    return None


@pytest.fixture(scope="session")
def cjk_font() -> str:
    """Path of an installed CJK font file (skips when none is installed)."""
    path = find_font(cjk=True)
    if path is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    return path


TextRenderer = Callable[..., np.ndarray]


def _render_text(
    lines: Sequence[str],
    *,
    size: int = 28,
    width: int | None = None,
    margin: int = 30,
    spacing: float = 1.8,
    cjk: bool | None = None,
    positions: Sequence[tuple[int, int]] | None = None,
    canvas: tuple[int, int] | None = None,
) -> np.ndarray:
    """Black text on white, one entry per line (or at explicit ``positions``); returns HxWx3 uint8 RGB."""
    needs_cjk = any(ord(ch) > 0x2E80 for line in lines for ch in line) if cjk is None else cjk
    font_path = find_font(needs_cjk)
    if font_path is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)" if needs_cjk else "no TrueType font")
    font = ImageFont.truetype(font_path, size)
    if positions is None:
        step = int(size * spacing)
        positions = [(margin, margin + i * step) for i in range(len(lines))]
    if canvas is None:
        text_right = max(x + int(font.getlength(line)) for (x, _), line in zip(positions, lines, strict=True))
        canvas = (width or text_right + margin, max(y for _, y in positions) + size + margin)
    image = Image.new("RGB", canvas, "white")
    draw = ImageDraw.Draw(image)
    for (x, y), line in zip(positions, lines, strict=True):
        draw.text((x, y), line, font=font, fill="black")
    return np.asarray(image)


@pytest.fixture(scope="session")
def render_text() -> TextRenderer:
    """``render_text(["line one", "第二行"], size=28)`` -> RGB numpy image (skips when no font is installed)."""
    return _render_text

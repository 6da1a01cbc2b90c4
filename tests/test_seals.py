"""Red seals: found on stamped pages, not on red logos or brown backgrounds; text under them survives."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw

from chatocr.engines.seals import find_seals, lift_seals
from chatocr.options import OcrOptions
from chatocr.pipeline import run_ocr
from drawing import text_font

PAPER = (246, 241, 228)
SEAL_RED = (214, 52, 48)


def stamped_page(*, with_seal: bool = True) -> Image.Image:
    """A certificate number in black, with a red stamp (ring, inner ring, star, ink) over its last digits."""
    page = Image.new("RGB", (1400, 700), PAPER)
    draw = ImageDraw.Draw(page)
    draw.text((120, 300), "No. 201699122138", fill=(20, 20, 20), font=text_font(56))
    if with_seal:
        # Stamp ink absorbs light like any ink: multiplied over the page, black text stays black.
        ink = Image.new("RGB", page.size, (255, 255, 255))
        seal = ImageDraw.Draw(ink)
        cx, cy, r = 640, 330, 150
        seal.ellipse((cx - r, cy - r, cx + r, cy + r), outline=SEAL_RED, width=12)
        seal.ellipse((cx - r + 24, cy - r + 24, cx + r - 24, cy + r - 24), outline=SEAL_RED, width=3)
        seal.regular_polygon((cx, cy, 40), 5, fill=SEAL_RED)
        seal.text((cx - 110, cy - 110), "SEAL SEAL", fill=SEAL_RED, font=text_font(40))
        page = ImageChops.multiply(page, ink)
    return page


def test_a_stamp_is_found_and_its_ink_lifted_while_black_text_stays() -> None:
    image = np.asarray(stamped_page())
    seals = find_seals(image)
    assert len(seals) == 1
    seal = seals[0]
    assert seal.x0 <= 490 <= 790 <= seal.x1 and seal.y0 <= 180 <= 480 <= seal.y1
    cleaned, found = lift_seals(image)
    assert found == seals
    region = cleaned[seal.y0 : seal.y1, seal.x0 : seal.x1].astype(int)
    still_red = (region[..., 0] - region[..., 1] > 50) & (region[..., 0] > 120)
    assert still_red.mean() < 0.002
    dark_before = (image.max(axis=-1) < 90).sum()
    dark_after = (cleaned.max(axis=-1) < 90).sum()
    assert dark_after >= 0.9 * dark_before  # the black digits under the stamp are kept
    # Outside the stamp nothing changes.
    outside = np.ones(image.shape[:2], bool)
    outside[seal.y0 : seal.y1, seal.x0 : seal.x1] = False
    assert np.array_equal(cleaned[outside], image[outside])


@pytest.mark.parametrize(
    "draw_it",
    [
        # A red title (words, and round capitals with nothing inside): not a stamp.
        lambda d: d.text((300, 40), "CERTIFICATE OOO", fill=SEAL_RED, font=text_font(90)),
        # A circled red number: a rim with nothing inside.
        lambda d: d.ellipse((900, 350, 1150, 600), outline=SEAL_RED, width=14),
        # A solid brown blob: a wooden table or a finger behind a photographed receipt.
        lambda d: d.ellipse((900, 350, 1150, 600), fill=(150, 90, 50)),
        # A solid red disc: a logo, not hollow like a stamp.
        lambda d: d.ellipse((900, 350, 1150, 600), fill=SEAL_RED),
    ],
)
def test_red_logos_titles_and_brown_backgrounds_are_not_stamps(draw_it) -> None:  # type: ignore[no-untyped-def]
    page = stamped_page(with_seal=False)
    draw_it(ImageDraw.Draw(page))
    image = np.asarray(page)
    assert find_seals(image) == []
    cleaned, _ = lift_seals(image)
    assert cleaned is image


@pytest.mark.slow
def test_the_engine_reads_the_number_and_not_the_stamp(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "stamped.png"
    stamped_page().save(path)
    lifted = [line.text for line in run_ocr(str(path), OcrOptions()).pages[0].lines]
    assert "201699122138" in "".join(lifted).replace(" ", "")
    assert not any("SEAL" in text for text in lifted)
    # With the stage switched off the engine reads the stamp's own text as a line of the page.
    kept = [line.text for line in run_ocr(str(path), OcrOptions(remove_seals=False)).pages[0].lines]
    assert any("SEAL" in text for text in kept)

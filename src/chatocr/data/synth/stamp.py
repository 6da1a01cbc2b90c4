"""Red seals (公章): a ring, the organisation's name on an arc, a star, an optional bottom line.

The seal is drawn as an ink mask and multiplied onto the page, so text under it stays
visible through the red ink the way it does on a real stamped document.
"""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from chatocr.data.synth import fonts

SEAL_RED = (214, 38, 38)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=255)


def seal_mask(
    text: str, bottom: str, diameter: int, face: fonts.Face, rng: random.Random, oval: bool = False
) -> Image.Image:
    """An 'L' mask (255 = ink) of a round seal; ``oval`` squeezes it into an invoice-seal ellipse."""
    size = diameter
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    ring = max(3, size // 28)
    draw.ellipse((ring, ring, size - ring, size - ring), outline=255, width=ring)
    _star(draw, size / 2, size / 2, size * 0.16)
    # Characters along the upper arc, each turned to face the centre.
    chars = list(text)
    char_size = int(size * (0.15 if len(chars) <= 12 else 0.12))
    font = fonts.load(face, char_size)
    span = math.radians(min(250, 24 * len(chars) + 40))
    radius = size / 2 - ring - char_size * 0.75
    for i, ch in enumerate(chars):
        t = 0.5 if len(chars) == 1 else i / (len(chars) - 1)
        angle = -math.pi / 2 - span / 2 + span * t
        glyph = Image.new("L", (char_size * 2, char_size * 2), 0)
        ImageDraw.Draw(glyph).text((char_size, char_size), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        gx = size / 2 + radius * math.cos(angle) - char_size
        gy = size / 2 + radius * math.sin(angle) - char_size
        mask.paste(255, (int(gx), int(gy)), glyph)
    if bottom:
        bottom_font = fonts.load(face, int(size * 0.1))
        draw.text((size / 2, size * 0.76), bottom, font=bottom_font, fill=255, anchor="mm")
    if oval:
        mask = mask.resize((int(size * 1.45), size), Image.Resampling.BICUBIC)
    # Uneven ink: knock out specks and soften edges so it looks pressed, not printed.
    arr = np.asarray(mask, dtype=np.float32) / 255.0
    gen = np.random.default_rng(rng.randrange(2**32))
    speckle = gen.random(arr.shape, dtype=np.float32)
    arr = arr * np.where(speckle < 0.12, 0.35, 1.0) * rng.uniform(0.75, 0.95)
    out = Image.fromarray((arr * 255).astype(np.uint8), "L")
    return out.filter(ImageFilter.GaussianBlur(0.8)).rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC)


def apply_seal(
    page: Image.Image, mask: Image.Image, center: tuple[float, float], color: tuple[int, int, int] = SEAL_RED
) -> None:
    """Multiply red ink onto ``page`` in place, centred at ``center``."""
    x0 = int(center[0] - mask.width / 2)
    y0 = int(center[1] - mask.height / 2)
    box = (max(0, x0), max(0, y0), min(page.width, x0 + mask.width), min(page.height, y0 + mask.height))
    if box[2] <= box[0] or box[3] <= box[1]:
        return
    region = np.asarray(page.crop(box), dtype=np.float32)
    alpha = np.asarray(mask.crop((box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)), dtype=np.float32)[..., None]
    alpha /= 255.0
    ink = np.array(color, dtype=np.float32) / 255.0
    blended = region * (1 - alpha + alpha * ink)
    page.paste(Image.fromarray(blended.clip(0, 255).astype(np.uint8), "RGB"), box[:2])

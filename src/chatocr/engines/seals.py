"""Red seals (印章): find them and lift their ink off the page before recognition.

Chinese certificates, invoices and licences carry a red stamp, often printed over the text
that matters (the issuer's name, the last digits of a certificate number).  The detector and
recogniser then read the seal's ring and characters as part of the text line, or cut the line
where the seal starts.  Inside each seal's box, pixels whose colour is clearly red are
replaced by the surrounding paper colour; black text under the seal is darker than the ink
and stays.  Outside seal boxes nothing changes, so red-brown printed labels elsewhere (the
form lines of a VAT invoice) are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A seal is a large, compact blob of red: at least this share of the page's short side (stamps
# measured 18-22% on certificates and invoices; a big red capital in a title is under 10%) ...
MIN_SEAL_SIDE = 0.1
# ... at most this share (a red banner or a red page is not a seal) ...
MAX_SEAL_SIDE = 0.6
# ... roughly round or oval ...
MAX_ASPECT = 2.2
# ... and with this share of its box inked (a ring with characters and a star; a thin red
# rule line has a long thin box instead, a stray red word too little area).
MIN_INK_SHARE = 0.06
# A stamp is hollow: a solid red blob (a finger, a wooden table behind a photographed receipt)
# inks most of its box.
MAX_INK_SHARE = 0.5
# A stamp has a border: going round the ellipse inscribed in its box, the rim is inked at
# nearly every angle.  A red logo or a red title is not.
MIN_RING_COVERAGE = 0.75
# ... and something inside the rim (a star, the issuer's name, 发票专用章); a red "O" or "C" is empty.
MIN_INNER_INK = 0.04


@dataclass(frozen=True)
class Seal:
    x0: int
    y0: int
    x1: int
    y1: int


def red_mask(image: np.ndarray) -> np.ndarray:
    """Pixels whose colour is clearly red or pink (seal ink and its anti-aliased edges)."""
    rgb = image.astype(np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r > 120) & (r - g > 50) & (r - b > 40)


def _dark(rgb: np.ndarray) -> np.ndarray:
    """Pixels dark enough to be text printed under the seal (kept when the ink around them goes)."""
    return rgb.max(axis=-1) < 110


def _seal_red(region: np.ndarray, ink: np.ndarray) -> bool:
    """Seal ink is red to pink (green and blue about equal, both well below red), not brown."""
    rgb = region[ink].astype(np.int16)
    red_over_green = np.median(rgb[:, 0] - rgb[:, 1])
    green_vs_blue = np.median(np.abs(rgb[:, 1] - rgb[:, 2]))
    return bool(red_over_green >= 70 and green_vs_blue <= 35)


def _ring_coverage(mask: np.ndarray, x: int, y: int, w: int, h: int) -> float:
    """Share of directions from the box centre in which the outer rim (80-100% of the radius) has ink."""
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    radii = np.linspace(0.8, 1.0, 6)
    cx, cy = x + w / 2, y + h / 2
    xs = (cx + np.outer(radii, np.cos(angles)) * (w / 2 - 1)).round().astype(int).clip(0, mask.shape[1] - 1)
    ys = (cy + np.outer(radii, np.sin(angles)) * (h / 2 - 1)).round().astype(int).clip(0, mask.shape[0] - 1)
    return float(mask[ys, xs].any(axis=0).mean())


def _inner_ink(mask: np.ndarray, x: int, y: int, w: int, h: int) -> float:
    """Share of inked pixels inside 70% of the ellipse inscribed in the box."""
    ys, xs = np.mgrid[y : y + h, x : x + w]
    inside = ((xs - x - w / 2) / (0.7 * w / 2)) ** 2 + ((ys - y - h / 2) / (0.7 * h / 2)) ** 2 <= 1
    return float(mask[y : y + h, x : x + w][inside].mean()) if inside.any() else 0.0


def find_seals(image: np.ndarray) -> list[Seal]:
    """Boxes of the red seals on an RGB page."""
    import cv2

    height, width = image.shape[:2]
    short = min(height, width)
    if short < 64:
        return []
    # Work at about 600 px on the short side: seals are large, and this keeps it to milliseconds.
    scale = min(1.0, 600 / short)
    small = cv2.resize(image, (max(1, int(width * scale)), max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
    mask = red_mask(small).astype(np.uint8)
    if mask.sum() < (MIN_SEAL_SIDE * short * scale) ** 2 * MIN_INK_SHARE:
        return []
    # Close the gaps between the ring, the characters and the star so a seal is one blob.
    size = max(3, int(0.02 * short * scale)) | 1
    joined = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    seals = []
    for label in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[label])
        side_lo, side_hi = MIN_SEAL_SIDE * short * scale, MAX_SEAL_SIDE * short * scale
        if not (side_lo <= w <= side_hi and side_lo <= h <= side_hi):
            continue
        if max(w, h) / max(1, min(w, h)) > MAX_ASPECT:
            continue
        if not MIN_INK_SHARE <= mask[y : y + h, x : x + w].mean() <= MAX_INK_SHARE:
            continue
        if not _seal_red(small[y : y + h, x : x + w], mask[y : y + h, x : x + w].astype(bool)):
            continue  # brown or orange: wood, skin, cardboard
        if _ring_coverage(mask, x, y, w, h) < MIN_RING_COVERAGE:
            continue  # a red logo or a red word, not a stamp
        if _inner_ink(mask, x, y, w, h) < MIN_INNER_INK:
            continue  # a ring with nothing inside: a round letter or a circled number
        pad_w, pad_h = 0.05 * w, 0.05 * h
        seals.append(
            Seal(
                x0=max(0, int((x - pad_w) / scale)),
                y0=max(0, int((y - pad_h) / scale)),
                x1=min(width, int((x + w + pad_w) / scale) + 1),
                y1=min(height, int((y + h + pad_h) / scale) + 1),
            )
        )
    return seals


def lift_seals(image: np.ndarray) -> tuple[np.ndarray, list[Seal]]:
    """A copy of the page with the seals' red ink replaced by the paper colour around it.

    Returns the page itself (no copy) when it has no seal.
    """
    seals = find_seals(image)
    if not seals:
        return image, []
    import cv2

    cleaned = image.copy()
    for seal in seals:
        region = cleaned[seal.y0 : seal.y1, seal.x0 : seal.x1]
        # Inside a seal's box a looser test also takes the pale pink halo of the ink's edges,
        # which the detector would otherwise still see as a ring through the text.
        rgb = region.astype(np.int16)
        ink = (rgb[..., 0] > 90) & (rgb[..., 0] - rgb[..., 1] > 22) & (rgb[..., 0] - rgb[..., 2] > 15)
        ink = cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~_dark(rgb)
        paper = region[~ink & ~_dark(rgb)]
        colour = np.median(paper, axis=0) if len(paper) else np.full(3, 255)
        region[ink] = colour.astype(image.dtype)
    return cleaned, seals

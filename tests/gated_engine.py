"""An OCR engine plugin for subprocess tests (loaded via CHATOCR_PLUGINS) whose runs the test
can see and hold: a deterministic point at which to kill or stop a process.

``recognize`` appends ``start PID KEY`` to the file named by ``CHATOCR_TEST_RUNLOG``, waits
while the file named by ``CHATOCR_TEST_GATE`` does not exist, appends ``end PID KEY`` and
returns one line.  ``KEY`` is the page's longest side in pixels, so a test tells its
documents apart by their size.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from chatocr.document import Line, box_from_rect
from chatocr.engines import ENGINES, OcrEngine
from chatocr.options import OcrOptions


def _log(event: str, key: int) -> None:
    path = os.environ.get("CHATOCR_TEST_RUNLOG")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{event} {os.getpid()} {key}\n".encode())
        finally:
            os.close(fd)


@ENGINES.register("gated", "test engine: logs each page and waits for a gate file")
class GatedEngine(OcrEngine):
    name = "gated"

    def __init__(self, options: OcrOptions | None = None) -> None:
        pass

    def recognize(self, image: np.ndarray) -> list[Line]:
        key = max(image.shape[:2])
        _log("start", key)
        gate = os.environ.get("CHATOCR_TEST_GATE")
        while gate and not Path(gate).exists():
            time.sleep(0.02)
        _log("end", key)
        return [Line(text=f"PAGE {key}", box=box_from_rect(0, 0, 10, 10), confidence=0.9)]


def read_runlog(path: Path) -> list[tuple[str, int, int]]:
    """The log as (event, pid, key) tuples."""
    if not path.exists():
        return []
    return [(e, int(p), int(k)) for e, p, k in (line.split() for line in path.read_text().splitlines())]

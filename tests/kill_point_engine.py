"""An OCR engine plugin for subprocess tests (loaded via CHATOCR_PLUGINS): rapidocr with a
deterministic kill point.

With ``CHATOCR_TEST_BLOCK_AT=N`` the N-th page this process recognises creates the file
named by ``CHATOCR_TEST_BLOCKED`` and then never returns, so a test kills a batch at a
known document instead of after a guessed delay.  Without it, this is rapidocr unchanged.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from chatocr.document import Line
from chatocr.engines import ENGINES, OcrEngine
from chatocr.options import OcrOptions

_calls = 0


@ENGINES.register("rapidocr-kill-point", "test engine: rapidocr that blocks at the N-th page")
class KillPointEngine(OcrEngine):
    name = "rapidocr-kill-point"

    def __init__(self, options: OcrOptions) -> None:
        self.inner = ENGINES.create("rapidocr", options)

    def recognize(self, image: np.ndarray) -> list[Line]:
        global _calls
        _calls += 1
        if _calls == int(os.environ.get("CHATOCR_TEST_BLOCK_AT", "0")):
            Path(os.environ["CHATOCR_TEST_BLOCKED"]).touch()
            threading.Event().wait()  # until the test kills the process
        return self.inner.recognize(image)

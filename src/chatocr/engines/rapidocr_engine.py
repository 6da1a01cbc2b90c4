"""The default engine: RapidOCR 3.10 with the PP-OCRv6 small models bundled in its wheel."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from chatocr.document import Line
from chatocr.engines.base import ENGINES, OcrEngine
from chatocr.errors import EngineError, MissingDependencyError, OptionsError
from chatocr.options import OcrOptions


class _DropBlankPageWarnings(logging.Filter):
    """A blank page is a normal result (no lines), not something to warn about on every page."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("The text detection result is empty")


def _env_threads() -> int | None:
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"

    def __init__(self, options: OcrOptions | None = None, params: dict[str, Any] | None = None) -> None:
        try:
            import rapidocr
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - rapidocr is a core dependency
            raise MissingDependencyError(
                "the rapidocr engine needs the 'rapidocr' package", hint="pip install rapidocr==3.10.0"
            ) from exc
        self._check_offline(Path(rapidocr.__file__).parent, params or {})
        settings: dict[str, Any] = {
            # rapidocr sets its logger to the config's level (INFO: a line per model loaded); keep warnings only.
            "Global.log_level": "warning",
        }
        # onnxruntime ignores OMP_NUM_THREADS; honour it when no thread count is set, so that
        # many OCR processes side by side (batch shards, training-data builds) don't oversubscribe.
        threads = options.threads if options is not None and options.threads else _env_threads()
        if threads:
            settings["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
            settings["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
        # Without the arena every page allocates and frees its large detection tensors afresh
        # (measured: 0.69 vs 1.03 s of detection per SROIE page on one thread; benchmarks/ocr.py).
        settings["EngineConfig.onnxruntime.enable_cpu_mem_arena"] = options.memory_arena if options else True
        # Pages are turned upright before the engine sees them; the per-line 180-degree classifier
        # then mostly flips short upright lines ("孟刚" in a table cell) and loses them.
        settings["Global.use_cls"] = options.line_orientation if options else False
        settings.update(params or {})
        rapidocr_log = logging.getLogger("RapidOCR")
        rapidocr_log.setLevel(logging.WARNING)
        if not any(isinstance(f, _DropBlankPageWarnings) for f in rapidocr_log.filters):
            rapidocr_log.addFilter(_DropBlankPageWarnings())
        try:
            self._engine = RapidOCR(params=settings)
        except Exception as exc:
            raise EngineError(f"rapidocr failed to start: {exc}") from exc
        self._version = getattr(rapidocr, "__version__", "3.10.0")

    @staticmethod
    def _check_offline(package_dir: Path, params: dict[str, Any]) -> None:
        """Refuse configurations that would make rapidocr download models at run time."""
        for key, value in params.items():
            if key.endswith("model_path") and value and not Path(str(value)).is_file():
                raise OptionsError(f"rapidocr model file {value!r} does not exist; chatocr never downloads models")
            if key.endswith(("ocr_version", "model_type", "lang_type", "engine_type")):
                raise OptionsError(
                    f"rapidocr option {key}={value!r} would select a model that is not bundled and would be"
                    " downloaded; chatocr runs offline with the bundled PP-OCRv6 small models only",
                    hint="pass an explicit *.model_path to a local ONNX file instead",
                )
        for name in ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"):
            if not (package_dir / "models" / name).is_file():
                raise MissingDependencyError(
                    f"rapidocr's bundled model {name} is missing", hint="reinstall rapidocr==3.10.0"
                )

    def version(self) -> str:
        return f"rapidocr {self._version} (PP-OCRv6 small)"

    def recognize(self, image: np.ndarray) -> list[Line]:
        height, width = image.shape[:2]
        # RapidOCR expects BGR like OpenCV.
        bgr = pad_for_detection(np.ascontiguousarray(image[:, :, ::-1]))
        try:
            result: Any = self._engine(bgr)
        except Exception as exc:
            raise EngineError(f"rapidocr failed on a page: {exc or type(exc).__name__}") from exc
        if result.boxes is None or result.txts is None:
            return []
        lines = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=False):
            text = str(text).strip()
            if not text:
                continue
            points = np.asarray(box, dtype=np.float64).reshape(4, 2)
            points[:, 0] = points[:, 0].clip(0, width)  # the padding is white; keep boxes on the page
            points[:, 1] = points[:, 1].clip(0, height)
            lines.append(
                Line(
                    text=text,
                    box=[[float(x), float(y)] for x, y in points],
                    confidence=float(min(1.0, max(0.0, score))),
                )
            )
        return lines


# The detector scales the short side up to 736 px, so a 20x2000 strip became a 736x73600
# input (minutes of CPU for nothing).  Pages are padded (white, right/bottom, so boxes keep
# their coordinates) to at most this aspect ratio and at least this short side.
MAX_ASPECT = 4.0
MIN_SIDE = 32


def pad_for_detection(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    target_h = max(height, MIN_SIDE, int(np.ceil(width / MAX_ASPECT)))
    target_w = max(width, MIN_SIDE, int(np.ceil(height / MAX_ASPECT)))
    if (target_h, target_w) == (height, width):
        return image
    padded = np.full((target_h, target_w, image.shape[2]), 255, dtype=image.dtype)
    padded[:height, :width] = image
    return padded


@ENGINES.register("rapidocr", "RapidOCR 3.10, PP-OCRv6 small det/rec + cls (bundled, offline) [default]")
def _make_rapidocr(options: OcrOptions | None = None) -> OcrEngine:
    return RapidOcrEngine(options)

"""The learned reader: one trained scorer answers every field of every document.

For a field, every proposal of the document (:mod:`chatocr.extract.proposals`) gets a probability
of being the field's value from a gradient-boosted tree model (LightGBM) over the features of
:mod:`chatocr.extract.features`.  The best proposal's probability, and its margin over the
runner-up, go through a logistic calibration learned on held-out documents; the result is the
probability that the answer is right.  Below the learned threshold the field is null.

The model ships in the package (``extract/models/reader.txt``) with a manifest
(``reader.json``: training data, versions, calibration, threshold).  `chatocr finetune reader`
trains a new one; loading a model made for other features or proposals warns.
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from chatocr.errors import OptionsError
from chatocr.extract.features import FEATURES, FEATURES_VERSION, DocFeatures, field_rows
from chatocr.extract.proposals import PROPOSALS_VERSION, Proposal
from chatocr.extract.value_kinds import VALUE_KINDS_FILE, ValueKindModel
from chatocr.fields.spec import FieldSpec

log = logging.getLogger(__name__)

MODEL_FILE = "reader.txt"
MANIFEST_FILE = "reader.json"
# LightGBM objectives that rank the proposals of a field rather than classify each one: their raw
# scores are mapped to (0, 1) by ``sigmoid`` before calibration, in training and in use alike.
RANKING_OBJECTIVES = ("lambdarank", "rank_xendcg")
# Prediction early stopping (LightGBM's own): a proposal's trees stop being added, checked every 10, once its
# raw score is beyond +-8 (a probability under 0.0004 or over 0.9996; LightGBM's binary margin is twice the raw
# score). Most proposals are plainly wrong after a few dozen trees. On 20 XFUND forms (357 fields, 43,114
# proposals, 800 trees) it read 2x faster and left every field's best proposal where it was (stopping at +-6
# moved 1 of 357). Binary objectives only: LightGBM ignores it for ranking ones.
EARLY_STOP: dict[str, Any] = {"pred_early_stop": True, "pred_early_stop_freq": 10, "pred_early_stop_margin": 16.0}


class ReaderModelWarning(UserWarning):
    """The reader model was made for other features or proposals than this chatocr computes."""


def default_model_dir() -> Path:
    return Path(str(resources.files("chatocr.extract") / "models"))


@dataclass
class Calibration:
    """P(answer right) = sigmoid(a * logit(p_best) + b * (logit(p_best) - logit(p_second)) + c)."""

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0

    def __call__(self, best: np.ndarray, second: np.ndarray) -> np.ndarray:
        lb, ls = logit(best), logit(second)
        return sigmoid(self.a * lb + self.b * (lb - ls) + self.c)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class ReaderAnswer:
    proposal: Proposal | None  # None: the field is not on the document
    probability: float  # calibrated probability that the answer (value or null) is right
    raw_probability: float  # the scorer's probability for the best proposal
    runner_up: Proposal | None = None
    runner_up_probability: float = 0.0


def calibration_inputs(scores: np.ndarray, values: np.ndarray | None = None) -> tuple[float, float]:
    """The best scorer probability of one field, and the best one of a proposal with another value.

    ``values`` identifies each proposal's value: the same amount printed twice is agreement, not
    competition; two different "Total:" amounts are competition and lower the confidence."""
    if scores.size == 0:
        return 0.0, 0.0
    top = int(np.argmax(scores))
    best = float(scores[top])
    others = scores if values is None else scores[values != values[top]]
    if values is None:
        others = np.delete(scores, top)
    return best, float(others.max()) if others.size else 0.0


def value_keys(texts: list[str], normalizer: str | None) -> np.ndarray:
    """One integer per distinct value (normalised like the field, spaces and case ignored)."""
    from chatocr.extract.features import squash
    from chatocr.extract.normalize import normalize_value

    keys: dict[str, int] = {}
    if normalizer in (None, "text"):
        # Plain text normalisation only trims and tidies what squash() drops anyway.
        return np.array([keys.setdefault(squash(t), len(keys)) for t in texts])
    return np.array([keys.setdefault(squash(normalize_value(t, normalizer) or t), len(keys)) for t in texts])


class LearnedReader:
    """A loaded reader model; thread-safe to share (LightGBM prediction is re-entrant)."""

    def __init__(self, model_dir: str | Path | None = None) -> None:
        import lightgbm as lgb

        folder = Path(model_dir) if model_dir is not None else default_model_dir()
        model_path, manifest_path = folder / MODEL_FILE, folder / MANIFEST_FILE
        if not model_path.is_file() or not manifest_path.is_file():
            raise OptionsError(
                f"no reader model in {folder}",
                hint="train one with `chatocr finetune reader`, or use --strategy rules",
            )
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        self.booster = lgb.Booster(model_file=str(model_path))
        # What proposals' texts look like (an address, a company...): trained with the trees, shipped beside them.
        self.value_kinds = ValueKindModel.load(folder / VALUE_KINDS_FILE)
        self.check_manifest()
        cal = self.manifest.get("calibration", {})
        self.calibration = Calibration(float(cal.get("a", 1.0)), float(cal.get("b", 0.0)), float(cal.get("c", 0.0)))
        self.threshold = float(self.manifest.get("threshold", 0.5))
        objective = self.manifest.get("training", {}).get("params", {}).get("objective", "binary")
        self.ranking = objective in RANKING_OBJECTIVES

    def check_manifest(self) -> None:
        """Warn when the model was trained on other features or proposals than this code computes."""
        problems = []
        if self.manifest.get("features_version") != FEATURES_VERSION:
            problems.append(f"features v{self.manifest.get('features_version')} (this chatocr: v{FEATURES_VERSION})")
        if self.manifest.get("proposals_version") != PROPOSALS_VERSION:
            problems.append(f"proposals v{self.manifest.get('proposals_version')} (this chatocr: v{PROPOSALS_VERSION})")
        if self.manifest.get("features") != FEATURES:
            problems.append("a different feature list")
        if self.value_kinds is None and "kind_prob" in self.manifest.get("features", []):
            problems.append(f"a {VALUE_KINDS_FILE} that is missing")
        if problems:
            warnings.warn(
                "the reader model was trained for " + "; ".join(problems) + ": its answers may be poor; "
                "retrain it with `chatocr finetune reader`",
                ReaderModelWarning,
                stacklevel=2,
            )

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        if matrix.shape[0] == 0:
            return np.zeros(0)
        if matrix.shape[1] != self.booster.num_feature():
            return np.zeros(matrix.shape[0])  # a mismatched model (warned at load) answers nothing
        raw = np.asarray(self.booster.predict(matrix, num_threads=1, **EARLY_STOP), dtype=np.float64)
        if self.ranking:  # a ranking model's raw score, mapped to (0, 1) as the calibration was fitted
            return sigmoid(raw)
        return raw

    def _scored(
        self,
        doc: DocFeatures,
        spec: FieldSpec,
        schema_fields: Sequence[str | FieldSpec] | None,
        accept: Callable[[str], bool] | None,
        exclude: Callable[[Proposal], bool] | None,
    ) -> tuple[list[Proposal], np.ndarray, np.ndarray]:
        """The field's proposals, their scores (0 for those it may not answer with) and a key per distinct value."""
        rows = field_rows(doc, spec, schema_fields)
        # Only the proposals the field may answer with are scored (a date field's non-dates score 0).
        usable = np.array(
            [(accept is None or accept(p.text)) and (exclude is None or not exclude(p)) for p in rows.proposals],
            dtype=bool,
        )
        scores = np.zeros(len(rows.proposals))
        if usable.any():
            scores[usable] = self.scores(rows.matrix[usable])
        return rows.proposals, scores, value_keys([p.text for p in rows.proposals], spec.normalize)

    @staticmethod
    def _narrowest(proposals: list[Proposal], scores: np.ndarray, keys: np.ndarray, index: int) -> Proposal:
        """The same value printed inside the chosen span (a date inside "组委会二〇二〇年九月二十四日"): the narrowest
        such span, so the raw text and the box are the value's own."""
        top = proposals[index]
        inside = [
            proposals[i]
            for i in range(scores.size)
            if keys[i] == keys[index] and scores[i] > 0 and set(proposals[i].refs) <= set(top.refs)
        ]
        return min(inside, key=lambda p: (len(p.refs), len(p.text)), default=top)

    def read(
        self,
        doc: DocFeatures,
        spec: FieldSpec,
        schema_fields: Sequence[str | FieldSpec] | None = None,
        accept: Callable[[str], bool] | None = None,
        threshold: float | None = None,
        exclude: Callable[[Proposal], bool] | None = None,
    ) -> ReaderAnswer:
        """The field's best proposal with the calibrated probability that it is right, or null.

        ``schema_fields``: every field asked of the document (they tell keys from values); ``accept``
        drops proposals the field cannot answer with (a date field's non-date text); ``exclude`` drops
        proposals other fields answer with (the lines ``姓名`` took, which ``姓名 (2)`` may not read)."""
        proposals, scores, keys = self._scored(doc, spec, schema_fields, accept, exclude)
        if scores.size == 0 or scores.max() <= 0.0:
            return ReaderAnswer(None, 1.0, 0.0)
        order = np.argsort(-scores, kind="stable")
        best, second = calibration_inputs(scores, keys)
        p_right = float(self.calibration(np.array([best]), np.array([second]))[0])
        top = self._narrowest(proposals, scores, keys, int(order[0]))
        # The runner-up is the best proposal of another value: a competing printed value, not the same one twice.
        different = [int(i) for i in order if keys[i] != keys[order[0]] and scores[i] > 0]
        runner = proposals[different[0]] if different else None
        if p_right < (self.threshold if threshold is None else threshold):
            return ReaderAnswer(None, 1.0 - p_right, best, top, best)
        return ReaderAnswer(top, p_right, best, runner, second)

    def values(
        self,
        doc: DocFeatures,
        spec: FieldSpec,
        schema_fields: Sequence[str | FieldSpec] | None = None,
        accept: Callable[[str], bool] | None = None,
        exclude: Callable[[Proposal], bool] | None = None,
    ) -> list[ReaderAnswer]:
        """Every value a field may answer with, best first, regardless of the null threshold:
        each as the answer it would be were it the best (its probability calibrated against the best other value)."""
        proposals, scores, keys = self._scored(doc, spec, schema_fields, accept, exclude)
        answers: list[ReaderAnswer] = []
        seen: set[int] = set()
        for i in np.argsort(-scores, kind="stable"):
            if scores[i] <= 0:
                break
            if int(keys[i]) in seen:
                continue
            seen.add(int(keys[i]))
            others = scores[keys != keys[i]]
            second = float(others.max()) if others.size else 0.0
            p_right = float(self.calibration(np.array([scores[i]]), np.array([second]))[0])
            answers.append(ReaderAnswer(self._narrowest(proposals, scores, keys, int(i)), p_right, float(scores[i])))
        return answers


_LOCK = threading.Lock()
_LOADED: dict[str, LearnedReader] = {}


def load_reader(model_dir: str | Path | None = None) -> LearnedReader:
    """The reader for a model folder, loaded once per process."""
    key = str(model_dir or "")
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = LearnedReader(model_dir)
        return _LOADED[key]

"""Evaluation metrics: small classes with ``update(...)``, ``summary()`` and ``reset()``.

How a (document, field) pair is counted
---------------------------------------
Each asked field of each document is one of:

* **labelled**: the label holds a non-empty value L;
* **absent**: the dataset says the field is not on the document (``absent/<id>.json``,
  a null or empty label, or any missing key when the dataset sets ``missing_is_absent``);
* **unscored**: asked but neither labelled nor declared absent (not counted anywhere).

With P the predicted value (``value``, or the printed ``raw`` when that matches better):

* **TP** when the field is labelled and P matches L;
* **FP** when P is non-null and wrong, or when P is non-null and the field is absent;
* **FN** when the field is labelled and P is null or wrong.

So a wrong non-null answer to a labelled field is both an FP and an FN.  Precision =
TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean, all micro-averaged
(summed over documents, and over fields for "overall").  The tolerant and strict
variants differ only in the matcher (see :mod:`chatocr.eval.matching`).

* **null accuracy**: of the absent fields, the share answered null.
* **ANLS**: mean over labelled fields of 1 - normalised edit distance (0 when >= 0.5; null scores 0).
* **grounding rate**: of the non-null printed values whose grounding could be checked, the share
  whose box holds OCR line(s) containing the printed value (see :mod:`chatocr.eval.grounding`).
* **ECE**: expected calibration error of ``confidence`` over non-null answers in 10 equal-width
  bins, an answer being correct when it is a tolerant TP.
* **seconds per document** (mean wall time of one extraction) and **peak RSS** (MB).
"""

from __future__ import annotations

import resource
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chatocr.eval.matching import MatchOptions, anls_score, strict_match, tolerant_match


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    """Harmonic mean; an undefined side (nothing answered, or nothing labelled) counts as 0."""
    if precision is None and recall is None:
        return None
    precision, recall = precision or 0.0, recall or 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass(frozen=True)
class Outcome:
    """How one (document, field) pair was counted."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def correct(self) -> bool:
        return self.tp == 1


def count(label: str | None, prediction: str | None, matched: bool) -> Outcome:
    """Apply the counting rule; ``label`` None means the field is absent."""
    if label is None:
        return Outcome(fp=int(prediction is not None))
    if matched:
        return Outcome(tp=1)
    return Outcome(fp=int(prediction is not None), fn=1)


def _best(label: str, candidates: Iterable[str | None], match: Any) -> tuple[bool, str | None]:
    """Whether any candidate (value, raw) matches; the first non-null candidate otherwise."""
    present = [c for c in candidates if c is not None]
    for candidate in present:
        if match(label, candidate):
            return True, candidate
    return False, present[0] if present else None


class FieldF1:
    """Field-level precision / recall / F1, per field and micro-averaged overall."""

    def __init__(self, options: MatchOptions | None = None, *, strict: bool = False) -> None:
        self.options = options or MatchOptions()
        self.strict = strict
        self.reset()

    def reset(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])

    def match(self, label: str, prediction: str | None) -> bool:
        if self.strict:
            return strict_match(label, prediction)
        return tolerant_match(label, prediction, self.options)

    def update(self, field: str, label: str | None, value: str | None, raw: str | None = None) -> Outcome:
        """Count one answer; ``label`` None means the field is absent from the document."""
        if label is None:
            outcome = count(None, value, False)
        else:
            matched, _ = _best(label, (value, raw), self.match)
            outcome = count(label, value, matched)
        tally = self.counts[field]
        tally[0] += outcome.tp
        tally[1] += outcome.fp
        tally[2] += outcome.fn
        return outcome

    @staticmethod
    def _scores(tp: int, fp: int, fn: int) -> dict[str, Any]:
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return {"precision": precision, "recall": recall, "f1": _f1(precision, recall), "tp": tp, "fp": fp, "fn": fn}

    def summary(self) -> dict[str, Any]:
        fields = {name: self._scores(*tally) for name, tally in self.counts.items()}
        totals = [sum(t[i] for t in self.counts.values()) for i in range(3)]
        return {"overall": self._scores(*totals), "fields": fields}


class ANLS:
    """Average normalised Levenshtein similarity over labelled fields."""

    def __init__(self, options: MatchOptions | None = None, tau: float = 0.5) -> None:
        self.options = options or MatchOptions()
        self.tau = tau
        self.reset()

    def reset(self) -> None:
        self.scores: dict[str, list[float]] = defaultdict(list)

    def update(self, field: str, label: str, value: str | None, raw: str | None = None) -> float:
        score = max(anls_score(label, candidate, self.options, self.tau) for candidate in (value, raw))
        self.scores[field].append(score)
        return score

    def summary(self) -> dict[str, Any]:
        everything = [s for scores in self.scores.values() for s in scores]
        return {
            "overall": statistics.fmean(everything) if everything else None,
            "fields": {name: statistics.fmean(scores) for name, scores in self.scores.items()},
        }


class NullAccuracy:
    """Of the fields absent from the documents, the share answered null."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # [answered null, absent]

    def update(self, field: str, value: str | None) -> bool:
        """Count one absent field; returns whether it was answered null."""
        tally = self.counts[field]
        tally[0] += int(value is None)
        tally[1] += 1
        return value is None

    def summary(self) -> dict[str, Any]:
        nulls, total = (sum(t[i] for t in self.counts.values()) for i in range(2))
        return {
            "overall": _ratio(nulls, total),
            "absent": total,
            "fields": {name: _ratio(t[0], t[1]) for name, t in self.counts.items()},
        }


class GroundingRate:
    """Of the non-null printed values that could be checked, the share grounded in the OCR lines."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # [grounded, checked]

    def update(self, field: str, grounded: bool | None) -> None:
        """``grounded`` None (null answer, derived value, no OCR lines at hand) is not counted."""
        if grounded is None:
            return
        tally = self.counts[field]
        tally[0] += int(grounded)
        tally[1] += 1

    def summary(self) -> dict[str, Any]:
        grounded, checked = (sum(t[i] for t in self.counts.values()) for i in range(2))
        return {
            "overall": _ratio(grounded, checked),
            "checked": checked,
            "fields": {name: _ratio(t[0], t[1]) for name, t in self.counts.items()},
        }


class CalibrationError:
    """Expected calibration error of confidences: sum over bins of (n_bin / n) * |accuracy - mean confidence|."""

    def __init__(self, bins: int = 10) -> None:
        self.bins = bins
        self.reset()

    def reset(self) -> None:
        self.samples: list[tuple[float, bool]] = []

    def update(self, confidence: float, correct: bool) -> None:
        self.samples.append((min(max(float(confidence), 0.0), 1.0), bool(correct)))

    def _bin(self, confidence: float) -> int:
        return min(int(confidence * self.bins), self.bins - 1)  # 1.0 falls in the last bin

    def summary(self) -> dict[str, Any]:
        groups: list[list[tuple[float, bool]]] = [[] for _ in range(self.bins)]
        for sample in self.samples:
            groups[self._bin(sample[0])].append(sample)
        total = len(self.samples)
        ece = 0.0
        table = []
        for index, group in enumerate(groups):
            row: dict[str, Any] = {"lower": index / self.bins, "upper": (index + 1) / self.bins, "count": len(group)}
            if group:
                accuracy = sum(correct for _, correct in group) / len(group)
                confidence = sum(conf for conf, _ in group) / len(group)
                ece += len(group) / total * abs(accuracy - confidence)
                row.update(accuracy=accuracy, confidence=confidence)
            table.append(row)
        return {"ece": ece if total else None, "count": total, "bins": table}


class Latency:
    """Seconds per document."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seconds: list[float] = []

    def update(self, seconds: float) -> None:
        self.seconds.append(float(seconds))

    def summary(self) -> dict[str, Any]:
        if not self.seconds:
            return {"mean": None, "median": None, "p90": None, "max": None, "count": 0}
        ordered = sorted(self.seconds)
        p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
        return {
            "mean": statistics.fmean(ordered),
            "median": statistics.median(ordered),
            "p90": p90,
            "max": ordered[-1],
            "count": len(ordered),
        }


def current_peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class PeakMemory:
    """The largest peak RSS seen (MB)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.peak_mb: float | None = None

    def update(self, rss_mb: float | None = None) -> None:
        """Record a measurement; without one, read this process's peak RSS now."""
        value = current_peak_rss_mb() if rss_mb is None else float(rss_mb)
        self.peak_mb = value if self.peak_mb is None else max(self.peak_mb, value)

    def summary(self) -> dict[str, Any]:
        return {"peak_rss_mb": self.peak_mb}

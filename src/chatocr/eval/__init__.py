"""Evaluation harness: datasets, metrics, resumable runs, reports and run comparison (`chatocr eval`)."""

from __future__ import annotations

from chatocr.eval.compare import Comparison, compare_runs
from chatocr.eval.dataset import Dataset, DatasetItem, DatasetOptions, load_dataset
from chatocr.eval.harness import evaluate, make_extract_fn
from chatocr.eval.matching import MatchOptions, parse_amount, parse_dates, strict_match, tolerant_match
from chatocr.eval.metrics import ANLS, CalibrationError, FieldF1, GroundingRate, Latency, NullAccuracy, PeakMemory
from chatocr.eval.runner import read_predictions, schema_from_labels, score

__all__ = [
    "ANLS",
    "CalibrationError",
    "Comparison",
    "Dataset",
    "DatasetItem",
    "DatasetOptions",
    "FieldF1",
    "GroundingRate",
    "Latency",
    "MatchOptions",
    "NullAccuracy",
    "PeakMemory",
    "compare_runs",
    "evaluate",
    "load_dataset",
    "make_extract_fn",
    "parse_amount",
    "parse_dates",
    "read_predictions",
    "schema_from_labels",
    "score",
    "strict_match",
    "tolerant_match",
]

"""Run an extractor over a dataset (resumably) and score its predictions.

A run folder holds:

* ``predictions.jsonl``: one ``chatocr extract --format json`` record per document plus
  ``"id"`` (the image's stem), ``"asked"`` (the field names asked), ``"seconds"``,
  ``"peak_rss_mb"`` and ``"grounded"`` ({field: true/false/null}, checked against the OCR
  lines while they were at hand); a document that failed has ``"error"`` instead of
  ``"fields"``.  Records are appended one whole line per write and flushed, so a killed
  run loses at most the document in flight; re-running skips the ids already there.
* ``run.json``: what was run (dataset, field spec, options), so a resumed run can refuse
  to mix in answers to a different question.
* ``metrics.json``, ``scores.json`` (per document and field: label, answer, outcome),
  ``report.md`` and ``charts/*.png``, rewritten after every run (see :mod:`chatocr.eval.report`).

The extractor is injected (``ExtractFn``), so the harness is tested without models; the
CLI builds it from :class:`chatocr.extract.Extractor`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from chatocr.errors import (
    BackendUnavailableError,
    ChatOCRError,
    DatasetError,
    MissingDependencyError,
    OptionsError,
    SpecError,
)
from chatocr.eval.dataset import Dataset, DatasetItem
from chatocr.eval.diagnosis import CAUSES
from chatocr.eval.grounding import grounding_flags
from chatocr.eval.metrics import (
    ANLS,
    CalibrationError,
    FieldF1,
    GroundingRate,
    Latency,
    NullAccuracy,
    PeakMemory,
    current_peak_rss_mb,
)
from chatocr.fields.spec import FieldSpec, Schema
from chatocr.files import append_jsonl, trim_partial_line
from chatocr.result import ExtractionResult

log = logging.getLogger(__name__)

PREDICTIONS = "predictions.jsonl"
RUN_INFO = "run.json"
METRICS = "metrics.json"
SCORES = "scores.json"

ExtractFn = Callable[[Path, Schema, str], ExtractionResult]
SchemaFor = Callable[[DatasetItem], "Schema | None"]
# The cause of each wrong answer of one document (chatocr.eval.diagnosis), stored with its prediction.
DiagnoseFn = Callable[[DatasetItem, Schema, ExtractionResult], dict[str, str]]

# Errors that say nothing about one document: stop the run (it resumes later) instead of
# recording every remaining document as failed.
FATAL_ERRORS: tuple[type[ChatOCRError], ...] = (
    BackendUnavailableError,
    MissingDependencyError,
    OptionsError,
    SpecError,
)


# --- predictions.jsonl -------------------------------------------------------------------------


def read_predictions(run_dir: str | Path) -> dict[str, dict[str, Any]]:
    """The records of a run folder by id (the last record wins when an id repeats)."""
    path = Path(run_dir) / PREDICTIONS
    records: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return records
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if line.endswith("\n"):
                    raise DatasetError(f"{path}: line {number} is not valid JSON") from None
                continue  # a half-written last line from a killed run
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise DatasetError(f"{path}: line {number} is not a prediction record with an 'id'")
            records[record["id"]] = record
    return records


# --- run.json ----------------------------------------------------------------------------------


def check_run_info(run_dir: Path, info: dict[str, Any]) -> None:
    """Write run.json, or refuse when the folder already holds a run of another question."""
    path = run_dir / RUN_INFO
    if path.is_file() and (run_dir / PREDICTIONS).is_file():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            previous = {}
        for key in ("dataset", "spec", "backend"):
            if key in previous and previous[key] != info.get(key):
                raise OptionsError(
                    f"{run_dir} holds a run with a different {key} ({previous[key]!r}, now {info.get(key)!r})",
                    hint="use another --out folder, or delete its predictions.jsonl to start over",
                )
    path.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --- predicting --------------------------------------------------------------------------------


@dataclass
class Progress:
    """What happened to each document of a run (for the progress bar and the summary)."""

    done_before: int = 0
    predicted: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)


def predict(
    dataset: Dataset,
    schema_for: SchemaFor,
    extract: ExtractFn,
    run_dir: str | Path,
    *,
    on_document: Callable[[DatasetItem], None] | None = None,
    diagnose: DiagnoseFn | None = None,
) -> Progress:
    """Extract every document of ``dataset`` that ``run_dir`` has no prediction for yet."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / PREDICTIONS
    if path.is_file():
        trim_partial_line(path)
    done = read_predictions(run_dir)
    progress = Progress()
    for item in dataset:
        if item.id in done:
            progress.done_before += 1
        else:
            schema = schema_for(item)
            if schema is None:
                progress.skipped.append(item.id)
            else:
                record = _predict_one(item, schema, extract, diagnose)
                progress.failed += int("error" in record)
                progress.predicted += 1
                append_jsonl(path, record)
        if on_document is not None:
            on_document(item)
    return progress


def _predict_one(
    item: DatasetItem, schema: Schema, extract: ExtractFn, diagnose: DiagnoseFn | None = None
) -> dict[str, Any]:
    started = perf_counter()
    record: dict[str, Any] = {"id": item.id}
    try:
        result = extract(item.image, schema, item.id)
    except FATAL_ERRORS:
        raise
    except ChatOCRError as exc:
        log.warning("%s: %s", item.image, exc)
        record.update(file=str(item.image), error=exc.to_dict())
    except Exception as exc:
        # A bug on one document must not end a long run: record it (and show the traceback) and go on.
        log.exception("%s: unexpected error", item.image)
        record.update(file=str(item.image), error={"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"})
    else:
        record.update(result.export())
        record["file"] = record.get("file") or str(item.image)
        record["grounded"] = grounding_flags(result)
        if diagnose is not None:
            record["diagnosis"] = diagnose(item, schema, result)
    record["asked"] = schema.names
    record["seconds"] = round(perf_counter() - started, 4)
    record["peak_rss_mb"] = round(current_peak_rss_mb(), 1)
    return record


# --- field specs -------------------------------------------------------------------------------


def fixed_schema(schema: Schema) -> SchemaFor:
    return lambda item: schema


def schema_from_labels(templates: dict[str, Schema] | None = None) -> SchemaFor:
    """Each document asks for its own annotated fields (labelled and absent).

    When those fields are exactly a template's fields, the template is used, so its
    descriptions, types and rules apply (the Chinese development set mixes templates).
    """
    by_names = {frozenset(t.names): t for t in (templates or {}).values()}

    def schema_for(item: DatasetItem) -> Schema | None:
        names = item.field_names
        if not names:
            return None
        template = by_names.get(frozenset(names))
        if template is not None:
            return template
        try:
            # a list is never split on commas (FUNSD questions hold commas); names get lexicon hints
            from chatocr.fields import load_schema

            return load_schema(fields=names)
        except (ImportError, SpecError):
            return Schema(name="labels", language="auto", fields=[FieldSpec(name=name) for name in names])

    return schema_for


def load_templates() -> dict[str, Schema]:
    """The bundled templates, or none when the field-spec package cannot provide them yet."""
    try:
        from chatocr.fields import list_templates, load_schema
    except ImportError:  # pragma: no cover - the field-spec loader ships with chatocr
        return {}
    templates: dict[str, Schema] = {}
    for name in list_templates():
        try:
            templates[name] = load_schema(template=name)
        except ChatOCRError as exc:
            log.warning("template %s: %s", name, exc)
    return templates


# --- scoring -----------------------------------------------------------------------------------


@dataclass
class Scored:
    """Everything computed from a run: the metrics.json dict, per-document scores and chart data."""

    metrics: dict[str, Any]
    scores: dict[str, dict[str, dict[str, Any]]]
    latencies: list[float]
    field_support: dict[str, int]


def _answers(record: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    fields = record.get("fields") or {}
    names = list(record.get("asked") or []) + [n for n in fields if n not in (record.get("asked") or [])]
    for name in names:
        answer = fields.get(name)
        yield name, answer if isinstance(answer, dict) else {}


def _status(label: str | None, value: str | None, correct: bool) -> str:
    """tp, fn (null answer), wrong (non-null and wrong: an FP and an FN), null_ok or fp (absent field)."""
    if label is None:
        return "null_ok" if value is None else "fp"
    if correct:
        return "tp"
    return "fn" if value is None else "wrong"


def score(dataset: Dataset, records: dict[str, dict[str, Any]]) -> Scored:
    """Score the records of the dataset's documents (documents without a record are left out)."""
    match = dataset.options.match
    tolerant, strict = FieldF1(match), FieldF1(match, strict=True)
    anls, nulls, grounding, calibration = ANLS(match), NullAccuracy(), GroundingRate(), CalibrationError()
    latency, memory = Latency(), PeakMemory()
    scores: dict[str, dict[str, dict[str, Any]]] = {}
    support: dict[str, int] = {}
    absent_count: dict[str, int] = {}
    causes: dict[str, dict[str, int]] = {}
    diagnosed = 0
    documents = errors = 0

    for item in dataset:
        record = records.get(item.id)
        if record is None:
            continue
        documents += 1
        errors += int("error" in record)
        if isinstance(record.get("seconds"), (int, float)):
            latency.update(record["seconds"])
        if isinstance(record.get("peak_rss_mb"), (int, float)):
            memory.update(record["peak_rss_mb"])
        grounded = record.get("grounded") or {}
        diagnosis = record.get("diagnosis")
        diagnosed += isinstance(diagnosis, dict)
        for name, cause in (diagnosis or {}).items():
            tally = causes.setdefault(name, {})
            tally[cause] = tally.get(cause, 0) + 1
        doc_scores: dict[str, dict[str, Any]] = {}
        for name, answer in _answers(record):
            label = item.labels.get(name)
            is_absent = name in item.absent or (dataset.options.missing_is_absent and label is None)
            if label is None and (not is_absent or "error" in record):
                continue  # unscored: neither labelled nor declared absent, or absent on a failed document
            value, raw = answer.get("value"), answer.get("raw")
            outcome = tolerant.update(name, label, value, raw)
            strict.update(name, label, value, raw)
            if label is not None:
                anls.update(name, label, value, raw)
                support[name] = support.get(name, 0) + 1
                correct = outcome.correct
            else:
                nulls.update(name, value)
                absent_count[name] = absent_count.get(name, 0) + 1
                correct = value is None
            if value is not None:
                calibration.update(float(answer.get("confidence") or 0.0), outcome.correct)
                grounding.update(name, grounded.get(name))
            status = _status(label, value, correct)
            doc_scores[name] = {"label": label, "value": value, "correct": correct, "status": status}
        scores[item.id] = doc_scores

    tolerant_summary, strict_summary = tolerant.summary(), strict.summary()
    anls_summary, null_summary = anls.summary(), nulls.summary()
    grounding_summary, calibration_summary = grounding.summary(), calibration.summary()
    latency_summary = latency.summary()
    overall = tolerant_summary["overall"]
    metrics: dict[str, Any] = {
        "overall": {
            "precision": overall["precision"],
            "recall": overall["recall"],
            "f1": overall["f1"],
            "f1_strict": strict_summary["overall"]["f1"],
            "null_accuracy": null_summary["overall"],
            "grounding_rate": grounding_summary["overall"],
            "ece": calibration_summary["ece"],
            "seconds_per_doc": latency_summary["mean"],
            "peak_rss_mb": memory.summary()["peak_rss_mb"],
            "anls": anls_summary["overall"],
            "precision_strict": strict_summary["overall"]["precision"],
            "recall_strict": strict_summary["overall"]["recall"],
            "tp": overall["tp"],
            "fp": overall["fp"],
            "fn": overall["fn"],
            "labelled_fields": sum(support.values()),
            "absent_fields": null_summary["absent"],
            "grounding_checked": grounding_summary["checked"],
            "documents": documents,
            "errors": errors,
            "seconds_median": latency_summary["median"],
            "seconds_p90": latency_summary["p90"],
        },
        "fields": {},
        "calibration": calibration_summary["bins"],
        # Where the wrong answers went wrong (chatocr.eval.diagnosis); absent for runs predicted without it.
        "error_breakdown": {
            "documents": diagnosed,
            "overall": {c: sum(t.get(c, 0) for t in causes.values()) for c in CAUSES},
            "fields": causes,
        }
        if diagnosed
        else None,
    }
    for name, counts in tolerant_summary["fields"].items():
        metrics["fields"][name] = {
            "precision": counts["precision"],
            "recall": counts["recall"],
            "f1": counts["f1"],
            "f1_strict": strict_summary["fields"][name]["f1"],
            "anls": anls_summary["fields"].get(name),
            "null_accuracy": null_summary["fields"].get(name),
            "grounding_rate": grounding_summary["fields"].get(name),
            "support": support.get(name, 0),
            "absent": absent_count.get(name, 0),
            "tp": counts["tp"],
            "fp": counts["fp"],
            "fn": counts["fn"],
        }
    return Scored(metrics=metrics, scores=scores, latencies=latency.seconds, field_support=support)

"""`chatocr eval --compare A B`: what changed between two runs, per field and per document."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from chatocr.errors import DatasetError
from chatocr.eval.report import fmt
from chatocr.eval.runner import METRICS, SCORES

COMPARED_OVERALL = [
    "precision",
    "recall",
    "f1",
    "f1_strict",
    "null_accuracy",
    "grounding_rate",
    "ece",
    "seconds_per_doc",
    "peak_rss_mb",
]
COMPARED_FIELD = ["precision", "recall", "f1"]


@dataclass(frozen=True)
class Change:
    """A (document, field) whose correctness differs between the runs."""

    id: str
    field: str
    label: str | None
    old: str | None
    new: str | None
    now_correct: bool


@dataclass
class Comparison:
    overall: dict[str, tuple[Any, Any, float | None]]  # metric -> (A, B, B - A)
    fields: dict[str, dict[str, tuple[Any, Any, float | None]]]
    changes: list[Change] = field(default_factory=list)
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)

    @property
    def fixed(self) -> list[Change]:
        return [c for c in self.changes if c.now_correct]

    @property
    def broken(self) -> list[Change]:
        return [c for c in self.changes if not c.now_correct]


def _load(run_dir: Path, name: str) -> Any:
    path = run_dir / name
    if not path.is_file():
        raise DatasetError(f"{path}: not found; is {run_dir} a `chatocr eval` run folder?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: bad JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def _delta(a: Any, b: Any) -> float | None:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(b) - float(a)
    return None


def compare_runs(run_a: str | Path, run_b: str | Path) -> Comparison:
    """Compare two run folders (their metrics.json and scores.json)."""
    run_a, run_b = Path(run_a), Path(run_b)
    metrics_a, metrics_b = _load(run_a, METRICS), _load(run_b, METRICS)
    scores_a, scores_b = _load(run_a, SCORES), _load(run_b, SCORES)
    for path, data in ((run_a / METRICS, metrics_a), (run_b / METRICS, metrics_b)):
        if not isinstance(data, dict) or "overall" not in data or "fields" not in data:
            raise DatasetError(f"{path}: not a metrics file (needs 'overall' and 'fields')")

    overall = {}
    for key in COMPARED_OVERALL:
        a, b = metrics_a["overall"].get(key), metrics_b["overall"].get(key)
        overall[key] = (a, b, _delta(a, b))
    fields: dict[str, dict[str, tuple[Any, Any, float | None]]] = {}
    for name in list(metrics_a["fields"]) + [n for n in metrics_b["fields"] if n not in metrics_a["fields"]]:
        row_a, row_b = metrics_a["fields"].get(name, {}), metrics_b["fields"].get(name, {})
        fields[name] = {k: (row_a.get(k), row_b.get(k), _delta(row_a.get(k), row_b.get(k))) for k in COMPARED_FIELD}

    changes: list[Change] = []
    for doc_id in sorted(set(scores_a) & set(scores_b)):
        doc_a, doc_b = scores_a[doc_id], scores_b[doc_id]
        for name in doc_a:
            if name in doc_b and bool(doc_a[name]["correct"]) != bool(doc_b[name]["correct"]):
                changes.append(
                    Change(
                        id=doc_id,
                        field=name,
                        label=doc_b[name].get("label"),
                        old=doc_a[name].get("value"),
                        new=doc_b[name].get("value"),
                        now_correct=bool(doc_b[name]["correct"]),
                    )
                )
    return Comparison(
        overall=overall,
        fields=fields,
        changes=changes,
        only_in_a=sorted(set(scores_a) - set(scores_b)),
        only_in_b=sorted(set(scores_b) - set(scores_a)),
    )


LOWER_IS_BETTER = {"ece", "seconds_per_doc", "peak_rss_mb"}


def _signed(delta: float | None, lower_is_better: bool = False) -> str:
    if delta is None:
        return ""
    better = delta < 0 if lower_is_better else delta > 0
    colour = "dim" if delta == 0 else "green" if better else "red"
    return f"[{colour}]{delta:+.3f}[/{colour}]"


def print_comparison(comparison: Comparison, console: Console, label_a: str = "A", label_b: str = "B") -> None:
    table = Table(title=f"overall: {label_a} -> {label_b}")
    table.add_column("metric")
    for header in (label_a, label_b, "delta"):
        table.add_column(header, justify="right")
    for key, (a, b, delta) in comparison.overall.items():
        table.add_row(key, fmt(a), fmt(b), _signed(delta, key in LOWER_IS_BETTER))
    console.print(table)

    table = Table(title="per field (largest F1 change first)")
    table.add_column("field")
    for header in ("P", "dP", "R", "dR", "F1", "dF1"):
        table.add_column(header, justify="right")
    ordered = sorted(comparison.fields.items(), key=lambda kv: -abs(kv[1]["f1"][2] or 0.0))
    for name, row in ordered:
        cells = []
        for key in COMPARED_FIELD:
            a, b, delta = row[key]
            cells += [f"{fmt(a)} -> {fmt(b)}", _signed(delta)]
        table.add_row(name, *cells)
    console.print(table)

    console.print(f"{len(comparison.fixed)} answers became right, {len(comparison.broken)} became wrong")
    for change in comparison.changes:
        mark = "[green]fixed[/green] " if change.now_correct else "[red]broken[/red]"
        console.print(
            f"  {mark} {change.id} {change.field}: {change.old!r} -> {change.new!r} (label {change.label!r})",
            highlight=False,
        )
    if comparison.only_in_a or comparison.only_in_b:
        console.print(
            f"documents only in {label_a}: {len(comparison.only_in_a)}, only in {label_b}: {len(comparison.only_in_b)}"
        )

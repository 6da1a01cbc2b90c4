"""`chatocr eval --compare` on two small hand-made run folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import chatocr.cli.eval_cmd  # registers `eval`
import chatocr.cli.ocr_cmd  # noqa: F401  (a second command keeps `eval` a sub-command)
from chatocr.cli.app import app
from chatocr.eval.compare import compare_runs


def _overall(precision: float, recall: float, f1: float) -> dict[str, Any]:
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "f1_strict": f1 / 2,
        "null_accuracy": 1.0,
        "grounding_rate": 1.0,
        "ece": 0.1,
        "seconds_per_doc": 2.0,
        "peak_rss_mb": 300.0,
    }


def _write_run(folder: Path, metrics: dict[str, Any], scores: dict[str, Any]) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    (folder / "scores.json").write_text(json.dumps(scores), encoding="utf-8")
    return folder


def _score(label: str | None, value: str | None, correct: bool) -> dict[str, Any]:
    return {"label": label, "value": value, "correct": correct, "status": "tp" if correct else "wrong"}


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    run_a = _write_run(
        tmp_path / "a",
        {
            "overall": _overall(0.5, 0.5, 0.5),
            "fields": {
                "total": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3},
                "date": {"precision": 0.0, "recall": 0.0, "f1": 0.0},
            },
        },
        {
            "doc1": {"total": _score("5.00", "5.00", True), "date": _score("2024-01-02", "2024-01-03", False)},
            "doc2": {"total": _score("7.00", None, False), "date": _score("2024-02-02", None, False)},
            "doc3": {"total": _score("1.00", "1.00", True)},
        },
    )
    run_b = _write_run(
        tmp_path / "b",
        {
            "overall": _overall(0.75, 0.6, 2 * 0.75 * 0.6 / 1.35),
            "fields": {
                "total": {"precision": 0.5, "recall": 0.5, "f1": 0.5},
                "date": {"precision": 1.0, "recall": 1.0, "f1": 1.0},
            },
        },
        {
            "doc1": {"total": _score("5.00", "5.00", True), "date": _score("2024-01-02", "2024-01-02", True)},
            "doc2": {"total": _score("7.00", "9.00", False), "date": _score("2024-02-02", "2024-02-02", True)},
            "doc4": {"total": _score("3.00", "3.00", True)},
        },
    )
    return run_a, run_b


def test_compare_runs_deltas_and_changes(runs: tuple[Path, Path]) -> None:
    comparison = compare_runs(*runs)
    a, b, delta = comparison.overall["precision"]
    assert (a, b) == (0.5, 0.75) and delta == pytest.approx(0.25)
    assert comparison.fields["date"]["f1"][2] == pytest.approx(1.0)
    assert comparison.fields["total"]["precision"][2] == pytest.approx(-0.5)
    # doc1.date and doc2.date became right; doc2.total stayed wrong (null -> 9.00), so it is no change
    assert [(c.id, c.field, c.old, c.new, c.now_correct) for c in comparison.changes] == [
        ("doc1", "date", "2024-01-03", "2024-01-02", True),
        ("doc2", "date", None, "2024-02-02", True),
    ]
    assert len(comparison.fixed) == 2 and comparison.broken == []
    assert comparison.only_in_a == ["doc3"] and comparison.only_in_b == ["doc4"]


def test_compare_reports_broken_answers(runs: tuple[Path, Path]) -> None:
    comparison = compare_runs(runs[1], runs[0])  # the other way round: the fixes become breakages
    assert [(c.id, c.field, c.now_correct) for c in comparison.broken] == [
        ("doc1", "date", False),
        ("doc2", "date", False),
    ]


def test_compare_cli(runs: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(app, ["eval", "--compare", str(runs[0]), str(runs[1])], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 answers became right, 0 became wrong" in result.output
    assert "doc1 date: '2024-01-03' -> '2024-01-02'" in result.output
    assert "+0.250" in result.output  # the precision delta
    assert "only in" in result.output


def test_compare_needs_run_folders(tmp_path: Path, runs: tuple[Path, Path]) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["eval", "--compare", str(runs[0]), str(tmp_path / "empty")])
    assert result.exit_code == 14
    assert "metrics.json: not found" in result.output
    (runs[1] / "metrics.json").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--compare", str(runs[0]), str(runs[1])])
    assert result.exit_code == 14 and "not a metrics file" in result.output

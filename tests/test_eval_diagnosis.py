"""The error breakdown: OCR miss, proposal miss, choice miss, false answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.eval.diagnosis import diagnose
from chatocr.eval.matching import MatchOptions
from chatocr.fields import load_schema
from chatocr.result import ExtractionResult, FieldResult
from test_eval_cli import LABELS, ScriptedExtractor, make_dataset, run_eval, use_extractor


def test_each_wrong_answer_gets_its_cause() -> None:
    lines = [
        Line(text=text, box=box_from_rect(10, 10 + 40 * i, 300, 40 + 40 * i), confidence=0.9)
        for i, text in enumerate(["Total: 12.50", "Shop: ACME TRADING", "Cashier: 7"])
    ]
    document = Document(file="r", pages=[Page(page=1, width=400, height=200, lines=lines)])
    schema = load_schema(fields="total,company,date,tel,cashier")
    result = ExtractionResult(
        file="r",
        document=document,
        fields={
            "total": FieldResult(value=None),  # proposed, not chosen
            "company": FieldResult(value="SHOP", raw="SHOP"),  # printed, never proposed
            "date": FieldResult(value="2020-01-02"),  # not in the OCR text at all
            "tel": FieldResult(value="555"),  # absent, but answered
            "cashier": FieldResult(value="7", raw="7"),  # right: no cause
        },
    )
    labels = {"total": "12.50", "company": "ACME TRADING", "date": "2020-01-01", "cashier": "7"}
    proposals = {"total": ["12.50", "Cashier: 7"], "company": ["Total: 12.50"], "date": [], "cashier": ["7"]}
    causes = diagnose(result, schema, labels, {"tel"}, proposals, MatchOptions())
    assert causes == {
        "total": "choice_miss",
        "company": "proposal_miss",
        "date": "ocr_miss",
        "tel": "false_answer",
    }


def test_eval_reports_the_breakdown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dataset_dir = make_dataset(tmp_path / "tiny", LABELS, absent={"c": ["total"]})
    use_extractor(monkeypatch, ScriptedExtractor())
    result = run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    breakdown = metrics["error_breakdown"]
    # b: company BAR and total 5.00 are not in its OCR text; c: total is absent but answered.
    assert breakdown["overall"] == {"ocr_miss": 2, "proposal_miss": 0, "choice_miss": 0, "false_answer": 1}
    assert breakdown["fields"]["total"] == {"ocr_miss": 1, "false_answer": 1}
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "## Where the errors are" in report

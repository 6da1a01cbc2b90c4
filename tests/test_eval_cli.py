"""`chatocr eval` end to end on a tiny dataset with a scripted extractor (no models)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

import chatocr.cli.eval_cmd  # registers `eval`
import chatocr.cli.ocr_cmd  # noqa: F401  (a second command keeps `eval` a sub-command)
from chatocr.cli.app import app
from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.errors import BackendUnavailableError, InputFileError, OptionsError
from chatocr.eval import harness
from chatocr.eval.dataset import load_dataset
from chatocr.eval.runner import schema_from_labels
from chatocr.fields.spec import FieldSpec, Schema
from chatocr.options import Options
from chatocr.result import ExtractionResult, FieldResult

runner = CliRunner()


def make_dataset(root: Path, docs: dict[str, dict[str, str]], absent: dict[str, list[str]] | None = None) -> Path:
    """A tiny dataset in the shared benchmark layout (blank images: the scripted extractor does not read them)."""
    for sub in ("images", "labels", "absent"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for doc_id, labels in docs.items():
        Image.new("RGB", (40, 20), "white").save(root / "images" / f"{doc_id}.png")
        (root / "labels" / f"{doc_id}.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    for doc_id, names in (absent or {}).items():
        (root / "absent" / f"{doc_id}.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
    return root


# What the scripted extractor "reads" from each document: field -> (printed text, confidence).
ANSWERS: dict[str, dict[str, tuple[str, float]]] = {
    "a": {"company": ("ACME LTD", 0.9), "total": ("10.00", 0.8)},
    "b": {"company": ("FOO", 0.7)},  # company wrong (label BAR), total missed (label 5.00)
    "c": {"company": ("CAFE", 0.95), "total": ("3.00", 0.4)},  # total is absent from c: an FP
}
LABELS = {
    "a": {"company": "ACME LTD", "total": "10.00"},
    "b": {"company": "BAR", "total": "5.00"},
    "c": {"company": "CAFE"},
}


class ScriptedExtractor:
    """Answers from ANSWERS, with a one-line-per-answer OCR document so grounding can be checked."""

    def __init__(self, fail: dict[str, Exception] | None = None) -> None:
        self.calls: list[str] = []
        self.schemas: dict[str, list[str]] = {}
        self.fail = fail or {}

    def __call__(self, path: Path, schema: Schema, name: str) -> ExtractionResult:
        self.calls.append(name)
        self.schemas[name] = schema.names
        if name in self.fail:
            raise self.fail[name]
        lines, fields = [], {}
        for index, spec in enumerate(schema.fields):
            answer = ANSWERS.get(name, {}).get(spec.name)
            box = box_from_rect(10, 10 + 30 * index, 200, 30 + 30 * index)
            if answer is None:
                fields[spec.name] = FieldResult(value=None, confidence=0.1)
                continue
            lines.append(Line(text=f"{spec.name}: {answer[0]}", box=box, confidence=0.9))
            # company "ACME LTD" is printed where the scripted OCR put it; the others cite their own line
            fields[spec.name] = FieldResult(value=answer[0], raw=answer[0], confidence=answer[1], page=1, box=box)
        document = Document(file=str(path), pages=[Page(page=1, width=300, height=300, lines=lines)])
        return ExtractionResult(file=str(path), fields=fields, document=document)


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "tiny", LABELS, absent={"c": ["total"]})


def use_extractor(monkeypatch: pytest.MonkeyPatch, extractor: Callable[..., Any]) -> None:
    monkeypatch.setattr(harness, "make_extract_fn", lambda options, **kwargs: extractor)


def run_eval(*args: str) -> Any:
    return runner.invoke(app, ["eval", *args])


def test_end_to_end_writes_run_folder(monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path) -> None:
    extractor = ScriptedExtractor()
    use_extractor(monkeypatch, extractor)
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("kept", encoding="utf-8")

    result = run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "overall" in result.output and "company" in result.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "kept"

    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c"]
    assert set(records[0]["fields"]["company"]) >= {"value", "raw", "confidence", "page", "box"}
    assert records[0]["grounded"] == {"company": True, "total": True}
    assert records[1]["grounded"]["total"] is None  # null answer: not checked
    assert sorted(p.name for p in out.glob("*.jsonl")) == ["predictions.jsonl"]

    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    overall = metrics["overall"]
    assert set(overall) >= {
        "precision",
        "recall",
        "f1",
        "f1_strict",
        "null_accuracy",
        "grounding_rate",
        "ece",
        "seconds_per_doc",
        "peak_rss_mb",
    }
    # TP: a.company, a.total, c.company = 3; FP: b.company (wrong), c.total (absent) = 2;
    # FN: b.company (wrong), b.total (null) = 2
    assert (overall["tp"], overall["fp"], overall["fn"]) == (3, 2, 2)
    assert overall["precision"] == pytest.approx(0.6)
    assert overall["recall"] == pytest.approx(0.6)
    assert overall["f1"] == pytest.approx(0.6)
    assert overall["null_accuracy"] == 0.0  # the one absent field was answered
    assert overall["grounding_rate"] == 1.0
    assert overall["documents"] == 3 and overall["errors"] == 0
    assert overall["peak_rss_mb"] > 0 and overall["seconds_per_doc"] >= 0
    # ECE over the 5 non-null answers, hand-computed by bin:
    # 0.9 bin: a.company (0.9, right), c.company (0.95, right) -> |1 - 0.925| * 2/5
    # 0.8 bin: a.total (0.8, right) -> 0.2 * 1/5; 0.7 bin: b.company (0.7, wrong) -> 0.7 * 1/5;
    # 0.4 bin: c.total (0.4, wrong) -> 0.4 * 1/5
    assert overall["ece"] == pytest.approx(0.075 * 2 / 5 + 0.2 / 5 + 0.7 / 5 + 0.4 / 5)
    company = metrics["fields"]["company"]
    assert company["support"] == 3 and company["f1"] == pytest.approx(2 / 3)
    assert metrics["fields"]["total"]["absent"] == 1

    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    assert scores["b"]["company"] == {"label": "BAR", "value": "FOO", "correct": False, "status": "wrong"}
    assert scores["c"]["total"]["status"] == "fp"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| company |" in report and "charts/field_f1.png" in report
    for chart in ("field_f1.png", "calibration.png", "latency.png"):
        assert (out / "charts" / chart).read_bytes().startswith(b"\x89PNG")


def test_resume_skips_predicted_ids(monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = ScriptedExtractor()
    use_extractor(monkeypatch, first)
    assert run_eval(str(dataset_dir), "--fields", "company,total", "--limit", "2", "--out", str(out)).exit_code == 0
    assert first.calls == ["a", "b"]

    # a killed run leaves half a line behind: it is dropped and redone
    with (out / "predictions.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"id": "c", "fields": {"comp')
    second = ScriptedExtractor()
    use_extractor(monkeypatch, second)
    result = run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert second.calls == ["c"]
    lines = (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c"]

    third = ScriptedExtractor()
    use_extractor(monkeypatch, third)
    assert run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out)).exit_code == 0
    assert third.calls == []
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8"))["overall"]["documents"] == 3


def test_refuses_to_mix_runs(monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path) -> None:
    use_extractor(monkeypatch, ScriptedExtractor())
    out = tmp_path / "run"
    assert run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out)).exit_code == 0
    result = run_eval(str(dataset_dir), "--fields", "company", "--out", str(out))
    assert result.exit_code == 2
    assert "different spec" in result.output


def test_document_errors_are_recorded(monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path) -> None:
    use_extractor(monkeypatch, ScriptedExtractor(fail={"b": InputFileError("b.png: truncated image")}))
    out = tmp_path / "run"
    result = run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out))
    assert result.exit_code == 0, result.output
    records = {json.loads(x)["id"]: json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()}
    assert records["b"]["error"]["code"] == "input_file"
    overall = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["overall"]
    assert overall["errors"] == 1
    assert overall["fn"] == 2  # both labelled fields of the failed document count as missed


def test_failed_document_does_not_count_as_null_answers(
    monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path
) -> None:
    use_extractor(monkeypatch, ScriptedExtractor(fail={"c": InputFileError("c.png: truncated image")}))
    out = tmp_path / "run"
    assert run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out)).exit_code == 0
    overall = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["overall"]
    assert overall["absent_fields"] == 0 and overall["null_accuracy"] is None
    assert (overall["tp"], overall["fp"], overall["fn"]) == (2, 1, 3)  # c.company missed


def test_a_crash_on_one_document_is_recorded(
    monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path
) -> None:
    use_extractor(monkeypatch, ScriptedExtractor(fail={"a": ArithmeticError("decimal overflow")}))
    out = tmp_path / "run"
    result = run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out))
    assert result.exit_code == 0, result.output
    records = {json.loads(x)["id"]: json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()}
    assert records["a"]["error"] == {"code": "internal_error", "message": "ArithmeticError: decimal overflow"}
    assert "fields" in records["b"] and "fields" in records["c"]


def test_unreachable_backend_stops_the_run(monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path) -> None:
    use_extractor(monkeypatch, ScriptedExtractor(fail={"b": BackendUnavailableError("connection refused")}))
    out = tmp_path / "run"
    result = run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out))
    assert result.exit_code == BackendUnavailableError.exit_code
    assert "connection refused" in result.output
    assert [json.loads(x)["id"] for x in (out / "predictions.jsonl").read_text().splitlines()] == ["a"]


def test_min_confidence_is_validated_used_and_recorded(
    monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    bad = run_eval(str(dataset_dir), "--fields", "company,total", "--min-confidence", "1.5", "--out", str(out))
    assert bad.exit_code == OptionsError.exit_code and "extract.min_confidence" in bad.output
    assert not (out / "predictions.jsonl").exists()

    used: list[Options] = []

    def make_extract_fn(options: Options, **kwargs: Any) -> ScriptedExtractor:
        used.append(options)
        return ScriptedExtractor()

    monkeypatch.setattr(harness, "make_extract_fn", make_extract_fn)
    result = run_eval(str(dataset_dir), "--fields", "company,total", "--min-confidence", "0.3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert [o.extract.min_confidence for o in used] == [0.3]
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["backend"]["min_confidence"] == 0.3 and "--min-confidence 0.3" in info["command"]
    # predictions made at one threshold are not resumed at another (or at the model's own)
    again = run_eval(str(dataset_dir), "--fields", "company,total", "--out", str(out))
    assert again.exit_code == OptionsError.exit_code and "different backend" in again.output


def test_fields_from_labels(monkeypatch: pytest.MonkeyPatch, dataset_dir: Path, tmp_path: Path) -> None:
    extractor = ScriptedExtractor()
    use_extractor(monkeypatch, extractor)
    result = run_eval(str(dataset_dir), "--fields-from-labels", "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert extractor.schemas == {"a": ["company", "total"], "b": ["company", "total"], "c": ["company", "total"]}


def test_fields_from_labels_uses_a_matching_template(tmp_path: Path) -> None:
    root = make_dataset(
        tmp_path / "zh",
        {"r": {"company": "ACME", "date": "2024-01-02", "address": "1 Road", "total": "1.00"}, "x": {"foo": "1"}},
    )
    dataset = load_dataset(root)
    receipt = Schema(name="receipt", fields=[FieldSpec(name=n) for n in ("company", "date", "address", "total")])
    schema_for = schema_from_labels({"receipt": receipt})
    assert schema_for(dataset.items[0]) is receipt
    other = schema_for(dataset.items[1])
    assert other is not None and other.names == ["foo"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], 9, "exactly one of"),
        (["--fields", "a", "--template", "receipt"], 9, "exactly one of"),
        (["--template", "no_such_template"], 9, "no_such_template"),
    ],
)
def test_bad_field_specs(dataset_dir: Path, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    result = run_eval(str(dataset_dir), *args, "--out", str(tmp_path / "run"))
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_malformed_dataset_is_a_clear_error(dataset_dir: Path, tmp_path: Path) -> None:
    (dataset_dir / "labels" / "b.json").write_text("{oops", encoding="utf-8")
    result = run_eval(str(dataset_dir), "--fields", "company", "--out", str(tmp_path / "run"))
    assert result.exit_code == 14
    assert "b.json" in result.output and "bad JSON" in result.output


def test_real_extractor_is_built_from_options() -> None:
    extract = harness.make_extract_fn(Options.create(**{"backend.name": "local"}))
    assert callable(extract)


@pytest.mark.slow
def test_real_extractor_on_a_rendered_receipt(tmp_path: Path) -> None:
    """The harness around the real OCR + extraction pipeline (rule strategy: no language model needed)."""
    from PIL import ImageDraw, ImageFont

    from chatocr.eval.harness import evaluate
    from chatocr.eval.runner import fixed_schema
    from chatocr.fields import load_schema

    root = make_dataset(tmp_path / "receipts", {"r1": {"date": "2024-01-02", "total": "12.50"}})
    image = Image.new("RGB", (640, 360), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    for row, text in enumerate(["ACME STORE", "Date: 2024-01-02", "Coffee 12.50", "TOTAL 12.50"]):
        draw.text((40, 40 + 70 * row), text, fill="black", font=font)
    image.save(root / "images" / "r1.png")

    extract = harness.make_extract_fn(Options.create(**{"extract.strategy": "rules", "ocr.orientation": False}))
    scored, progress = evaluate(
        load_dataset(root), fixed_schema(load_schema(fields="date,total")), extract, tmp_path / "run"
    )
    overall = scored.metrics["overall"]
    assert progress.predicted == 1 and overall["errors"] == 0
    assert overall["f1"] == 1.0, scored.scores
    # the extractor grounds its answers; the harness's independent check must agree
    assert overall["grounding_checked"] == 2 and overall["grounding_rate"] == 1.0
    assert overall["seconds_per_doc"] > 0 and overall["peak_rss_mb"] > 50


def test_ground_truth_ocr_needs_the_ocr_folder(dataset_dir: Path, tmp_path: Path) -> None:
    result = run_eval(str(dataset_dir), "--fields", "company", "--ground-truth-ocr", "--out", str(tmp_path / "run"))
    assert result.exit_code == 14
    assert "--ground-truth-ocr" in result.output and "a.png" in result.output

"""Batch runner: the results file as resume record, workers, kill-and-resume, CSV, Ray."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from chatocr import batch
from chatocr.batch import ResultsFile, find_inputs, write_csv
from chatocr.cli import _load_commands
from chatocr.cli.app import app
from chatocr.errors import InputFileError, OptionsError
from drawing import text_font

REPO = Path(__file__).resolve().parents[1]
CHATOCR = str(Path(sys.executable).with_name("chatocr"))


def make_receipt(path: Path, number: int) -> None:
    """A small receipt image with a total the fake backend can find."""
    img = Image.new("RGB", (520, 260), "white")
    draw = ImageDraw.Draw(img)
    font = text_font(26)
    draw.text((30, 30), f"SHOP NUMBER {number}", fill="black", font=font)
    draw.text((30, 100), "Date: 12/03/2021", fill="black", font=font)
    draw.text((30, 170), f"TOTAL: {number}.50", fill="black", font=font)
    img.save(path)


# ---------------------------------------------------------------------------------------------
# The results file


def test_results_file_trims_partial_last_line(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    good = {"file": "a.png", "fields": {}}
    out.write_text(json.dumps(good) + "\n" + '{"file": "b.png", "fie')
    results = ResultsFile(out)
    assert results.done(retry_failed=False) == {"a.png"}
    assert out.read_text() == json.dumps(good) + "\n"


def test_retry_failed_removes_error_records(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    records = [
        {"file": "a.png", "fields": {}},
        {"file": "b.png", "error": {"code": "input_file", "message": "bad"}},
    ]
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert ResultsFile(out).done(retry_failed=False) == {"a.png", "b.png"}
    assert ResultsFile(out).done(retry_failed=True) == {"a.png"}
    assert [json.loads(line)["file"] for line in out.read_text().splitlines()] == ["a.png"]


def test_corrupt_results_file_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_text("not json\n")
    with pytest.raises(InputFileError, match=r"r\.jsonl:1"):
        ResultsFile(out).done(retry_failed=False)


def test_find_inputs_folder_and_glob(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "a.jpg", "sub/c.pdf", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert find_inputs(str(tmp_path)) == sorted(str(tmp_path / n) for n in ("a.jpg", "b.png", "sub/c.pdf"))
    assert find_inputs(str(tmp_path / "*.png")) == [str(tmp_path / "b.png")]
    with pytest.raises(InputFileError, match="no documents"):
        find_inputs(str(tmp_path / "*.tiff"))


def test_write_csv_one_row_per_document(tmp_path: Path) -> None:
    records = [
        {"file": "a.png", "fields": {"total": {"value": "3.50"}, "date": {"value": None}}},
        {"file": "b.png", "error": {"code": "input_file", "message": "empty"}},
    ]
    path = tmp_path / "r.csv"
    write_csv(records, ["total", "date"], path)
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["file", "total", "date", "error"], ["a.png", "3.50", "", ""], ["b.png", "", "", "input_file"]]


# ---------------------------------------------------------------------------------------------
# End to end through the CLI, with real OCR and the fake LLM backend loaded as a plugin module.


@pytest.fixture(scope="module")
def receipts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("receipts")
    for i in range(1, 7):
        make_receipt(folder / f"r{i}.png", i)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)  # truncated PNG
    return folder


def _batch_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["CHATOCR_PLUGINS"] = "schema_first_backend,kill_point_engine"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "tests"), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def _batch_cmd(folder: Path, out: Path, *extra: str) -> list[str]:
    return [CHATOCR, "batch", str(folder), "--out", str(out), "--fields", "total", "--backend", "schema-first", *extra]


def _records(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.slow
def test_batch_killed_midway_resumes_without_loss_or_duplicates(receipts: Path, tmp_path: Path) -> None:
    """The kill lands at a known point: inside the OCR of the third receipt (tests/kill_point_engine.py),
    when broken.png, r1 and r2 are done; r3 is lost with the process and redone on resume."""
    out = tmp_path / "results.jsonl"
    blocked = tmp_path / "blocked"
    engine = ("--engine", "rapidocr-kill-point")
    proc = subprocess.Popen(
        _batch_cmd(receipts, out, *engine),
        env=_batch_env(CHATOCR_TEST_BLOCK_AT="3", CHATOCR_TEST_BLOCKED=str(blocked)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    # The third page's OCR has begun, so the first two receipts' records are written or on their way.
    while time.time() < deadline and not (blocked.exists() and out.exists() and len(out.read_text().splitlines()) == 3):
        assert proc.poll() is None, "the batch ended before the kill point"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written_before = len(out.read_text().splitlines())
    assert written_before == 3, "killed inside the third receipt, after broken.png, r1 and r2"
    assert sorted(Path(str(r["file"])).name for r in _records(out)) == ["broken.png", "r1.png", "r2.png"]

    done = subprocess.run(_batch_cmd(receipts, out, *engine, "--csv"), env=_batch_env(), capture_output=True, text=True)
    records = _records(out)
    files = [r["file"] for r in records]
    expected = sorted(str(p) for p in receipts.iterdir())
    assert sorted(files) == expected, "every document exactly once"
    assert f"{written_before} already done" in done.stderr
    broken = next(r for r in records if str(r["file"]).endswith("broken.png"))
    assert broken["error"]["code"] == "input_file"  # type: ignore[index]
    assert done.returncode == 3, "exit code of the failure's error class (InputFileError)"
    for r in records:
        if "fields" in r:
            assert set(r) == {"file", "fields"}
            total = r["fields"]["total"]  # type: ignore[index]
            assert set(total) >= {"value", "raw", "confidence", "page", "box"}
    assert (tmp_path / "results.csv").exists()
    # A third run with the same arguments has nothing to do.
    again = subprocess.run(_batch_cmd(receipts, out), env=_batch_env(), capture_output=True, text=True)
    assert "7 already done, 0 extracted, 0 failed in this run" in again.stderr
    assert len(_records(out)) == 7


@pytest.mark.slow
def test_batch_two_workers_matches_one_worker(receipts: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    subprocess.run(_batch_cmd(receipts, one, "--workers", "1"), env=_batch_env(), capture_output=True, check=False)
    subprocess.run(_batch_cmd(receipts, two, "--workers", "2"), env=_batch_env(), capture_output=True, check=False)
    by_file_one = {r["file"]: r for r in _records(one)}
    by_file_two = {r["file"]: r for r in _records(two)}
    assert by_file_one == by_file_two


@pytest.mark.slow
def test_batch_on_local_ray(receipts: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    out = tmp_path / "ray.jsonl"
    env = _batch_env()
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run(
        _batch_cmd(receipts, out, "--runner", "ray", "--workers", "2"),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    records = _records(out)
    assert sorted(r["file"] for r in records) == sorted(str(p) for p in receipts.iterdir()), proc.stderr[-2000:]
    assert proc.returncode == 3


@pytest.mark.slow
def test_batch_strategy_rules_never_calls_the_backend(tmp_path: Path) -> None:
    make_receipt(tmp_path / "r.png", 7)
    out = tmp_path / "out.jsonl"
    # An unreachable server: any model call would turn the record into an error.
    base = [CHATOCR, "batch", str(tmp_path / "r.png"), "--fields", "total", "--backend", "openai"]
    base += ["--base-url", "http://127.0.0.1:9/v1"]
    rules = subprocess.run([*base, "--out", str(out), "--strategy", "rules"], capture_output=True, text=True)
    assert rules.returncode == 0, rules.stderr[-2000:]
    assert _records(out)[0]["fields"]["total"]["value"] == "7.50"  # type: ignore[index]

    asked = tmp_path / "asked.jsonl"
    model = subprocess.run([*base, "--out", str(asked), "--strategy", "model"], capture_output=True, text=True)
    assert model.returncode != 0
    assert _records(asked)[0]["error"]["code"] == "backend_unavailable"  # type: ignore[index]


def test_workers_is_a_count_or_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    assert batch.parse_workers("3") == 3
    for bad in ("0", "-1", "many"):
        with pytest.raises(OptionsError):
            batch.parse_workers(bad)
    monkeypatch.setattr(batch.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(batch, "_available_memory_bytes", lambda: 3 * batch.WORKER_MEMORY_BYTES + 1)
    assert batch.parse_workers("auto") == 3, "memory for three workers: three, not one per core"
    monkeypatch.setattr(batch, "_available_memory_bytes", lambda: 100 * batch.WORKER_MEMORY_BYTES)
    assert batch.parse_workers("auto") == 8, "plenty of memory: one per core"
    monkeypatch.setattr(batch, "_available_memory_bytes", lambda: 1024)
    assert batch.parse_workers("auto") == 1, "always at least one"


def test_a_bad_workers_value_is_an_options_error(receipts: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    proc = subprocess.run(
        _batch_cmd(receipts, out, "--workers", "lots"), env=_batch_env(), capture_output=True, text=True
    )
    assert proc.returncode == OptionsError.exit_code
    assert "--workers" in proc.stderr and not out.exists()


# ---------------------------------------------------------------------------------------------
# --min-confidence: validated like `chatocr extract`'s, and carried to every worker's extractor.


def test_batch_min_confidence_out_of_range_is_an_options_error(tmp_path: Path) -> None:
    _load_commands()
    (tmp_path / "r.png").write_bytes(b"not read")
    out = tmp_path / "r.jsonl"
    result = CliRunner().invoke(
        app, ["batch", str(tmp_path), "--out", str(out), "--fields", "total", "--min-confidence", "1.5"]
    )
    assert result.exit_code == OptionsError.exit_code, result.output
    assert "extract.min_confidence" in result.output and "less than or equal to 1" in result.output
    assert not out.exists(), "refused before any document is read"


def test_batch_min_confidence_reaches_the_workers_extractor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the real run_batch and worker initialiser (options serialised as for a process or a Ray
    actor), with threads for processes and a stand-in for the per-document work: no OCR."""
    _load_commands()
    seen: list[tuple[str | None, float | None]] = []

    def fake_extract_record(path: str) -> dict[str, object]:
        options = batch._worker_extractor.options
        seen.append((options.extract.strategy, options.extract.min_confidence))
        return {"file": path, "fields": {}}

    monkeypatch.setattr(batch, "ProcessPoolExecutor", ThreadPoolExecutor)
    monkeypatch.setattr(batch, "extract_record", fake_extract_record)
    monkeypatch.setattr(batch, "_worker_extractor", None)
    monkeypatch.setattr(batch, "_worker_schema", None)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # the initialiser sets them
        monkeypatch.setenv(var, os.environ.get(var, "1"))
    (tmp_path / "r.png").write_bytes(b"not read")
    out = tmp_path / "r.jsonl"
    args = ["batch", str(tmp_path / "r.png"), "--out", str(out), "--fields", "total", "--strategy", "learned"]
    result = CliRunner().invoke(app, [*args, "--min-confidence", "0.25"])
    assert result.exit_code == 0, result.output
    assert seen == [("learned", 0.25)]
    assert _records(out) == [{"file": str(tmp_path / "r.png"), "fields": {}}]

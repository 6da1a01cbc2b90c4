"""Training-sample formats: every format round-trips, the CLI converts, bad samples are clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatocr.cli import _load_commands
from chatocr.cli.app import app
from chatocr.data.export import FORMATS, Sample, from_record, read_samples, to_record, write_samples
from chatocr.errors import DatasetError


def _samples() -> list[Sample]:
    single = Sample(
        messages=[
            {"role": "system", "content": "你阅读文档的OCR文本，判断哪个候选项是所问字段的值。"},
            {
                "role": "user",
                "content": "文档内容：\n[0] 证书编号：GX-2023-0117\n\n字段：证书编号\n候选项：\n0: GX-2023-0117",
            },
            {"role": "assistant", "content": '{"证书编号": 0}'},
        ],
        id="cert_1:证书编号",
        meta={"doc": "cert_1", "gold": "GX-2023-0117"},
    )
    multi = Sample(
        messages=[
            {"role": "user", "content": "Document:\n[0] TOTAL 45.60\n\nField: total"},
            {"role": "assistant", "content": '{"total": 0}'},
            {"role": "user", "content": "Field: date"},
            {"role": "assistant", "content": '{"date": null}'},
        ],
        id="r1",
    )
    return [single, multi]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_round_trips(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"samples.{fmt}.jsonl"
    assert write_samples(_samples(), path, fmt) == 2
    back = list(read_samples(path))
    assert [(s.messages, s.id, s.meta) for s in back] == [(s.messages, s.id, s.meta) for s in _samples()]


def test_format_shapes() -> None:
    sample = _samples()[0]
    xtuner = to_record(sample, "xtuner")
    assert xtuner["conversation"] == [
        {"system": sample.messages[0]["content"], "input": sample.messages[1]["content"], "output": '{"证书编号": 0}'}
    ]
    sharegpt = to_record(sample, "sharegpt")
    assert [t["from"] for t in sharegpt["conversations"]] == ["system", "human", "gpt"]
    assert to_record(sample, "openai")["messages"] == sample.messages
    # multi-turn XTuner: the system prompt only in the first turn, one turn per answer
    multi = to_record(_samples()[1], "xtuner")["conversation"]
    assert len(multi) == 2 and "system" not in multi[0]


def test_bad_samples_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError):
        from_record({"messages": [{"role": "user", "content": "no answer"}]})
    with pytest.raises(DatasetError):
        from_record({"conversations": [{"from": "robot", "value": "?"}]})
    with pytest.raises(DatasetError):
        from_record({"text": "unknown shape"})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.jsonl:1"):
        list(read_samples(bad))
    with pytest.raises(DatasetError):
        write_samples(_samples(), tmp_path / "x.jsonl", "alpaca")


def test_cli_export_converts_between_formats(tmp_path: Path) -> None:
    _load_commands()
    runner = CliRunner()
    source = tmp_path / "openai.jsonl"
    write_samples(_samples(), source, "openai")
    result = runner.invoke(
        app, ["data", "export", str(source), "--out", str(tmp_path / "x.jsonl"), "--format", "xtuner"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["samples"] == 2
    first = json.loads((tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert "conversation" in first
    missing = runner.invoke(app, ["data", "export", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "y.jsonl")])
    assert missing.exit_code == DatasetError.exit_code

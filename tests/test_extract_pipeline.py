"""The extraction stages with a scripted backend: choice, confidence, grounding, rules, JSON shape, CLI."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import chatocr
from chatocr.backends.base import BACKENDS, Completion, LLMBackend, Message
from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.errors import MalformedReplyError
from chatocr.extract import Extractor, build_prompt, ground_value
from chatocr.extract.candidates import Candidate, DocView
from chatocr.extract.extractor import Choice, stage_derive, stage_ground
from chatocr.fields import load_schema
from chatocr.options import Options

# ------------------------------------------------------------------ a scripted backend


class ScriptedBackend(LLMBackend):
    """Answers every choice with ``pick(field, candidate_texts)`` and a fixed probability."""

    name = "scripted-test"
    supports_schema = True
    supports_logprobs = True
    pick: Callable[[str, list[str]], Any] = staticmethod(lambda field, cands: 0)
    probability = 0.9
    reply_override: str | None = None
    calls: list[list[Message]] = []  # noqa: RUF012  (shared on purpose: tests read what was asked)

    def __init__(self, options: object = None) -> None:
        self.options = options

    def complete(
        self, messages: list[Message], *, json_schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> Completion:
        ScriptedBackend.calls.append(messages)
        if ScriptedBackend.reply_override is not None:
            return Completion(text=ScriptedBackend.reply_override)
        assert json_schema is not None
        field = next(iter(json_schema["properties"]))
        n = len(json_schema["properties"][field]["enum"]) - 1
        lines = messages[-1].content.splitlines()
        start = next(i for i, line in enumerate(lines) if line.strip() in ("Candidates:", "候选项："))
        cands = [line.split(": ", 1)[1] for line in lines[start + 1 : start + 1 + n]]
        answer = ScriptedBackend.pick(field, cands)
        text = json.dumps({field: answer}, ensure_ascii=False)
        tokens = [('{"', -0.01), (field, -0.01), ('": ', -0.01), (json.dumps(answer), math.log(self.probability))]
        return Completion(text=text, token_logprobs=[*tokens, ("}", -0.01)])


@pytest.fixture
def scripted() -> Iterator[type[ScriptedBackend]]:
    BACKENDS.register("scripted-test", "test backend")(ScriptedBackend)
    ScriptedBackend.calls = []
    ScriptedBackend.pick = staticmethod(lambda field, cands: 0)
    ScriptedBackend.probability = 0.9
    ScriptedBackend.reply_override = None
    yield ScriptedBackend
    BACKENDS.unregister("scripted-test")


def _doc(rows: list[list[str]], confidence: float = 0.95) -> Document:
    lines = []
    for r, cells in enumerate(rows):
        x = 20
        for text in cells:
            w = 18 * max(1, len(text))
            lines.append(Line(text=text, box=box_from_rect(x, 30 + 40 * r, x + w, 60 + 40 * r), confidence=confidence))
            x += w + 60
    return Document(file="doc.png", pages=[Page(page=1, width=900, height=40 * len(rows) + 100, lines=lines)])


CERTIFICATE = [
    ["荣誉证书"],
    ["张三 同学："],
    ["在第十五届全国大学生数学竞赛（初赛）中荣获"],
    ["全国一等奖"],
    ["指导老师：李四"],
    ["证书编号：CMC2023-0415"],
    ["中国数学会普及工作委员会"],
    ["2023年5月20日"],
]
RECEIPT = [
    ["SYL ROASTED DELIGHTS SDN. BHD."],
    ["75, JALAN SS 22/19,"],
    ["47400 PETALING JAYA"],
    ["DATE: 06/03/2018"],
    ["SUB TOTAL", "50.00"],
    ["TOTAL", "54.50"],
    ["CASH", "60.00"],
]


def _extractor(strategy: str = "hybrid", backend: str = "scripted-test", **more: Any) -> Extractor:
    return Extractor(Options.create(**{"backend.name": backend, "extract.strategy": strategy, **more}))


# ------------------------------------------------------------------ derive (certificate rules)


def test_level_is_provincial_when_the_text_says_preliminary() -> None:
    spec = load_schema(template="certificate").field("级别")
    result = stage_derive(spec, "第十五届全国大学生数学竞赛（初赛）")
    assert result.value == "省赛" and "初赛" in (result.derived_from or "")
    assert stage_derive(spec, "江苏省大学生程序设计大赛").value == "省赛"
    assert stage_derive(spec, "全国大学生数学建模竞赛").value == "国赛"


def test_prize_level_from_text_and_default() -> None:
    spec = load_schema(template="certificate").field("等级")
    assert stage_derive(spec, "荣获 全国一等奖").value == "一等奖"
    assert stage_derive(spec, "荣获二等奖").value == "二等奖"
    assert stage_derive(spec, "荣获优秀奖").value == "优秀奖"
    default = stage_derive(spec, "特发此证，以资鼓励")
    assert default.value == "获奖" and default.derived_from and "default" in default.derived_from


def test_certificate_end_to_end_without_a_model(scripted: type[ScriptedBackend]) -> None:
    result = _extractor("rules").run_document(_doc(CERTIFICATE), load_schema(template="certificate"))
    values = result.values()
    assert values["姓名"] == "张三"
    assert values["比赛名称"] == "第十五届全国大学生数学竞赛"
    assert values["证书编号"] == "CMC2023-0415"  # the printed key is stripped
    assert values["指导老师姓名"] == "李四"
    assert values["级别"] == "省赛" and values["等级"] == "一等奖"
    assert values["证书日期"] == "2023-05-20"
    assert result.fields["证书日期"].derived_from == "2023年5月20日"
    assert values["比赛单位承办单位"] == "中国数学会普及工作委员会"
    assert scripted.calls == []  # rules never ask the model


# ------------------------------------------------------------------ grounding


def test_grounding_rejects_an_invented_value() -> None:
    doc = _doc(RECEIPT)
    view = DocView(doc)
    spec = load_schema(fields="company").field("company")
    invented = Candidate("GOLDEN DRAGON TRADING SDN BHD", [0], 0.95, "model")
    result = stage_ground(spec, Choice(invented, 0.95, True), view)
    assert result.value is None and result.confidence == 0.0
    real = Candidate("SYL ROASTED DELIGHTS SDN. BHD.", [0], 0.9, "position:company")
    assert stage_ground(spec, Choice(real, 0.9, False), view).value == "SYL ROASTED DELIGHTS SDN. BHD."


def test_grounding_tolerates_ocr_slips_but_not_other_text() -> None:
    doc = _doc(RECEIPT)
    assert ground_value("SYL ROASTED DELIGHTS SDN BHD", doc)  # a dropped dot
    assert ground_value("75, JALAN SS 22/19, 47400 PETALING JAYA", doc)  # spans two lines
    assert not ground_value("12 JALAN AMPANG, KUALA LUMPUR", doc)


# ------------------------------------------------------------------ choosing with the model


def test_model_choice_and_confidence_follow_the_model(scripted: type[ScriptedBackend]) -> None:
    schema = load_schema(fields="total")
    scripted.pick = staticmethod(lambda field, cands: cands.index("50.00") if "50.00" in cands else None)
    scripted.probability = 0.9
    confident = _extractor("model").run_document(_doc(RECEIPT), schema).fields["total"]
    assert confident.value == "50.00"  # the model's pick wins over the rule's favourite
    assert scripted.calls, "the model was asked"
    scripted.probability = 0.2
    unsure = _extractor("model").run_document(_doc(RECEIPT), schema).fields["total"]
    assert unsure.value == "50.00" and unsure.confidence < confident.confidence


def test_model_null_means_not_found(scripted: type[ScriptedBackend]) -> None:
    scripted.pick = staticmethod(lambda field, cands: None)
    result = _extractor("model").run_document(_doc(RECEIPT), load_schema(fields="total"))
    assert result.fields["total"].value is None and result.fields["total"].box is None


def test_hybrid_skips_the_model_for_decisive_candidates(scripted: type[ScriptedBackend]) -> None:
    result = _extractor("hybrid").run_document(_doc(RECEIPT), load_schema(fields="date"))
    assert result.fields["date"].value == "2018-03-06"
    assert scripted.calls == []


def test_malformed_replies_raise_after_one_retry(scripted: type[ScriptedBackend]) -> None:
    scripted.reply_override = '{"total": "fifty"}'
    with pytest.raises(MalformedReplyError):
        _extractor("model").run_document(_doc(RECEIPT), load_schema(fields="total"))
    assert len(scripted.calls) == 2


def test_absent_field_is_null_without_asking(scripted: type[ScriptedBackend]) -> None:
    result = _extractor("model").run_document(_doc(RECEIPT), load_schema(fields="发票代码,传真"))
    assert result.values() == {"发票代码": None, "传真": None}


def test_same_input_same_output(scripted: type[ScriptedBackend]) -> None:
    schema = load_schema(template="receipt")
    first = _extractor().run_document(_doc(RECEIPT), schema).export()
    assert first == _extractor().run_document(_doc(RECEIPT), schema).export()


def test_export_shape(scripted: type[ScriptedBackend]) -> None:
    record = _extractor().run_document(_doc(RECEIPT), load_schema(template="receipt")).export()
    assert set(record) == {"file", "fields"} and record["file"] == "doc.png"
    assert list(record["fields"]) == ["company", "date", "address", "total"]
    for field in record["fields"].values():
        assert {"value", "raw", "confidence", "page", "box"} <= set(field) <= {*field, "derived_from"}
        assert 0.0 <= field["confidence"] <= 1.0
        if field["value"] is not None:
            assert field["page"] == 1 and len(field["box"]) == 4 and all(len(p) == 2 for p in field["box"])
    assert record["fields"]["total"]["value"] == "54.50"
    assert record["fields"]["date"] == {**record["fields"]["date"], "value": "2018-03-06", "raw": "06/03/2018"}


# ------------------------------------------------------------------ the prompt


def test_prompt_asks_for_an_index_in_the_schema_language() -> None:
    spec = load_schema(template="certificate").field("姓名")
    prompt = build_prompt(spec, ["张三", "李四"], [(1, "张三 同学："), (4, "指导老师：李四")], language="zh")
    assert prompt.json_schema["properties"]["姓名"]["enum"] == [0, 1, None]
    assert "候选项" in prompt.messages[-1].content and "[4] 指导老师：李四" in prompt.messages[-1].content
    english = build_prompt(load_schema(fields="total").field("total"), ["9.00"], [(0, "TOTAL 9.00")])
    assert "Candidates" in english.messages[-1].content


# ------------------------------------------------------------------ CLI


@pytest.fixture
def fake_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the OCR engine: every existing file 'reads' as the receipt above."""
    from chatocr.errors import InputFileError
    from chatocr.extract import extractor as module

    def run_ocr(source: object, options: object, *, name: str | None = None, on_page: Any = None) -> Document:
        if not Path(str(source)).is_file():
            raise InputFileError(f"{source}: no such file")
        doc = _doc(RECEIPT)
        doc.file = name
        if on_page is not None:
            on_page(1, 1)
        return doc

    monkeypatch.setattr(module, "run_ocr", run_ocr)


def _cli(args: list[str]) -> Any:
    from chatocr.cli import _load_commands
    from chatocr.cli.app import app

    _load_commands()
    return CliRunner().invoke(app, args)


def test_cli_prints_one_json_record_per_file_and_goes_on(tmp_path: Path, fake_ocr: None) -> None:
    image = tmp_path / "r.png"
    image.write_bytes(b"not used: OCR is faked")
    result = _cli(
        ["extract", str(image), str(tmp_path / "missing.png"), "--template", "receipt", "--strategy", "rules"]
    )
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert records[0]["file"] == str(image) and records[0]["fields"]["total"]["value"] == "54.50"
    assert records[1]["file"].endswith("missing.png") and records[1]["error"]["code"] == "input_file"
    assert result.exit_code == 3


def test_cli_csv(tmp_path: Path, fake_ocr: None) -> None:
    image = tmp_path / "r.png"
    image.write_bytes(b"x")
    result = _cli(["extract", str(image), "--fields", "company，total", "--strategy", "rules", "--format", "csv"])
    assert result.exit_code == 0
    rows = result.stdout.strip().splitlines()
    assert rows[0] == "file,company,total,error"
    assert rows[1].endswith("SYL ROASTED DELIGHTS SDN. BHD.,54.50,")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--template", "nope"], 9),
        ([], 9),
        (["--fields", "a", "--template", "receipt"], 9),
        (["--fields", "total", "--backend", "no-such-backend"], 2),
    ],
)
def test_cli_spec_errors_have_their_exit_codes(args: list[str], code: int, tmp_path: Path) -> None:
    result = _cli(["extract", str(tmp_path / "x.png"), *args])
    assert result.exit_code == code
    assert "Traceback" not in result.output


def test_cli_unreachable_server_is_reported_per_file(tmp_path: Path, fake_ocr: None) -> None:
    image = tmp_path / "r.png"
    image.write_bytes(b"x")
    args = ["extract", str(image), "--fields", "total", "--strategy", "model", "--backend", "openai",
            "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]  # fmt: skip
    result = _cli(args)
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["error"]["code"] == "backend_unavailable"
    assert result.exit_code == 11


def test_cli_templates_lists_every_template() -> None:
    result = _cli(["templates"])
    assert result.exit_code == 0
    for name in ("certificate", "receipt", "vat_invoice", "train_ticket", "business_license"):
        assert name in result.stdout


def test_chatocr_extract_is_a_function_beside_the_package(fake_ocr: None, tmp_path: Path) -> None:
    image = tmp_path / "r.png"
    image.write_bytes(b"x")
    result = chatocr.extract(str(image), fields="total,date", extract__strategy="rules")
    assert result.values() == {"total": "54.50", "date": "2018-03-06"}
    from chatocr.extract import Extractor as Imported  # the package is still imported by name

    assert Imported is Extractor and not hasattr(chatocr.extract, "Extractor")


def test_long_documents_are_cut_to_the_model_context(scripted: type[ScriptedBackend]) -> None:
    """Only the lines around the candidates are sent, and fewer when the context is small."""
    from chatocr.extract.candidates import generate
    from chatocr.extract.extractor import context_lines, fitted_prompt

    rows = [[f"item {i} description of something bought {i}"] for i in range(300)] + [["TOTAL", "54.50"]]
    view = DocView(_doc(rows))
    spec = load_schema(fields="total").field("total")
    offered = generate(view, spec)[:6]
    context = context_lines(view, offered, 60)
    assert len(context) <= 60
    backend = ScriptedBackend()
    backend.context_tokens = 300
    prompt = fitted_prompt(backend, spec, offered, context, "en")
    assert backend.count_tokens("\n".join(m.content for m in prompt.messages)) <= 300
    assert "54.50" in prompt.messages[-1].content


def test_progress_is_reported_per_page_then_for_the_fields(tmp_path: Path, fake_ocr: None) -> None:
    image = tmp_path / "r.png"
    image.write_bytes(b"not used: OCR is faked")
    reports: list[tuple[float, str]] = []
    extractor = Extractor(Options.create(None, **{"extract.strategy": "rules"}))
    result = extractor.run(str(image), load_schema(template="receipt"), progress=lambda f, s: reports.append((f, s)))
    assert result.fields["total"].value == "54.50"
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [stage for _, stage in reports] == ["ocr: page 1 of 1", "extracting fields", "fields extracted"]

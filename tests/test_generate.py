"""The generate strategy: the model writes values, chatocr grounds them (scripted stand-ins, no model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatocr.backends.base import Message
from chatocr.backends.openai_compat import OpenAIBackend
from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.extract import Extractor
from chatocr.extract.candidates import DocView
from chatocr.extract.extractor import effective_strategy
from chatocr.extract.generation import build_generate_prompt, document_text, generate_schema
from chatocr.extract.grounding import Grounder
from chatocr.fields import load_schema
from chatocr.fields.spec import FieldSpec, FieldType, Schema
from chatocr.options import Options
from fake_backend import FakeBackend, registered_fake_backend
from fake_openai import FakeOpenAIServer

CERTIFICATE_LINES = [
    "荣誉证书",
    "尹怡奕 同学：",
    "在第十二届全国大学生数学竞赛（初赛）中荣获",
    "一等奖",
    "指导老师：李明",
    "证书编号：2020ZJ086959",
    "中国数学会普及工作委员会",
    "二〇二〇年九月二十四日",
]


def make_document(lines: list[str], *, pages: int = 1, name: str = "doc.png") -> Document:
    per_page = -(-len(lines) // pages)
    out = []
    for p in range(pages):
        chunk = lines[p * per_page : (p + 1) * per_page]
        out.append(
            Page(
                page=p + 1,
                width=1000,
                height=60 * (len(chunk) + 1),
                lines=[
                    Line(text=t, box=box_from_rect(100, 20 + 50 * i, 100 + 24 * len(t), 60 + 50 * i), confidence=0.95)
                    for i, t in enumerate(chunk)
                ],
            )
        )
    return Document(file=name, pages=out)


def extractor(backend: FakeBackend, **options: Any) -> Extractor:
    return Extractor(Options.create(**{"extract.strategy": "generate", **options}), backend=backend)


def test_auto_resolves_to_generate_for_servers_and_checkpoints_only() -> None:
    assert effective_strategy(Options.create(**{"backend.name": "openai"})) == "generate"
    assert effective_strategy(Options.create(**{"backend.name": "transformers"})) == "generate"
    assert effective_strategy(Options()) == "learned"
    assert effective_strategy(Options.create(**{"backend.model": "smollm2-135m-instruct"})) == "hybrid"
    assert effective_strategy(Options.create(**{"extract.strategy": "generate"})) == "generate"


def test_prompt_numbers_lines_and_states_rules_and_exact_keys() -> None:
    schema = load_schema(template="certificate")
    view = DocView(make_document(CERTIFICATE_LINES))
    prompt = build_generate_prompt(schema.fields, document_text(view, "zh"), language="zh")
    user = prompt.messages[-1].content
    assert "[5]证书编号：2020ZJ086959" in user
    assert "文本含“初赛” 或 “省”时为省赛" in user  # the certificate's 级别 rule is spelled out
    assert prompt.json_schema == generate_schema(schema.fields)
    assert prompt.json_schema["required"] == schema.names
    assert prompt.json_schema["properties"]["级别"] == {"enum": ["省赛", "国赛", None]}
    assert prompt.json_schema["properties"]["姓名"] == {"type": ["string", "null"]}


def test_right_values_grounded_wrong_and_absent_values_null_after_one_reask() -> None:
    schema = load_schema(template="certificate")
    backend = FakeBackend().enqueue(
        {
            "姓名": "尹怡奕",  # right
            "比赛名称": "第十二届全国大学生数学竞赛",  # right, inside a longer line
            "证书编号": "2020ZJ086959",  # right, after its printed key
            "指导老师姓名": "王小红",  # wrong: not in the document
            "级别": "国赛",  # enum: derived by the rules, whatever the model says
            "等级": "一等奖",
            "证书日期": "2020-09-24",  # normalised: printed as 二〇二〇年九月二十四日
            "比赛单位承办单位": "浙江大学",  # invented
        },
        {"指导老师姓名": "王晓红", "比赛单位承办单位": None},  # the re-ask: still not in the text
    )
    result = extractor(backend).run_document(make_document(CERTIFICATE_LINES), schema)
    fields = result.fields
    assert fields["姓名"].value == "尹怡奕" and fields["姓名"].page == 1 and fields["姓名"].box is not None
    assert fields["比赛名称"].value == "第十二届全国大学生数学竞赛"
    assert fields["证书编号"].value == "2020ZJ086959" and fields["证书编号"].raw == "2020ZJ086959"
    assert fields["证书日期"].value == "2020-09-24" and fields["证书日期"].raw == "二〇二〇年九月二十四日"
    assert fields["证书日期"].box == box_from_rect(100, 370, 100 + 24 * 11, 410)
    assert fields["指导老师姓名"].value is None and fields["指导老师姓名"].error is None
    assert fields["比赛单位承办单位"].value is None
    assert fields["级别"].value == "省赛" and fields["级别"].derived_from  # the rule (初赛), not the model
    assert fields["等级"].value == "一等奖"
    assert 0 < fields["姓名"].confidence <= 1
    # One re-ask, naming only the values that were not found, asking only for those fields.
    assert len(backend.calls) == 2
    reask = backend.calls[1]
    assert "王小红" in reask.messages[-1].content and "浙江大学" in reask.messages[-1].content
    assert reask.json_schema is not None
    assert reask.json_schema["required"] == ["指导老师姓名", "比赛单位承办单位"]


def test_reask_can_recover_a_value_copied_wrongly() -> None:
    schema = Schema(fields=[FieldSpec(name="指导老师", type=FieldType.text, aliases=["指导老师"])])
    backend = FakeBackend().enqueue({"指导老师": "李明明老师"}, {"指导老师": "李明"})
    result = extractor(backend).run_document(make_document(CERTIFICATE_LINES), schema)
    assert result.fields["指导老师"].value == "李明"
    assert result.fields["指导老师"].raw == "李明"


def test_malformed_value_for_one_field_leaves_the_others_answered() -> None:
    schema = load_schema(fields="姓名,证书编号")
    backend = FakeBackend().enqueue({"姓名": 5, "证书编号": "2020ZJ086959"})
    result = extractor(backend).run_document(make_document(CERTIFICATE_LINES), schema)
    assert result.fields["证书编号"].value == "2020ZJ086959"
    assert result.fields["姓名"].value is None
    assert result.fields["姓名"].error == "malformed_reply"
    assert result.export()["fields"]["姓名"]["error"] == "malformed_reply"
    assert "error" not in result.export()["fields"]["证书编号"]
    assert result.field_errors == {"姓名": "malformed_reply"}


def test_unparseable_reply_nulls_extractive_fields_not_the_document() -> None:
    schema = load_schema(template="certificate")
    backend = FakeBackend().enqueue("I cannot help with that.")
    result = extractor(backend).run_document(make_document(CERTIFICATE_LINES), schema)
    assert result.fields["姓名"].error == "malformed_reply"
    assert result.fields["等级"].value == "一等奖"  # derived fields do not need the model
    assert result.fields["等级"].error is None


def test_grounding_tolerates_ocr_slips_but_not_other_digits() -> None:
    view = DocView(make_document(["TOTAL RM 54.50", "Invoice No: INV-0012345", "GARDENIA BAKERIES (KL) SDN BHD"]))
    grounder = Grounder(view)
    amount = FieldSpec(name="total", type=FieldType.amount)
    code = FieldSpec(name="no", type=FieldType.text)
    text = FieldSpec(name="company", type=FieldType.text)
    assert grounder.locate("54.5", amount) is not None
    assert grounder.locate("54.55", amount) is None
    assert grounder.locate("INV-0012345", code) is not None
    assert grounder.locate("INV-0012346", code) is None  # one digit off: another invoice
    found = grounder.locate("Gardenia Bakeries (K.L) Sdn Bhd", text)  # OCR slip tolerated
    assert found is not None and found.refs == [2] and found.similarity >= 0.8
    assert grounder.locate("Gardenia Foods Berhad", text) is None


def test_long_document_is_read_in_chunks_and_a_list_field_merged() -> None:
    filler = [f"Clause {i}. The parties agree to keep all information confidential." for i in range(120)]
    lines = ["This Agreement is made between Acme Corp.", *filler, "and Beta Industries LLC on March 3, 2009."]
    document = make_document(lines, pages=3)
    schema = Schema(
        fields=[
            FieldSpec(name="party", type=FieldType.list),
            FieldSpec(name="effective_date", type=FieldType.date),
        ]
    )

    def responder(messages: list[Message], _schema: dict[str, Any] | None) -> dict[str, Any]:
        text = messages[-1].content
        parties = [p for p in ("Acme Corp.", "Beta Industries LLC") if p in text]
        return {"party": parties or None, "effective_date": "2009-03-03" if "March 3, 2009" in text else None}

    backend = FakeBackend(responder=responder)
    result = extractor(backend, **{"backend.context_tokens": 1024}).run_document(document, schema)
    assert len(backend.calls) > 2  # did not fit one prompt
    assert all(len(m.content) < 1024 * 3 for call in backend.calls for m in call.messages)
    assert "part 1 of" in backend.calls[0].messages[-1].content
    party = result.fields["party"]
    assert party.value == "Acme Corp.; Beta Industries LLC"
    assert party.items is not None and [i.page for i in party.items] == [1, 3]
    assert result.export()["fields"]["party"]["items"][1]["value"] == "Beta Industries LLC"
    assert result.fields["effective_date"].value == "2009-03-03"
    assert result.fields["effective_date"].page == 3


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def test_openai_backend_salvages_the_valid_fields_of_an_invalid_reply(server: FakeOpenAIServer) -> None:
    # The server keeps answering a number for one field: the backend re-asks, gives up, and the other field stands.
    server.enqueue(content=json.dumps({"姓名": "尹怡奕", "证书编号": 2020}))
    options = Options.create(
        **{"backend.name": "openai", "backend.base_url": server.url, "backend.model": "m", "backend.max_retries": 1}
    )
    backend = OpenAIBackend(options.backend, backoff_s=0.01)
    result = Extractor(options, backend=backend).run_document(
        make_document(CERTIFICATE_LINES), load_schema(fields="姓名,证书编号")
    )
    assert result.fields["姓名"].value == "尹怡奕"
    assert result.fields["证书编号"].error == "malformed_reply"
    request = server.chat_requests[0]["json"]
    assert request["response_format"]["json_schema"]["schema"]["required"] == ["姓名", "证书编号"]
    assert len(server.chat_requests) == 2  # the backend's own re-ask, then no grounding re-ask (nothing unfound)


def test_cli_answers_the_other_fields_and_exits_non_zero_on_a_field_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from chatocr.cli import _load_commands
    from chatocr.cli.app import app
    from chatocr.extract import extractor as extractor_module

    _load_commands()
    image = tmp_path / "cert.png"
    image.write_bytes(b"not read: OCR is replaced below")
    monkeypatch.setattr(extractor_module, "run_ocr", lambda *a, **k: make_document(CERTIFICATE_LINES, name=str(image)))
    with registered_fake_backend() as fake:
        fake.enqueue({"姓名": "尹怡奕", "证书编号": ["not", "a", "string"]})
        result = CliRunner().invoke(
            app, ["extract", str(image), "--fields", "姓名,证书编号", "--backend", "fake", "--strategy", "generate"]
        )
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["fields"]["姓名"]["value"] == "尹怡奕"
    assert record["fields"]["证书编号"] == {**record["fields"]["证书编号"], "value": None, "error": "malformed_reply"}
    assert result.exit_code == 13  # malformed_reply's exit code: the run says something failed


def test_a_short_line_inside_the_value_does_not_ground_it() -> None:
    grounder = Grounder(DocView(make_document(["7", "Confidential Information shall be kept for five years"])))
    assert grounder.locate("7 years", FieldSpec(name="term")) is None

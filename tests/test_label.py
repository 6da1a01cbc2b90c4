"""Teacher labelling against a scripted OpenAI-compatible server on loopback: grounded answers are
kept (normalised), invented ones dropped, unusable replies set aside, and a rerun resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from chatocr.cli import _load_commands
from chatocr.cli.app import app
from chatocr.data.label import check_answer, label_images, teacher_schema
from chatocr.data.samples import build_samples, ocr_cache_path
from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.errors import DatasetError
from chatocr.fields import load_schema
from chatocr.options import Options
from fake_openai import FakeOpenAIServer

RECEIPTS = {
    "a": ["SHOP ABC SDN BHD", "NO 5 JALAN MAJU, 43000 KAJANG", "DATE: 12/03/2018", "TOTAL: 45.60"],
    "b": ["KEDAI BARU ENTERPRISE", "DATE 01-02-2019", "TOTAL RM 7.00"],
    "c": ["MEGA MART", "TOTAL 3.20"],
}


def _document(name: str, texts: list[str]) -> Document:
    lines = [
        Line(text=t, box=box_from_rect(10, 10 + 30 * i, 400, 35 + 30 * i), confidence=0.95) for i, t in enumerate(texts)
    ]
    return Document(file=name, pages=[Page(page=1, width=420, height=40 + 30 * len(texts), lines=lines)])


@pytest.fixture()
def images(tmp_path: Path) -> tuple[Path, Path, Options]:
    """Three receipt images whose OCR is placed in the cache (the test is about the teacher, not OCR)."""
    folder, cache = tmp_path / "images", tmp_path / "ocr"
    folder.mkdir()
    options = Options.create(
        None, **{"backend.name": "openai", "backend.model": "fake-model", "backend.max_retries": 0}
    )
    for doc_id, texts in RECEIPTS.items():
        image = Image.new("RGB", (420, 40 + 30 * len(texts)), "white")
        draw = ImageDraw.Draw(image)
        for i, text in enumerate(texts):
            draw.text((10, 12 + 30 * i), text, fill="black")
        path = folder / f"{doc_id}.png"
        image.save(path)
        target = ocr_cache_path(path, options, cache)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_document(path.name, texts).model_dump_json(), encoding="utf-8")
    return folder, cache, options


def _reply(**values: str | None) -> str:
    return json.dumps({"company": None, "date": None, "address": None, "total": None} | values)


def test_teacher_labels_are_validated_grounded_and_resumable(
    images: tuple[Path, Path, Options], tmp_path: Path
) -> None:
    folder, cache, options = images
    schema = load_schema(template="receipt")
    out = tmp_path / "labelled"
    with FakeOpenAIServer() as server:
        options = Options.create(options, **{"backend.base_url": server.url})
        # a: the total is invented (99.99 is not on the receipt) -> dropped; the rest kept, the date normalised
        server.enqueue(_reply(company="SHOP ABC SDN BHD", date="12/03/2018", address="NO 5 JALAN MAJU, 43000 KAJANG",
                              total="99.99"))  # fmt: skip
        first = label_images(folder, out, schema, options, ocr_cache=cache, limit=1)
        assert (first.labelled, first.fields_dropped) == (1, 1)
        assert len(server.chat_requests) == 1
        # b: good answers; c: a reply that is not JSON -> the document is set aside
        server.enqueue(_reply(company="KEDAI BARU ENTERPRISE", date="01-02-2019", total="7.00"))
        server.enqueue("this is not json")
        second = label_images(folder, out, schema, options, ocr_cache=cache)
        asked = [json.dumps(r["json"], ensure_ascii=False) for r in server.chat_requests[1:]]
    assert second.skipped_done == 1 and second.labelled == 1 and second.rejected == 1
    assert not any("SHOP ABC" in text for text in asked), "a finished document was asked again"

    labels_a = json.loads((out / "labels" / "a.json").read_text(encoding="utf-8"))
    assert labels_a == {"company": "SHOP ABC SDN BHD", "date": "2018-03-12", "address": "NO 5 JALAN MAJU, 43000 KAJANG"}
    meta_a = json.loads((out / "meta" / "a.json").read_text(encoding="utf-8"))
    assert meta_a["dropped"] == {"total": "not grounded in the OCR text"}
    # A generate-style training sample: the extractor's own prompt, the reply with only grounded values.
    sample = meta_a["sample"]
    assert sample["prompt_version"] == "generate-v1"
    assert "[n] is the line number" in sample["messages"][1]["content"]
    assert json.loads(sample["reply"])["total"] is None and json.loads(sample["reply"])["company"]
    assert json.loads((out / "labels" / "b.json").read_text(encoding="utf-8"))["total"] == "7.00"
    assert json.loads((out / "absent" / "b.json").read_text(encoding="utf-8")) == ["address"]
    assert (out / "rejected" / "c.json").is_file() and not (out / "images" / "c.png").exists()
    assert sorted(p.name for p in (out / "images").iterdir()) == ["a.png", "b.png"]

    # the labelled folder is a dataset: it turns into instruction samples with the extractor's prompt
    samples_file = tmp_path / "samples.jsonl"
    stats = build_samples(out, samples_file, options=options, ocr_cache=cache)
    assert stats.documents == 2 and stats.samples >= 5
    records = [json.loads(line) for line in samples_file.read_text(encoding="utf-8").splitlines()]
    fields_a = {r["meta"]["field"] for r in records if r["meta"]["doc"] == "a"}
    assert "total" not in fields_a  # a dropped answer is unknown, never trained as null
    total_b = next(r for r in records if r["id"] == "b:total")
    answer = json.loads(total_b["messages"][-1]["content"])["total"]
    assert (
        answer is not None
        and "7.00" in total_b["messages"][1]["content"].split("Candidates:")[1].splitlines()[answer + 1]
    )


def test_check_answer_rules() -> None:
    doc = _document("x.png", RECEIPTS["a"])
    schema = load_schema(template="receipt")
    assert check_answer(schema.field("total"), "45.60", doc) == ("45.60", None)
    assert check_answer(schema.field("total"), "TOTAL: 45.60", doc) == ("45.60", None)  # printed key stripped
    assert check_answer(schema.field("company"), "ACME CORPORATION", doc)[1] == "not grounded in the OCR text"
    assert check_answer(schema.field("company"), None, doc) == (None, None)
    assert check_answer(schema.field("company"), 12, doc)[1] == "not a string"
    cert = load_schema(template="certificate")
    assert check_answer(cert.field("等级"), "特等奖", doc)[1] == "not one of the choices"
    assert teacher_schema(cert)["properties"]["等级"]["enum"][-1] is None


def test_cli_label_reports_a_missing_folder(tmp_path: Path) -> None:
    _load_commands()
    result = CliRunner().invoke(
        app,
        ["data", "label", "--images", str(tmp_path / "none"), "--out", str(tmp_path / "o"), "--base-url",
         "http://127.0.0.1:9/v1", "--model", "m", "--template", "receipt"],
    )  # fmt: skip
    assert result.exit_code == DatasetError.exit_code


def test_samples_use_exactly_the_extractors_prompt() -> None:
    """Training prompts must be the text the extractor sends at inference, field by field."""
    from chatocr.data.samples import document_samples
    from chatocr.extract import Extractor
    from fake_backend import FakeBackend

    document = _document("a.png", RECEIPTS["a"])
    schema = load_schema(template="receipt")
    options = Options.create(None, **{"extract.strategy": "model"})  # ask the model for every field
    fake = FakeBackend(responder=lambda messages, json_schema: {next(iter(json_schema["properties"])): None})
    Extractor(options, backend=fake).run_document(document, schema)
    asked = {next(iter(call.json_schema["properties"])): call.messages for call in fake.calls if call.json_schema}

    gold = {
        "company": "SHOP ABC SDN BHD",
        "date": "2018-03-12",
        "address": "NO 5 JALAN MAJU, 43000 KAJANG",
        "total": "45.60",
    }
    samples = document_samples(document, gold, set(), schema, Extractor(options), doc_id="a")
    by_field = {s.meta["field"]: s for s in samples}
    assert set(by_field) == set(asked) and asked
    for name, messages in asked.items():
        assert by_field[name].messages[:-1] == [{"role": m.role, "content": m.content} for m in messages]
    answer = json.loads(by_field["total"].messages[-1]["content"])["total"]
    offered = by_field["total"].messages[1]["content"].split("Candidates:\n")[1].split("\n\n")[0].splitlines()
    assert offered[answer].endswith("45.60")


def test_list_fields_are_arrays_in_the_generate_sample(tmp_path: Path) -> None:
    """A list field is asked as the generate prompt asks it (an array of strings), keeps its grounded items
    (the label joins them as the extractor's value does) and is an array in the training sample."""
    from chatocr.backends.json_reply import schema_errors
    from chatocr.extract.generation import generate_schema
    from chatocr.fields.spec import FieldSpec, FieldType, Schema

    texts = ["MEGA MART", "ITEM: BREAD 3.50", "ITEM: MILK 5.50", "TOTAL 9.00"]
    folder, cache = tmp_path / "images", tmp_path / "ocr"
    folder.mkdir()
    image = folder / "d.png"
    Image.new("RGB", (420, 160), "white").save(image)
    schema = Schema(
        name="items",
        fields=[
            FieldSpec(name="company", type=FieldType.text),
            FieldSpec(name="items", type=FieldType.list, aliases=["ITEM"], description="every item bought"),
            FieldSpec(name="payments", type=FieldType.list),
        ],
    )
    with FakeOpenAIServer() as server:
        options = Options.create(
            None,
            **{"backend.name": "openai", "backend.model": "fake-model", "backend.max_retries": 0,
               "backend.base_url": server.url},
        )  # fmt: skip
        target = ocr_cache_path(image, options, cache)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_document(image.name, texts).model_dump_json(), encoding="utf-8")
        # One item printed with its key, one as printed, one invented; the payments all invented.
        server.enqueue(json.dumps({"company": "MEGA MART", "items": ["ITEM: BREAD 3.50", "MILK 5.50", "CAVIAR 99.00"],
                                   "payments": ["VISA 9.00 **** 4242"]}))  # fmt: skip
        stats = label_images(folder, tmp_path / "out", schema, options, ocr_cache=cache)
        sent = server.chat_requests[0]["json"]
    assert stats.labelled == 1 and stats.fields_kept == 2 and stats.fields_dropped == 1
    # The teacher is asked with the generate prompt's schema: the list fields are arrays of strings.
    assert teacher_schema(schema) == generate_schema(schema.fields)
    asked = sent["response_format"]["json_schema"]["schema"]
    assert asked["properties"]["items"] == {"type": ["array", "null"], "items": {"type": "string"}}
    assert "JSON array of strings" in sent["messages"][-1]["content"]

    labels = json.loads((tmp_path / "out" / "labels" / "d.json").read_text(encoding="utf-8"))
    assert labels == {"company": "MEGA MART", "items": "BREAD 3.50; MILK 5.50"}
    meta = json.loads((tmp_path / "out" / "meta" / "d.json").read_text(encoding="utf-8"))
    assert meta["dropped"] == {"payments": "not grounded in the OCR text"}
    assert meta["dropped_items"] == {"items": 1}
    reply = json.loads(meta["sample"]["reply"])
    assert reply == {"company": "MEGA MART", "items": ["BREAD 3.50", "MILK 5.50"], "payments": None}
    assert schema_errors(reply, generate_schema(schema.fields)) == []

    doc = _document("d.png", texts)
    items = schema.field("items")
    assert check_answer(items, ["MILK 5.50", "MILK 5.50"], doc) == ("MILK 5.50", None)  # an item once
    assert check_answer(items, [], doc) == (None, None) and check_answer(items, None, doc) == (None, None)
    assert check_answer(items, ["CAVIAR 99.00"], doc) == (None, "not grounded in the OCR text")

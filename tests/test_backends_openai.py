"""The `openai` backend: failure modes against a scripted fake server, and a real llama.cpp server on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatocr.backends import BACKENDS, Message, create_backend
from chatocr.backends.openai_compat import OpenAIBackend
from chatocr.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    MalformedReplyError,
    OptionsError,
)
from chatocr.options import BackendOptions
from fake_openai import FakeOpenAIServer, free_port

SCHEMA = {
    "type": "object",
    "properties": {"total": {"type": ["string", "null"]}, "date": {"type": ["string", "null"]}},
    "required": ["total", "date"],
    "additionalProperties": False,
}
MESSAGES = [Message("system", "Answer with JSON."), Message("user", "TOTAL 9.00\nDATE 2018-12-25")]
VALID = '{"total": "9.00", "date": "2018-12-25"}'


def make_backend(url: str, **options: object) -> OpenAIBackend:
    settings: dict[str, object] = {"name": "openai", "base_url": url, "timeout_s": 5.0, "max_retries": 2}
    settings.update(options)
    return OpenAIBackend(BackendOptions.model_validate(settings), backoff_s=0.01)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def test_registered_and_created_from_options(server: FakeOpenAIServer) -> None:
    assert "openai" in BACKENDS.names()
    backend = create_backend(BackendOptions(name="openai", base_url=server.url, model="m1"))
    assert isinstance(backend, OpenAIBackend)
    assert backend.describe() == f"openai:m1 @ {server.url}"


def test_valid_reply_uses_json_schema_and_discovers_model(server: FakeOpenAIServer) -> None:
    server.enqueue(content=VALID)
    completion = make_backend(server.url).complete(MESSAGES, json_schema=SCHEMA, max_tokens=64)
    assert json.loads(completion.text) == {"total": "9.00", "date": "2018-12-25"}
    assert completion.attempts == 1
    request = server.chat_requests[0]["json"]
    assert request["model"] == "fake-model"  # asked GET /models because no --model was given
    assert request["temperature"] == 0
    assert request["max_tokens"] == 64
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"] == SCHEMA


def test_falls_back_when_server_rejects_response_format(server: FakeOpenAIServer) -> None:
    server.reject_formats = {"json_schema"}
    server.enqueue(content=VALID)
    backend = make_backend(server.url, model="m")
    completion = backend.complete(MESSAGES, json_schema=SCHEMA)
    assert json.loads(completion.text)["total"] == "9.00"
    assert backend.format_mode == "json_object_schema"
    formats = [r["json"]["response_format"]["type"] for r in server.chat_requests]
    assert formats == ["json_schema", "json_object"]
    # Without json_schema enforcement the schema is spelled out in the system prompt.
    assert '"additionalProperties": false' in server.chat_requests[-1]["json"]["messages"][0]["content"]


def test_json_object_schema_keeps_array_items_for_llama_cpp_python(server: FakeOpenAIServer) -> None:
    # llama-cpp-python's schema-to-grammar converter drops "items" beside a list of types: send an anyOf.
    schema = {
        "type": "object",
        "properties": {"party": {"type": ["array", "null"], "items": {"type": "string"}}},
        "required": ["party"],
        "additionalProperties": False,
    }
    server.reject_formats = {"json_schema"}
    server.enqueue(content='{"party": ["Acme Corp."]}')
    make_backend(server.url, model="m").complete(MESSAGES, json_schema=schema)
    sent = server.chat_requests[-1]["json"]["response_format"]
    assert sent["type"] == "json_object"
    assert sent["schema"]["properties"]["party"] == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    }


def test_api_key_read_from_named_env_var(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATOCR_TEST_KEY", "sk-test-123")
    server.enqueue(content=VALID)
    make_backend(server.url, model="m", api_key_env="CHATOCR_TEST_KEY").complete(MESSAGES, json_schema=SCHEMA)
    headers = {k.lower(): v for k, v in server.chat_requests[0]["headers"].items()}
    assert headers["authorization"] == "Bearer sk-test-123"


def test_no_key_sends_no_authorization(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATOCR_TEST_KEY", raising=False)
    server.enqueue(content=VALID)
    make_backend(server.url, model="m", api_key_env="CHATOCR_TEST_KEY").complete(MESSAGES, json_schema=SCHEMA)
    assert "authorization" not in {k.lower() for k in server.chat_requests[0]["headers"]}


def test_unreachable_port_is_backend_unavailable() -> None:
    backend = make_backend(f"http://127.0.0.1:{free_port()}/v1", model="m", max_retries=1)
    with pytest.raises(BackendUnavailableError) as info:
        backend.complete(MESSAGES, json_schema=SCHEMA)
    assert "cannot reach" in str(info.value)
    assert info.value.exit_code == 11


def test_slow_reply_is_timeout(server: FakeOpenAIServer) -> None:
    server.enqueue(content=VALID, delay_s=2.0)
    backend = make_backend(server.url, model="m", timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError):
        backend.complete(MESSAGES, json_schema=SCHEMA)
    # A read timeout is not retried: one wait, not max_retries + 1 of them.
    assert time.monotonic() - started < 1.5
    assert len(server.chat_requests) == 1


def test_malformed_then_valid_is_reasked(server: FakeOpenAIServer) -> None:
    server.enqueue(content='{"total": "9.00", "date": ')  # truncated JSON
    server.enqueue(content='{"total": 9.0, "date": null}')  # wrong type for total
    server.enqueue(content=VALID)
    completion = make_backend(server.url, model="m").complete(MESSAGES, json_schema=SCHEMA)
    assert completion.attempts == 3
    assert json.loads(completion.text) == {"total": "9.00", "date": "2018-12-25"}
    # The re-ask shows the model its bad reply and says what was wrong.
    last_messages = server.chat_requests[-1]["json"]["messages"]
    assert last_messages[-2] == {"role": "assistant", "content": '{"total": 9.0, "date": null}'}
    assert "$.total must be of type string or null" in last_messages[-1]["content"]


def test_fenced_reply_is_accepted_and_cleaned(server: FakeOpenAIServer) -> None:
    server.enqueue(content='Here it is:\n```json\n{"total": "1.00", "date": null}\n```')
    completion = make_backend(server.url, model="m").complete(MESSAGES, json_schema=SCHEMA)
    assert completion.text == '{"total": "1.00", "date": null}'


def test_always_malformed_raises_after_bounded_attempts(server: FakeOpenAIServer) -> None:
    server.enqueue(content='{"total": "9.00", "extra": 1}')
    with pytest.raises(MalformedReplyError) as info:
        make_backend(server.url, model="m", max_retries=2).complete(MESSAGES, json_schema=SCHEMA)
    assert len(server.chat_requests) == 3
    assert "after 3 attempts" in str(info.value)
    assert "missing the key 'date'" in str(info.value)


def test_server_error_then_success_is_retried(server: FakeOpenAIServer) -> None:
    server.enqueue(status=500, error_message="overloaded")
    server.enqueue(status=429, headers={"Retry-After": "0"})
    server.enqueue(content=VALID)
    completion = make_backend(server.url, model="m").complete(MESSAGES, json_schema=SCHEMA)
    assert json.loads(completion.text)["date"] == "2018-12-25"
    assert len(server.chat_requests) == 3


def test_persistent_server_error_is_backend_error(server: FakeOpenAIServer) -> None:
    server.enqueue(status=503, error_message="model is loading")
    with pytest.raises(BackendError) as info:
        make_backend(server.url, model="m", max_retries=1).complete(MESSAGES, json_schema=SCHEMA)
    assert "503" in str(info.value) and "model is loading" in str(info.value)
    assert len(server.chat_requests) == 2


def test_unauthorized_names_the_env_var(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_LLM_KEY", raising=False)
    server.enqueue(status=401, error_message="invalid api key")
    with pytest.raises(BackendError) as info:
        make_backend(server.url, model="m", api_key_env="MY_LLM_KEY").complete(MESSAGES, json_schema=SCHEMA)
    assert type(info.value) is BackendError
    assert "invalid api key" in str(info.value)
    assert "$MY_LLM_KEY (not set)" in str(info.value)
    assert len(server.chat_requests) == 1  # 4xx is not retried


def test_bad_base_url_is_options_error() -> None:
    with pytest.raises(OptionsError):
        OpenAIBackend(BackendOptions(name="openai", base_url="localhost:8000"))


# -- a real OpenAI-compatible server: llama-cpp-python's own, serving the bundled GGUF ----------


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    pytest.importorskip("llama_cpp")
    for module in ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings"):
        pytest.importorskip(module, reason="llama_cpp.server needs chatocr[local] (its server extra)")
    from chatocr.backends.models import base_model_path

    model = base_model_path()
    port = free_port()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"chatocr-llama-server-{port}.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", "2048", "--n_threads", "1", "--model_alias", "smollm2", "--verbose", "false",
    ]  # fmt: skip
    with open(log_path, "wb") as log_file:
        # One passive thread: the machine running the suite is small and busy (see backends/local.py).
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited early: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not start within 120 s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_real_llama_cpp_server_answers_schema_constrained(llama_server: str) -> None:
    schema = {
        "type": "object",
        "properties": {"total": {"type": ["string", "null"]}, "level": {"enum": ["省赛", "国赛"]}},
        "required": ["total", "level"],
        "additionalProperties": False,
    }
    messages = [
        Message("system", "Extract the fields from the document as JSON."),
        Message("user", "L1: 全国青少年科技大赛 省赛\nL2: TOTAL: 9.00\nFields: total, level"),
    ]
    backend = OpenAIBackend(BackendOptions(name="openai", base_url=llama_server, timeout_s=120), backoff_s=0.1)
    completion = backend.complete(messages, json_schema=schema, max_tokens=48)
    value = json.loads(completion.text)
    assert set(value) == {"total", "level"}
    assert value["level"] in ("省赛", "国赛")
    assert value["total"] is None or isinstance(value["total"], str)
    assert completion.model  # the server reports which model answered
    assert completion.completion_tokens > 0
    # llama-cpp-python's server rejects the json_schema form and enforces {"type": "json_object", "schema"}.
    assert backend.format_mode == "json_object_schema"
    # Same question, same answer: temperature 0.
    assert backend.complete(messages, json_schema=schema, max_tokens=48).text == completion.text
    backend.close()


# -- the generate strategy end to end through the real server (plumbing, not accuracy) ----------

RECEIPT_LINES = [
    "KEDAI BARU ENTERPRISE",
    "NO 12 JALAN MAJU, 43000 KAJANG",
    "TEL: 03-8736 1234",
    "DATE: 25/12/2018",
    "ITEM: BREAD 3.50",
    "ITEM: MILK 5.50",
    "TOTAL: 9.00",
]
RECEIPT_SCHEMA = """\
name: plumbing
language: en
fields:
  - {name: company, description: the shop that issued the receipt, type: text}
  - {name: date, description: the date of the purchase, type: date, aliases: [DATE], normalize: date_iso}
  - {name: total, description: the total paid, type: amount, aliases: [TOTAL], normalize: amount}
  - {name: items, description: every item bought, type: list, aliases: [ITEM]}
  - {name: vessel_registry_mark, description: the ship's registry mark, type: text}
"""


def _receipt_document(name: str) -> Any:
    from chatocr.document import Document, Line, Page, box_from_rect

    lines = [
        Line(text=t, box=box_from_rect(40, 30 + 40 * i, 40 + 14 * len(t), 60 + 40 * i), confidence=0.93)
        for i, t in enumerate(RECEIPT_LINES)
    ]
    return Document(file=name, pages=[Page(page=1, width=600, height=40 * len(lines) + 60, lines=lines)])


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _assert_grounded(value: dict[str, Any], name: str) -> None:
    """A non-null value (or list item) is text of the receipt (the value is what its raw text says), on
    page 1, boxed by the line(s) it came from: nothing the model invented comes back."""
    from rapidfuzz import fuzz

    from chatocr.document import union_box
    from chatocr.extract.normalize import parse_amount, parse_date

    assert value["raw"] and _squash(value["raw"]) in _squash(" ".join(RECEIPT_LINES)), (name, value)
    if name == "date":
        assert parse_date(value["raw"]) == value["value"], (name, value)
    elif name == "total":
        assert parse_amount(value["raw"]) == value["value"], (name, value)
    else:
        assert fuzz.ratio(_squash(value["value"]), _squash(value["raw"])) >= 80, (name, value)
    assert value["page"] == 1, (name, value)
    doc = _receipt_document("x")
    line_boxes = [line.box for line in doc.pages[0].lines]
    runs = [union_box(line_boxes[i : i + n]) for n in (1, 2, 3) for i in range(len(line_boxes) - n + 1)]
    assert value["box"] in [[[float(x), float(y)] for x, y in box] for box in runs], (name, value)
    assert 0 < value["confidence"] <= 1, (name, value)


def _run_generate_cli(llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from typer.testing import CliRunner

    from chatocr.cli import _load_commands
    from chatocr.cli.app import app
    from chatocr.extract import extractor as extractor_module

    _load_commands()
    image = tmp_path / "receipt.png"
    image.write_bytes(b"not read: the OCR is replaced below (the server is the subject here)")
    schema = tmp_path / "schema.yaml"
    schema.write_text(RECEIPT_SCHEMA, encoding="utf-8")
    monkeypatch.setattr(extractor_module, "run_ocr", lambda *a, **k: _receipt_document(str(image)))
    args = ["extract", str(image), "--schema", str(schema), "--backend", "openai", "--base-url", llama_server,
            "--strategy", "generate", "--context-tokens", "2048", "--language", "en"]  # fmt: skip
    return CliRunner().invoke(app, args)


@pytest.mark.slow
def test_generate_strategy_through_the_real_server(
    llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chatocr extract --strategy generate --backend openai` against llama-cpp-python's server: whatever the
    135M model writes, the record has exactly the asked keys and every value it keeps is grounded."""
    sent: list[dict[str, Any]] = []
    replies: list[str] = []
    original = OpenAIBackend._ask_once

    def spy(self: OpenAIBackend, messages: list[Message], json_schema: Any, max_tokens: int) -> Any:
        sent.append({"messages": messages, "json_schema": json_schema, "max_tokens": max_tokens})
        completion = original(self, messages, json_schema, max_tokens)
        replies.append(completion.text)
        return completion

    monkeypatch.setattr(OpenAIBackend, "_ask_once", spy)
    result = _run_generate_cli(llama_server, tmp_path, monkeypatch)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    record = json.loads(result.stdout.strip().splitlines()[-1])
    names = ["company", "date", "total", "items", "vessel_registry_mark"]
    assert list(record["fields"]) == names and "error" not in record, record
    # The request is the generate prompt: line-numbered text, one schema property per field, an array for the list.
    assert sent and "[0]KEDAI BARU ENTERPRISE" in sent[0]["messages"][-1].content
    assert sent[0]["json_schema"]["required"] == names
    assert sent[0]["json_schema"]["properties"]["items"]["type"] == ["array", "null"]
    assert replies and all(isinstance(json.loads(reply), dict) for reply in replies[:1]), replies
    for name, field in record["fields"].items():
        if field["value"] is None:
            assert field["box"] is None and field["page"] is None and field["confidence"] == 0.0, (name, field)
        elif name == "items":
            assert field["items"], field
            for item in field["items"]:
                _assert_grounded(item, name)
        else:
            _assert_grounded(field, name)
        assert field.get("error") in (None, "malformed_reply"), (name, field)
    # What the model wrote last for a field and the grounding cannot find in the receipt comes back null.
    from chatocr.extract.candidates import DocView
    from chatocr.extract.grounding import Grounder
    from chatocr.fields import load_schema

    grounder = Grounder(DocView(_receipt_document("x")))
    specs = load_schema(schema=str(tmp_path / "schema.yaml"))
    last: dict[str, Any] = {}
    for reply in replies:
        with contextlib.suppress(ValueError):
            parsed = json.loads(reply)
            last.update(parsed if isinstance(parsed, dict) else {})
    for name, written in last.items():
        if isinstance(written, str) and grounder.locate(written, specs.field(name)) is None:
            assert record["fields"][name]["value"] is None, (name, written, record["fields"][name])
    failed = any(field.get("error") for field in record["fields"].values())
    assert result.exit_code == (13 if failed else 0), result.output


@pytest.mark.slow
def test_generate_strategy_truncated_reply_nulls_fields_not_the_document(
    llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply cut off by the token budget is no JSON: every extractive field is null with
    "error": "malformed_reply", the document still gets its record, and the exit code says so."""
    from chatocr.extract import generation

    monkeypatch.setattr(generation, "REPLY_TOKENS_PER_FIELD", 0)  # 16 tokens for five keys: always cut off
    monkeypatch.setattr(generation, "REPLY_TOKENS_PER_LIST_FIELD", 0)
    result = _run_generate_cli(llama_server, tmp_path, monkeypatch)
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert "error" not in record and record["file"].endswith("receipt.png"), record
    assert list(record["fields"]) == ["company", "date", "total", "items", "vessel_registry_mark"]
    for name, field in record["fields"].items():
        assert field["value"] is None and field["error"] == "malformed_reply", (name, field)
    assert result.exit_code == 13  # malformed_reply: the run says something failed

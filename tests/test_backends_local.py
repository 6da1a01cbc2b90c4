"""The `local` backend (llama.cpp + the bundled SmolLM2 GGUF), the local-model registry, the fake backend
and `chatocr backends`."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from chatocr.backends import BACKENDS, Message, create_backend, models
from chatocr.errors import BackendError, MalformedReplyError, MissingDependencyError, OptionsError
from chatocr.options import BackendOptions
from fake_backend import FakeBackend, registered_fake_backend

SROIE = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "sroie"

RECEIPT_SCHEMA = {
    "type": "object",
    "properties": {
        "company": {"type": ["string", "null"]},
        "date": {"type": ["string", "null"]},
        "total": {"type": ["string", "null"]},
        "级别": {"enum": ["省赛", "国赛"]},
    },
    "required": ["company", "date", "total", "级别"],
    "additionalProperties": False,
}
RECEIPT_TEXT = """L1: SYL ROASTED DELIGHTS SDN. BHD.
L2: 75, JALAN SS 22/19, DAMANSARA JAYA, 47400 PJ,
L3: DATE : 06/03/2018
L4: 全国青少年科技创新大赛 省赛
L5: TOTAL : 54.50"""


def receipt_messages(text: str = RECEIPT_TEXT) -> list[Message]:
    return [
        Message("system", "Read the OCR lines and answer the fields as JSON. Use null when a field is absent."),
        Message("user", f"{text}\n\nFields: company, date, total, 级别"),
    ]


@pytest.fixture(scope="module")
def backend() -> Any:
    pytest.importorskip("llama_cpp", reason="the local backend needs chatocr[local]")
    # One thread: the test machine is shared and busy; llama.cpp threads stall each other there.
    return create_backend(BackendOptions(name="local", model="smollm2-135m-instruct", n_threads=1))


@pytest.fixture(scope="module")
def receipt_reply(backend: Any) -> Any:
    """The model's answer to the receipt question, computed once per module."""
    return backend.complete(receipt_messages(), json_schema=RECEIPT_SCHEMA, max_tokens=120)


# -- local-model registry -------------------------------------------------------------------


def test_base_model_found_in_installed_package() -> None:
    path = models.base_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000
    assert models.resolve_local_model("smollm2-135m-instruct").path == path


@pytest.fixture
def isolated_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No fine-tuned model anywhere: empty bundled folder, cache folder and adapter folder under tmp_path."""
    monkeypatch.delenv(models.DEFAULT_MODEL_ENV, raising=False)
    monkeypatch.setenv(models.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(models, "BUNDLED_MODELS_DIR", tmp_path / "bundled")
    monkeypatch.setattr(models, "SHIPPED_ADAPTER_DIR", tmp_path / "adapter")
    monkeypatch.setattr(models, "_fallback_logged", False)
    return tmp_path


def test_default_falls_back_to_base_with_a_log_line(isolated_models: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="chatocr.backends.models"):
        resolved = models.resolve_local_model(None)
    assert resolved.name == "chatocr-default"
    assert resolved.path == models.base_model_path()
    assert not resolved.fine_tuned
    assert "using the base model smollm2-135m-instruct" in caplog.text


def test_default_uses_finetuned_gguf_when_built(isolated_models: Path) -> None:
    cache = models.model_cache_dir()
    cache.mkdir(parents=True)
    (cache / "chatocr-default.gguf").write_bytes(b"GGUF")
    resolved = models.resolve_local_model("chatocr-default")
    assert resolved.fine_tuned and resolved.path == cache / "chatocr-default.gguf"
    # The copy inside the package wins over the cache folder.
    bundled = isolated_models / "bundled"
    bundled.mkdir()
    (bundled / "chatocr-default.gguf").write_bytes(b"GGUF")
    (bundled / "receipts-v2.gguf").write_bytes(b"GGUF")
    assert models.resolve_local_model(None).path == bundled / "chatocr-default.gguf"
    assert models.resolve_local_model("receipts-v2").path == bundled / "receipts-v2.gguf"
    names = [m.name for m in models.list_local_models()]
    assert names == ["chatocr-default", "smollm2-135m-instruct", "smollm2-135m-instruct-q8_0", "receipts-v2"]
    assert not (cache / "smollm2-135m-instruct-q8_0.gguf").exists()  # listing builds nothing


def test_broken_shipped_adapter_falls_back_to_base(isolated_models: Path, caplog: pytest.LogCaptureFixture) -> None:
    adapter = isolated_models / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    with caplog.at_level(logging.WARNING, logger="chatocr.backends.models"):
        resolved = models.resolve_local_model(None)
    assert resolved.path == models.base_model_path()
    assert "could not merge the shipped adapter" in caplog.text


@pytest.mark.slow
def test_q8_0_variant_made_on_first_use(isolated_models: Path) -> None:
    pytest.importorskip("llama_cpp")
    resolved = models.resolve_local_model("smollm2-135m-instruct-q8_0")
    assert resolved.path == models.model_cache_dir() / "smollm2-135m-instruct-q8_0.gguf"
    assert resolved.path.stat().st_size > models.base_model_path().stat().st_size  # 8 bits per weight, not 4
    assert resolved.path.read_bytes()[:4] == b"GGUF"
    assert models.resolve_local_model("smollm2-135m-instruct-q8_0").path == resolved.path  # made once


def test_env_override_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setenv(models.DEFAULT_MODEL_ENV, str(gguf))
    assert models.resolve_local_model(None).path == gguf
    assert models.resolve_local_model(str(gguf)).name == "mine"
    monkeypatch.setenv(models.DEFAULT_MODEL_ENV, str(tmp_path / "gone.gguf"))
    with pytest.raises(OptionsError, match="not a file"):
        models.resolve_local_model(None)


@pytest.mark.parametrize("name", ["gpt-9", str(Path("/nonexistent/model.gguf")), "model.bin"])
def test_unknown_model_is_options_error(name: str) -> None:
    with pytest.raises(OptionsError) as info:
        create_backend(BackendOptions(name="local", model=name))
    assert info.value.exit_code == 2


def test_missing_llama_cpp_is_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "llama_cpp" else real_find_spec(name, *args)
    )
    with pytest.raises(MissingDependencyError) as info:
        create_backend(BackendOptions(name="local"))
    assert "chatocr[local]" in str(info.value)


def test_unknown_backend_is_options_error() -> None:
    with pytest.raises(OptionsError, match="unknown LLM backend 'nope'"):
        create_backend(BackendOptions(name="nope"))


def test_import_chatocr_loads_no_optional_extras() -> None:
    code = (
        "import sys, chatocr, chatocr.backends; "
        "heavy = [m for m in ('llama_cpp', 'torch', 'transformers') if m in sys.modules]; "
        "assert not heavy, heavy; print(sorted(chatocr.backends.BACKENDS.names()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == ["local", "openai", "transformers"]


# -- grammar-constrained decoding with the real model ---------------------------------------


@pytest.mark.slow
def test_reply_is_schema_valid_json_with_exact_keys(receipt_reply: Any) -> None:
    completion = receipt_reply
    value = json.loads(completion.text)
    assert list(value) == ["company", "date", "total", "级别"]
    assert value["级别"] in ("省赛", "国赛")
    for key in ("company", "date", "total"):
        assert value[key] is None or isinstance(value[key], str)
    # One log-probability per generated token; the pieces rebuild the text exactly (Chinese included).
    assert len(completion.token_logprobs) == completion.completion_tokens
    assert "".join(piece for piece, _ in completion.token_logprobs) == completion.text
    assert all(logprob <= 0.0 for _, logprob in completion.token_logprobs)
    assert completion.prompt_tokens > 50
    assert completion.model == "smollm2-135m-instruct"


@pytest.mark.slow
def test_same_input_same_output(backend: Any, receipt_reply: Any) -> None:
    first = receipt_reply
    other = backend.complete(receipt_messages("L1: NOTHING HERE"), json_schema=RECEIPT_SCHEMA, max_tokens=120)
    again = backend.complete(receipt_messages(), json_schema=RECEIPT_SCHEMA, max_tokens=120)
    assert json.loads(other.text).keys() == json.loads(first.text).keys()
    assert again.text == first.text
    assert [round(lp, 4) for _, lp in again.token_logprobs] == [round(lp, 4) for _, lp in first.token_logprobs]


@pytest.mark.slow
def test_real_sroie_receipt(backend: Any) -> None:
    ocr_dir = SROIE / "ocr"
    if not ocr_dir.is_dir():
        pytest.skip(f"benchmark data not found at {SROIE}")
    first = sorted(ocr_dir.glob("*.json"))[0]
    lines = [item["text"] for item in json.loads(first.read_text(encoding="utf-8"))][:40]
    text = "\n".join(lines)
    field = {"type": ["string", "null"], "maxLength": 60}  # bounded: a runaway string is closed by the grammar
    schema = {
        "type": "object",
        "properties": {k: field for k in ("company", "date", "address", "total")},
        "required": ["company", "date", "address", "total"],
        "additionalProperties": False,
    }
    completion = backend.complete(receipt_messages(text), json_schema=schema, max_tokens=200)
    value = json.loads(completion.text)
    assert set(value) == {"company", "date", "address", "total"}
    assert all(v is None or len(v) <= 60 for v in value.values())


def test_grammar_schema_splits_type_lists() -> None:
    from chatocr.backends.local import grammar_schema

    schema = {"type": "object", "properties": {"a": {"type": ["string", "null"], "maxLength": 5, "title": "A"}}}
    assert grammar_schema(schema)["properties"]["a"] == {
        "title": "A",
        "anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}],
    }
    assert grammar_schema({"enum": ["x", None]}) == {"enum": ["x", None]}


@pytest.mark.slow
def test_free_text_without_schema(backend: Any) -> None:
    completion = backend.complete([Message("user", "Say hello.")], max_tokens=8)
    assert 0 < completion.completion_tokens <= 8
    assert completion.text.strip()


@pytest.mark.slow
def test_too_few_tokens_for_the_json_is_malformed_reply(backend: Any) -> None:
    with pytest.raises(MalformedReplyError, match="max_tokens=5"):
        backend.complete(receipt_messages(), json_schema=RECEIPT_SCHEMA, max_tokens=5)


@pytest.mark.slow
def test_prompt_longer_than_context_is_backend_error(backend: Any) -> None:
    long_text = "\n".join(f"L{i}: ITEM {i} 12.50 SOME MORE WORDS" for i in range(400))
    with pytest.raises(BackendError, match="exceeds the model context of 2048 tokens"):
        backend.complete(receipt_messages(long_text), json_schema=RECEIPT_SCHEMA)
    assert backend.count_tokens(long_text) > 2048


@pytest.mark.slow
def test_model_shared_between_instances_and_threads(backend: Any, receipt_reply: Any) -> None:
    other = create_backend(BackendOptions(name="local", model="smollm2-135m-instruct", n_threads=1))
    assert other.loaded is backend.loaded  # one Llama object per process and settings
    expected = receipt_reply.text
    results: list[str] = []
    errors: list[BaseException] = []

    def ask(target: Any) -> None:
        try:
            results.append(target.complete(receipt_messages(), json_schema=RECEIPT_SCHEMA, max_tokens=120).text)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(b,)) for b in (backend, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [expected, expected]


@pytest.mark.slow
def test_llama_cpp_prints_nothing() -> None:
    pytest.importorskip("llama_cpp")
    code = (
        "from chatocr.backends import Message, create_backend; from chatocr.options import BackendOptions; "
        "b = create_backend(BackendOptions(name='local', model='smollm2-135m-instruct', n_threads=1)); "
        "b.complete([Message('user', 'hi')], json_schema={'type': 'object', 'properties': "
        "{'a': {'type': 'string', 'maxLength': 3}}, 'required': ['a']}, max_tokens=20)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == ""  # stdout carries only results in the CLI
    assert result.stderr == ""


# -- the fake backend other tests use ---------------------------------------------------------


def test_fake_backend_registers_and_unregisters() -> None:
    assert "fake" not in BACKENDS.names()
    with registered_fake_backend() as fake:
        fake.enqueue({"total": "9.00"}, '{"total": null}', MalformedReplyError("scripted"))
        backend = create_backend(BackendOptions(name="fake"))
        assert backend is fake
        assert json.loads(backend.complete(receipt_messages(), json_schema=RECEIPT_SCHEMA).text) == {"total": "9.00"}
        assert backend.complete(receipt_messages()).text == '{"total": null}'
        with pytest.raises(MalformedReplyError):
            backend.complete(receipt_messages())
        with pytest.raises(AssertionError, match="no reply queued"):
            backend.complete(receipt_messages())
        assert len(fake.calls) == 4 and fake.calls[0].json_schema == RECEIPT_SCHEMA
    assert "fake" not in BACKENDS.names()


def test_fake_backend_responder() -> None:
    def answer(messages: list[Message], schema: dict[str, Any] | None) -> dict[str, Any]:
        return {key: messages[-1].content[:3] for key in (schema or {}).get("properties", {})}

    with registered_fake_backend("scripted", responder=answer):
        backend = create_backend(BackendOptions(name="scripted"))
        assert isinstance(backend, FakeBackend)
        reply = json.loads(backend.complete(receipt_messages(), json_schema=RECEIPT_SCHEMA).text)
        assert reply == {"company": "L1:", "date": "L1:", "total": "L1:", "级别": "L1:"}


# -- chatocr backends -------------------------------------------------------------------------


def test_backends_command_lists_backends_and_models() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from chatocr.cli import main; main()", "backends", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    record = json.loads(result.stdout)
    assert set(record["backends"]) == {"local", "openai", "transformers"}
    by_name = {m["name"]: m for m in record["local_models"]}
    assert by_name["chatocr-default"]["default"] is True
    assert Path(by_name["smollm2-135m-instruct"]["path"]).is_file()
    table = subprocess.run(
        [sys.executable, "-c", "from chatocr.cli import main; main()", "backends"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "chatocr-default (default)" in table and "openai" in table

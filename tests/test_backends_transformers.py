"""The `transformers` backend on a tiny randomly initialised Llama built locally (no hub access)."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import pytest

from chatocr.backends import BACKENDS, Message, create_backend
from chatocr.errors import MalformedReplyError, MissingDependencyError, OptionsError
from chatocr.options import BackendOptions

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SCHEMA = {
    "type": "object",
    "properties": {"total": {"type": ["string", "null"]}},
    "required": ["total"],
    "additionalProperties": False,
}
MESSAGES = [Message("system", "Answer with JSON."), Message("user", "TOTAL 9.00\nFields: total")]


def build_tiny_checkpoint(folder: Path) -> Path:
    """A byte-level BPE tokenizer trained on a few lines and a 2-layer Llama with random weights."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")

    tokenizer_model = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token=None))
    tokenizer_model.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer_model.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = ['{"total": "9.00"}', "TOTAL 9.00", "Answer with JSON.", "发票号码 12345678", "system user assistant"]
    tokenizer_model.train_from_iterator(corpus * 20, trainer=trainer)
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer_model, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = CHATML
    tokenizer.save_pretrained(folder)

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-llama"))


def options(model: Path | str, **extra: Any) -> BackendOptions:
    return BackendOptions.model_validate({"name": "transformers", "model": str(model), "n_threads": 1, **extra})


def test_registered_but_not_imported_eagerly() -> None:
    assert "transformers" in BACKENDS.names()


def test_loads_and_generates_deterministically(checkpoint: Path) -> None:
    backend = create_backend(options(checkpoint))
    assert backend.describe() == f"transformers:{checkpoint}"
    first = backend.complete(MESSAGES, max_tokens=12)
    second = backend.complete(MESSAGES, max_tokens=12)
    assert first.text == second.text
    assert first.token_logprobs == second.token_logprobs
    assert 0 < first.completion_tokens <= 12
    assert first.prompt_tokens > 5
    assert all(logprob <= 0.0 for _, logprob in first.token_logprobs)
    assert backend.count_tokens("TOTAL 9.00") > 0


def test_invalid_output_raises_after_bounded_reasks(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = create_backend(options(checkpoint, max_retries=1))
    calls: list[list[Message]] = []
    generate = backend._generate  # type: ignore[attr-defined]

    def counting(messages: list[Message], max_tokens: int) -> Any:
        calls.append(messages)
        return generate(messages, max_tokens)

    monkeypatch.setattr(backend, "_generate", counting)
    with pytest.raises(MalformedReplyError) as info:
        backend.complete(MESSAGES, json_schema=SCHEMA, max_tokens=8)
    assert "after 2 attempts" in str(info.value)
    assert len(calls) == 2
    # The re-ask carries the bad reply and the reason.
    assert calls[1][-2].role == "assistant"
    assert "invalid" in calls[1][-1].content


def test_peft_adapter_folder(checkpoint: Path, tmp_path: Path) -> None:
    peft = pytest.importorskip("peft")
    transformers = pytest.importorskip("transformers")
    base = transformers.AutoModelForCausalLM.from_pretrained(str(checkpoint), local_files_only=True)
    lora = peft.LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    adapted = peft.get_peft_model(base, lora)
    adapter_dir = tmp_path / "adapter"
    adapted.save_pretrained(adapter_dir)
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert Path(config["base_model_name_or_path"]) == checkpoint

    backend = create_backend(options(adapter_dir))
    assert backend.describe().endswith("(adapter)")
    plain = create_backend(options(checkpoint))
    # Non-zero LoRA weights change the model, and the merged adapter is still deterministic.
    adapted_reply = backend.complete(MESSAGES, max_tokens=10)
    assert adapted_reply.text == backend.complete(MESSAGES, max_tokens=10).text
    plain_logprobs = plain.complete(MESSAGES, max_tokens=10).token_logprobs
    assert adapted_reply.token_logprobs != plain_logprobs


def test_bad_model_paths_are_option_errors(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match="needs --model"):
        create_backend(BackendOptions.model_validate({"name": "transformers"}))
    with pytest.raises(OptionsError, match="not a folder"):
        create_backend(options(tmp_path / "missing"))
    with pytest.raises(OptionsError, match=r"neither config\.json"):
        create_backend(options(tmp_path))


def test_missing_torch_is_missing_dependency(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_torch)
    with pytest.raises(MissingDependencyError) as info:
        create_backend(options(checkpoint))
    assert "torch==2.13.0" in str(info.value)

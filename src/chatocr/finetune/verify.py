"""Numerical checks that two runtimes run the same network: greedy tokens of a Hugging Face model
vs llama-cpp-python on a GGUF file, from the same prompt token ids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatocr.errors import MissingDependencyError

DEFAULT_PROMPT = [
    {"role": "system", "content": "Extract the fields as JSON."},
    {"role": "user", "content": "Receipt\nSHOP ABC SDN BHD\nDate: 12/03/2018\nTotal: 45.60\n\nFields: company, total"},
]


@dataclass
class GreedyComparison:
    prompt_tokens: int
    hf_tokens: list[int]
    gguf_tokens: list[int]

    @property
    def agreeing_prefix(self) -> int:
        n = 0
        for a, b in zip(self.hf_tokens, self.gguf_tokens, strict=False):
            if a != b:
                break
            n += 1
        return n

    @property
    def same(self) -> bool:
        n = min(len(self.hf_tokens), len(self.gguf_tokens))
        return self.agreeing_prefix == n and n > 0


def hf_greedy(model: Any, prompt_ids: list[int], n_tokens: int, eos_id: int | None) -> list[int]:
    """Greedy tokens; the whole sequence is re-run per token (a few short steps: no cache API to track)."""
    import torch

    device = next(model.parameters()).device
    ids = list(prompt_ids)
    out: list[int] = []
    with torch.no_grad():
        for _ in range(n_tokens):
            logits = model(input_ids=torch.tensor([ids], device=device)).logits
            token = int(logits[0, -1].argmax())
            out.append(token)
            ids.append(token)
            if token == eos_id:
                break
    return out


def gguf_greedy(gguf_path: str | Path, prompt_ids: list[int], n_tokens: int, eos_id: int | None) -> list[int]:
    try:
        from llama_cpp import Llama
    except ImportError:
        raise MissingDependencyError("llama-cpp-python is not installed", hint="pip install 'chatocr[local]'") from None
    llm = Llama(str(gguf_path), n_ctx=max(512, len(prompt_ids) + n_tokens + 8), n_threads=2, verbose=False, seed=0)
    out: list[int] = []
    for token in llm.generate(prompt_ids, temp=0.0, top_k=1, reset=True):
        out.append(int(token))
        if token == eos_id or len(out) >= n_tokens:
            break
    return out


def compare_greedy(
    model: Any,
    tokenizer: Any,
    gguf_path: str | Path,
    messages: list[dict[str, str]] | None = None,
    n_tokens: int = 12,
) -> GreedyComparison:
    """Greedy continuation of the same chat prompt in both runtimes."""
    text = tokenizer.apply_chat_template(messages or DEFAULT_PROMPT, tokenize=False, add_generation_prompt=True)
    prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    eos = tokenizer.eos_token_id
    return GreedyComparison(
        prompt_tokens=len(prompt_ids),
        hf_tokens=hf_greedy(model, prompt_ids, n_tokens, eos),
        gguf_tokens=gguf_greedy(gguf_path, prompt_ids, n_tokens, eos),
    )


@dataclass
class LogitComparison:
    positions: int
    top1_agreement: float  # share of positions where both runtimes pick the same next token
    top1_agreement_clear: float  # the same, over positions whose HF top-2 margin exceeds 1.0 logit
    mean_correlation: float  # Pearson correlation of the full logit vectors, averaged over positions
    max_abs_diff: float


def compare_logits(
    model: Any, tokenizer: Any, gguf_path: str | Path, messages: list[dict[str, str]] | None = None
) -> LogitComparison:
    """Teacher-forced next-token logits at every prompt position, HF vs llama.cpp.

    llama.cpp quantises activations to 8 bits for its Q4/Q8 matrix products, so logits differ by a
    fraction of a logit and greedy decoding can part ways at near-ties; clear decisions must agree.
    """
    import numpy as np
    import torch

    try:
        from llama_cpp import Llama
    except ImportError:
        raise MissingDependencyError("llama-cpp-python is not installed", hint="pip install 'chatocr[local]'") from None
    text = tokenizer.apply_chat_template(messages or DEFAULT_PROMPT, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        device = next(model.parameters()).device
        hf = model(input_ids=torch.tensor([ids], device=device)).logits[0].float().cpu().numpy()
    llm = Llama(str(gguf_path), n_ctx=max(512, len(ids) + 8), n_threads=2, verbose=False, logits_all=True)
    llm.eval(ids)
    cpp = np.array(llm.scores[: len(ids)], dtype=np.float32)
    top_hf, top_cpp = hf.argmax(-1), cpp.argmax(-1)
    ordered = np.sort(hf, axis=-1)
    clear = (ordered[:, -1] - ordered[:, -2]) > 1.0
    corr = [float(np.corrcoef(hf[i], cpp[i])[0, 1]) for i in range(len(ids))]
    return LogitComparison(
        positions=len(ids),
        top1_agreement=float((top_hf == top_cpp).mean()),
        top1_agreement_clear=float((top_hf == top_cpp)[clear].mean()) if clear.any() else 1.0,
        mean_correlation=float(np.mean(corr)),
        max_abs_diff=float(np.abs(hf - cpp).max()),
    )


@dataclass
class Speed:
    prompt_tokens: int
    prefill_tokens_per_s: float
    generated_tokens: int
    decode_tokens_per_s: float
    load_seconds: float


def measure_speed(
    gguf_path: str | Path, prompt_ids: list[int], n_tokens: int = 48, threads: int = 2, repeats: int = 3
) -> Speed:
    """Prompt and generation throughput of llama-cpp-python on ``gguf_path`` (best of ``repeats``)."""
    import time

    try:
        from llama_cpp import Llama
    except ImportError:
        raise MissingDependencyError("llama-cpp-python is not installed", hint="pip install 'chatocr[local]'") from None
    started = time.perf_counter()
    llm = Llama(
        str(gguf_path), n_ctx=len(prompt_ids) + n_tokens + 16, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    load_s = time.perf_counter() - started
    best_prefill = best_decode = 0.0
    for _ in range(repeats):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt_ids)
        t1 = time.perf_counter()
        generated = 0
        for _token in llm.generate([], temp=0.0, top_k=1, reset=False):
            generated += 1
            if generated >= n_tokens:
                break
        t2 = time.perf_counter()
        best_prefill = max(best_prefill, len(prompt_ids) / (t1 - t0))
        best_decode = max(best_decode, generated / (t2 - t1))
    return Speed(len(prompt_ids), round(best_prefill, 1), n_tokens, round(best_decode, 1), round(load_s, 2))

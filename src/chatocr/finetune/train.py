"""LoRA supervised fine-tuning with peft + transformers.

A small explicit training loop rather than ``transformers.Trainer``: what a checkpoint holds is
spelled out here, so ``--resume`` continues bit-for-bit (adapter, optimizer, scheduler, the data
position and every RNG), and a time budget can stop a run cleanly at any step.

Layout of the output folder::

    OUT/checkpoint-<step>/   adapter_model.safetensors, adapter_config.json, state.pt, state.json
    OUT/adapter/             the latest adapter (what `chatocr finetune merge` reads)
    OUT/train_log.jsonl      one line per logged step
    OUT/summary.json         data size, steps, time, hardware, final loss

Only the assistant answers carry loss; the system and user text (the extractor's prompt) is masked.
On CUDA the base runs in bfloat16; on the CPU in float32.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import random
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatocr.data.export import Sample, read_samples
from chatocr.errors import DatasetError, OptionsError
from chatocr.files import atomic_write_text
from chatocr.finetune.base import load_model, load_tokenizer, require_training_stack, resolve_base
from chatocr.finetune.recipe import Recipe

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)

IGNORE_INDEX = -100
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
KEEP_CHECKPOINTS = 2


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]


@dataclass
class TrainResult:
    out_dir: str
    adapter_dir: str
    steps: int
    stopped_by: str  # "max_steps" | "time_budget" | "stop_after" | "epochs"
    examples: int
    skipped_too_long: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    device: str = "cpu"


# --- data -----------------------------------------------------------------------------------------


def encode_sample(sample: Sample, tokenizer: PreTrainedTokenizerBase, max_seq_len: int) -> Example | None:
    """Token ids of the chat as the model's chat template renders it, with loss only on the answers.

    Each answer is tokenised on its own, after its prompt, exactly as the model produces it at
    inference time (llama.cpp tokenises the prompt, then generates the answer token by token).
    Returns None when the sample does not fit ``max_seq_len`` (never truncated: a cut prompt would
    teach answers the prompt does not support).
    """
    input_ids: list[int] = []
    labels: list[int] = []
    rendered = ""
    for i, message in enumerate(sample.messages):
        if message["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(sample.messages[:i], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(sample.messages[: i + 1], tokenize=False)
        if not (isinstance(prompt, str) and isinstance(full, str)) or not full.startswith(prompt):
            raise DatasetError("the tokenizer's chat template does not extend the prompt with the answer")
        if not prompt.startswith(rendered):
            raise DatasetError("the tokenizer's chat template rewrites earlier turns; multi-turn training unsupported")
        prompt_ids = tokenizer(prompt[len(rendered) :], add_special_tokens=False)["input_ids"]
        answer_text = full[len(prompt) :]
        # The template closes the turn with "<|im_end|>\n": learn to stop, not the newline after it.
        stripped = answer_text.rstrip("\n")
        answer_ids = tokenizer(stripped, add_special_tokens=False)["input_ids"]
        tail_ids = (
            tokenizer(answer_text[len(stripped) :], add_special_tokens=False)["input_ids"]
            if len(stripped) < len(answer_text)
            else []
        )
        input_ids += prompt_ids + answer_ids + tail_ids
        labels += [IGNORE_INDEX] * len(prompt_ids) + answer_ids + [IGNORE_INDEX] * len(tail_ids)
        rendered = full
    if len(input_ids) > max_seq_len or not any(x != IGNORE_INDEX for x in labels):
        return None
    return Example(input_ids=input_ids, labels=labels)


def load_examples(path: Path, tokenizer: PreTrainedTokenizerBase, max_seq_len: int) -> tuple[list[Example], int]:
    examples: list[Example] = []
    skipped = 0
    for sample in read_samples(path):
        example = encode_sample(sample, tokenizer, max_seq_len)
        if example is None:
            skipped += 1
        else:
            examples.append(example)
    if not examples:
        raise DatasetError(f"{path}: no usable training samples ({skipped} longer than max_seq_len={max_seq_len})")
    return examples, skipped


class ExampleStream:
    """An endless, seeded stream of examples: one permutation per epoch.

    ``cursor`` (examples consumed so far) is the whole data position, so a resumed run draws
    exactly the batches the uninterrupted run would have drawn.
    """

    def __init__(self, examples: list[Example], seed: int, cursor: int = 0) -> None:
        self.examples = examples
        self.seed = seed
        self.cursor = cursor
        self._epoch = -1
        self._order: list[int] = []

    def _order_for(self, epoch: int) -> list[int]:
        if epoch != self._epoch:
            order = list(range(len(self.examples)))
            random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
            self._epoch, self._order = epoch, order
        return self._order

    @property
    def epoch(self) -> float:
        return self.cursor / len(self.examples)

    def take(self, n: int) -> list[Example]:
        batch = []
        for _ in range(n):
            epoch, index = divmod(self.cursor, len(self.examples))
            batch.append(self.examples[self._order_for(epoch)[index]])
            self.cursor += 1
        return batch


def collate(batch: list[Example], pad_id: int, device: Any) -> dict[str, torch.Tensor]:
    """Right-padded batch (every query position sees at least one real token, so no attention row is
    fully masked, which some fused kernels turn into NaN)."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, e in enumerate(batch):
        ids[row, : len(e.input_ids)] = torch.tensor(e.input_ids)
        labels[row, : len(e.labels)] = torch.tensor(e.labels)
        mask[row, : len(e.input_ids)] = 1
    return {"input_ids": ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}


def _decoder_and_head(model: Any) -> tuple[Any, Any]:
    """The transformer body and the output projection of a (peft-wrapped) causal LM."""
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = causal_lm.get_output_embeddings()
    body = causal_lm.get_decoder() if hasattr(causal_lm, "get_decoder") else None
    if body is None or body is causal_lm:
        body = causal_lm.model
    return body, head


def answer_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over the answer tokens.  The output projection runs only at the positions
    that predict an answer token: with a 49k-token vocabulary, full-sequence logits would be the
    largest tensor of the step by far."""
    import torch

    body, head = _decoder_and_head(model)
    hidden = body(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False)[0]
    targets = batch["labels"][:, 1:]
    rows, cols = (targets != IGNORE_INDEX).nonzero(as_tuple=True)
    logits = head(hidden[rows, cols]).float()  # position t predicts token t + 1
    return torch.nn.functional.cross_entropy(logits, targets[rows, cols])


# --- checkpoints ----------------------------------------------------------------------------------


def checkpoints(out: Path) -> list[tuple[int, Path]]:
    found = []
    for child in out.glob("checkpoint-*"):
        match = _CHECKPOINT.match(child.name)
        if match and (child / "state.pt").is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def _rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


# --- training -------------------------------------------------------------------------------------


def pick_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def train(
    recipe: Recipe,
    data: str | Path,
    out: str | Path,
    *,
    base: str | Path | None = None,
    resume: bool = False,
    time_budget_min: float | None = None,
    stop_after: int | None = None,
    device: str | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train a LoRA adapter on ``data`` (chat samples, any format of chatocr.data.export) into ``out``.

    ``time_budget_min`` and ``stop_after`` (steps in this call) end a run early with a checkpoint,
    keeping the learning-rate schedule of ``recipe.train.max_steps``; ``resume`` continues from the
    latest checkpoint in ``out``.
    """
    require_training_stack()
    import torch
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import get_cosine_schedule_with_warmup

    data, out = Path(data), Path(out)
    cfg = recipe.train
    device = device or pick_device()
    if device == "cpu" and cfg.threads:
        torch.set_num_threads(cfg.threads)
    existing = checkpoints(out) if out.exists() else []
    if existing and not resume:
        raise OptionsError(f"{out} already holds checkpoints", hint="pass --resume to continue, or choose a new --out")

    base_dir, base_kwargs = resolve_base(recipe.base.kind, base)
    trust = {"trust_remote_code": True} if recipe.base.trust_remote_code else {}
    tokenizer = load_tokenizer(base_dir, **trust)
    examples, skipped = load_examples(data, tokenizer, cfg.max_seq_len)
    data_id = _fingerprint(data)

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model: Any = load_model(base_dir, dtype=dtype, quantization=cfg.quantization, **base_kwargs, **trust)
    if cfg.quantization == "nf4":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    elif device != "cpu":
        model.to(device)
    lora = LoraConfig(
        r=recipe.lora.r,
        lora_alpha=recipe.lora.alpha,
        lora_dropout=recipe.lora.dropout,
        target_modules=recipe.lora.target_modules,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    if cfg.gradient_checkpointing and cfg.quantization != "nf4":  # kbit preparation already enabled it
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, cfg.warmup_steps, cfg.max_steps)
    stream = ExampleStream(examples, cfg.seed)
    step = 0
    losses: list[float] = []
    spent_before = 0.0

    if resume and existing:
        step, ckpt = existing[-1]
        state = torch.load(ckpt / "state.pt", weights_only=False)
        if state["data_id"] != data_id:
            raise OptionsError(f"{data} differs from the data {out} was trained on", hint="resume with the same file")
        set_peft_model_state_dict(model, load_file(str(ckpt / "adapter_model.safetensors"), device=str(device)))
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        stream.cursor = state["cursor"]
        losses = state["losses"]
        spent_before = state["seconds"]
        _set_rng_state(state["rng"])
        log.warning("resuming from %s (step %d)", ckpt, step)

    out.mkdir(parents=True, exist_ok=True)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    budget_s = time_budget_min * 60 if time_budget_min else math.inf
    start = time.monotonic()
    stopped_by = "max_steps"
    model.train()

    def save(at_step: int) -> Path:
        ckpt = out / f"checkpoint-{at_step}"
        tmp = out / f".checkpoint-{at_step}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp)
        state = {
            "step": at_step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "cursor": stream.cursor,
            "losses": losses,
            "seconds": spent_before + time.monotonic() - start,
            "rng": _rng_state(),
            "data_id": data_id,
        }
        torch.save(state, tmp / "state.pt")
        summary = {k: v for k, v in state.items() if k in ("step", "cursor", "seconds", "data_id")}
        (tmp / "state.json").write_text(json.dumps({**summary, "recipe": recipe.name}, indent=2))
        shutil.rmtree(ckpt, ignore_errors=True)
        tmp.replace(ckpt)
        adapter = out / "adapter"
        shutil.rmtree(adapter, ignore_errors=True)
        shutil.copytree(ckpt, adapter, ignore=shutil.ignore_patterns("state.pt"))
        for _, old in checkpoints(out)[:-KEEP_CHECKPOINTS]:
            shutil.rmtree(old, ignore_errors=True)
        return ckpt

    saved_at = first_step = step
    while step < cfg.max_steps:
        if stream.epoch >= cfg.epochs:
            stopped_by = "epochs"
            break
        optimizer.zero_grad(set_to_none=True)
        step_loss = 0.0
        for _ in range(cfg.grad_accum):
            batch = collate(stream.take(cfg.batch_size), pad_id, device)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = answer_loss(model, batch) / cfg.grad_accum
            loss.backward()
            step_loss += float(loss.detach())
        grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if math.isfinite(step_loss) and bool(torch.isfinite(grad_norm)):
            optimizer.step()
        else:
            # One non-finite step (a bf16 overflow, a degenerate batch) must not poison the adapter:
            # drop its gradients and go on; the log shows the step's loss as NaN.
            optimizer.zero_grad(set_to_none=True)
            log.warning("step %d: non-finite loss or gradients; update skipped", step + 1)
        scheduler.step()
        step += 1
        losses.append(round(step_loss, 5))
        elapsed = time.monotonic() - start
        if step % cfg.log_every == 0 or step == 1:
            record = {
                "step": step,
                "loss": round(step_loss, 4),
                "lr": scheduler.get_last_lr()[0],
                "epoch": round(stream.epoch, 3),
                "seconds": round(spent_before + elapsed, 1),
            }
            with (out / "train_log.jsonl").open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            if on_log:
                on_log(record)
        if step % cfg.save_every == 0:
            save(step)
            saved_at = step
        if elapsed >= budget_s:
            stopped_by = "time_budget"
            break
        if stop_after is not None and step - first_step >= stop_after:
            stopped_by = "stop_after"
            break
    if saved_at != step or not (out / "adapter").exists():
        save(step)

    seconds = spent_before + time.monotonic() - start
    result = TrainResult(
        out_dir=str(out),
        adapter_dir=str(out / "adapter"),
        steps=step,
        stopped_by=stopped_by,
        examples=len(examples),
        skipped_too_long=skipped,
        seconds=round(seconds, 1),
        losses=losses,
        device=device,
    )
    summary = asdict(result) | {
        "recipe": recipe.model_dump(),
        "data": str(data),
        "data_id": data_id,
        "base": str(base_dir),
        "hardware": _hardware(device),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2))
    return result


def _hardware(device: str) -> str:
    import torch

    if device == "cuda":
        return f"{torch.cuda.get_device_name(0)} (CUDA, bf16)"
    return f"{platform.machine()} CPU, {torch.get_num_threads()} threads of {os.cpu_count()} cores (fp32)"

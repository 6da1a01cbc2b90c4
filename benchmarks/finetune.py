"""Fine-tuned embedded model vs the zero-shot base, with only the weights changed.

Runs ``benchmarks/extract.py`` once per (model, configuration) on the same documents
(OCR, prompt, candidates, grammar and grounding identical) and writes
``benchmarks/results/finetune.md`` with the error reduction ``1 - (1 - F1_ft) / (1 - F1_base)``
and the training facts of the shipped adapter.  Runs are cached under --work, so an
interrupted comparison resumes.

    python benchmarks/finetune.py --dataset synth:.cache/zh-dev --limit 20 --configs "model chooses always"
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ADAPTER = REPO / "src" / "chatocr" / "finetune" / "adapters" / "chatocr-default"
MODELS = {"base": "smollm2-135m-instruct", "fine-tuned": "chatocr-default"}


def run_one(dataset: str, limit: int, config: str, model: str, work: Path, ocr: str) -> dict:
    # No dots in the name: extract.py writes out.with_suffix(".json").
    slug = f"{dataset}-{limit}-{config}-{model}".translate(str.maketrans({c: "_" for c in ":/. "}))
    out = work / slug
    if not out.with_suffix(".json").is_file():
        cmd = [sys.executable, str(HERE / "extract.py"), "--datasets", dataset, "--ocr", ocr, "--limit", str(limit)]
        cmd += ["--configs", config, "--model", model, "--out", str(out)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    ((dataset_key, configs),) = report["results"].items()
    return {"dataset": dataset_key, **next(iter(configs.values()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", action="append", required=True, help="as benchmarks/extract.py --datasets")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--configs", default="model chooses always", help="comma list of extract.py configurations")
    parser.add_argument("--ocr", default="cached", choices=["real", "cached", "gt"])
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "finetune-compare")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "finetune.md")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    rows = []
    for dataset in args.dataset:
        for config in [c.strip() for c in args.configs.split(",")]:
            scores = {name: run_one(dataset, args.limit, config, m, args.work, args.ocr) for name, m in MODELS.items()}
            base, tuned = scores["base"]["tolerant"]["f1"], scores["fine-tuned"]["tolerant"]["f1"]
            reduction = 1 - (1 - tuned) / (1 - base) if base < 1 else float("nan")
            rows.append((scores["base"]["dataset"], config, base, tuned, reduction, scores))

    training = json.loads((ADAPTER / "training.json").read_text(encoding="utf-8"))
    lines = [
        "## Fine-tuned embedded model vs the zero-shot base",
        "",
        f"Command: `python benchmarks/finetune.py {shlex.join(sys.argv[1:])}`; "
        f"{datetime.now(UTC).strftime('%Y-%m-%d')}; inference on 2 shared CPU cores (llama.cpp). Only the weights "
        "change between the two columns (`--model smollm2-135m-instruct` vs `--model chatocr-default`); OCR, "
        "prompt, candidates, grammar and grounding are the same. Tolerant field-level F1 (see the extraction "
        "section for the matching rule).",
        "",
        "| dataset | configuration | base F1 | fine-tuned F1 | errors removed (1 - F1) | null on absent base / tuned"
        " | documents failed base / tuned |",
        "|---|---|---|---|---|---|---|",
    ]
    for dataset, config, base, tuned, reduction, scores in rows:
        nulls = " / ".join(
            "-" if scores[n]["absent_null_rate"] is None else f"{scores[n]['absent_null_rate']:.2f}" for n in MODELS
        )
        failed = " / ".join(str(len(scores[n]["errors"])) for n in MODELS)
        lines.append(f"| {dataset} | {config} | {base:.3f} | {tuned:.3f} | {reduction:.0%} | {nulls} | {failed} |")
    lines += ["", "Per field, tolerant F1 base -> fine-tuned:", ""]
    for dataset, config, _, _, _, scores in rows:
        base_fields, tuned_fields = scores["base"]["fields"], scores["fine-tuned"]["fields"]
        cells = ", ".join(
            f"{name} {base_fields[name]['tolerant']['f1']:.2f} -> {tuned_fields[name]['tolerant']['f1']:.2f}"
            for name in base_fields
            if name in tuned_fields and base_fields[name]["labelled"]
        )
        lines.append(f"- {dataset}, {config}: {cells}")
    lines += [
        "",
        "A document whose extraction failed (e.g. a malformed reply: the model ran out of its token budget before "
        "closing the JSON) is left out of that run's F1 by benchmarks/extract.py, which favours the model that "
        "failed; the last column says how often that happened.",
        "",
        "Training of the shipped adapter (`src/chatocr/finetune/adapters/chatocr-default`):",
        f"{training['examples']} instruction samples from synthetic documents of the TRAINING layouts only "
        "(`scripts/make_training_set.py --docs 640 --jobs 16`: `chatocr data synth --layouts train`, chatocr's own "
        "OCR, the extractor's prompt), LoRA r=16 on all linear layers of SmolLM2-135M-Instruct (recipe "
        f"`{training['recipe']['name']}`), {training['steps']} steps of batch "
        f"{training['recipe']['train']['batch_size']} x {training['recipe']['train']['grad_accum']}, "
        f"{training['seconds']:.0f} s on {training['hardware']}, stopped by its time budget; final losses "
        f"{', '.join(str(x) for x in training['losses'][-3:])}. The Chinese development set uses the held-out "
        "layouts, which the training data never contains.",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

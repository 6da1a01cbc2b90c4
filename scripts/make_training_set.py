"""Build the embedded model's training set in parallel shards.

Each shard generates synthetic documents of the TRAINING layouts with its own seed
(`chatocr data synth --layouts train`), OCRs them with chatocr's own OCR and turns them
into instruction samples with the extractor's prompt (`chatocr data samples`).  Shards
run as separate processes with one thread each, so a many-core machine builds the set
quickly; a finished shard is skipped when the script is run again.

    python scripts/make_training_set.py --out .cache/train --docs 1200 --jobs 16
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

KINDS = ["certificate", "vat_invoice", "train_ticket", "business_license", "receipt"]


def chatocr() -> list[str]:
    exe = Path(sys.executable).with_name("chatocr")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "chatocr"]


def build_shard(out: Path, shard: int, docs: int, base_seed: int, degrade: str) -> Path:
    shard_dir = out / f"shard{shard:03d}"
    samples = shard_dir / "samples.jsonl"
    if samples.exists():
        return samples
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    synth = [*chatocr(), "data", "synth", "--out", str(shard_dir / "docs"), "--kinds", "all", "--n", str(docs)]
    synth += ["--seed", str(base_seed + shard), "--layouts", "train", "--degrade", degrade, "--no-progress"]
    subprocess.run(synth, check=True, env=env)
    tmp = shard_dir / "samples.jsonl.tmp"
    make = [*chatocr(), "data", "samples", "--dataset", str(shard_dir / "docs"), "--out", str(tmp)]
    make += ["--ocr-cache", str(shard_dir / "ocr-cache")]
    subprocess.run(make, check=True, env=env)
    tmp.replace(samples)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--docs", type=int, default=600, help="documents in all")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=20000, help="shard k uses seed + k")
    parser.add_argument("--degrade", default="mild")
    args = parser.parse_args()

    per_shard = max(1, args.docs // args.jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(build_shard, args.out, k, per_shard, args.seed, args.degrade) for k in range(args.jobs)]
        shards = [f.result() for f in futures]
    merged = args.out / "samples.jsonl"
    with merged.open("w", encoding="utf-8") as fh:
        for shard in shards:
            fh.write(shard.read_text(encoding="utf-8"))
    count = sum(1 for _ in merged.open(encoding="utf-8"))
    print(f"{count} samples from {per_shard * args.jobs} documents -> {merged}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Batch throughput with 1 and 2 worker processes (each given cores / workers threads).

Runs ``chatocr batch`` on the same SROIE images with --workers 1 and --workers 2
into fresh result files and reports documents per minute and the speed-up
(target: at least 1.3x on 2 cores).

    .venv/bin/python benchmarks/batch.py --limit 40 --template receipt
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "benchmarks" / "sroie" / "images"


def run(images: Path, workers: int, template: str, backend: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl"
        cmd = [str(Path(sys.executable).with_name("chatocr")), "batch", str(images), "--out", str(out)]
        cmd += ["--template", template, "--workers", str(workers)]
        if backend:
            cmd += ["--backend", backend]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        lines = out.read_text().splitlines() if out.exists() else []
        errors = sum(1 for line in lines if '"error"' in json.loads(line))
        if proc.returncode not in (0, 1) and not lines:
            raise SystemExit(f"batch failed: {proc.stderr[-2000:]}")
    return {
        "workers": workers,
        "documents": len(lines),
        "errors": errors,
        "seconds": seconds,
        "docs_per_min": len(lines) / seconds * 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--template", default="receipt")
    parser.add_argument("--backend", default=None, help="default: the embedded local model")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()

    images = sorted(args.data.iterdir())[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "images"
        subset.mkdir()
        for image in images:
            shutil.copy(image, subset / image.name)
        rows = [run(subset, workers, args.template, args.backend) for workers in (1, 2)]
    speedup = rows[1]["docs_per_min"] / rows[0]["docs_per_min"]
    command = "python benchmarks/batch.py " + " ".join(sys.argv[1:])
    result = {
        "date": date.today().isoformat(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "documents": len(images),
        "template": args.template,
        "runs": rows,
        "speedup": speedup,
        "command": command,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "batch.json").write_text(json.dumps(result, indent=2))
    table = "\n".join(
        f"| {r['workers']} | {r['documents']} | {r['errors']} | {r['seconds']:.1f} | {r['docs_per_min']:.1f} |"
        for r in rows
    )
    (args.out / "batch.md").write_text(
        f"""## Batch throughput (`chatocr batch`)

Command: `{command}` on {len(images)} SROIE images ({args.data}), template `{args.template}`,
embedded default backend unless stated; {os.cpu_count()} CPU cores, no GPU; {date.today().isoformat()}.
Each worker process gets cores / workers threads for OCR and the LLM.

| workers | documents | errors | seconds | documents / min |
|---|---|---|---|---|
{table}

Speed-up with 2 workers: **{speedup:.2f}x** (target: at least 1.3x).
"""
    )
    print(f"speed-up {speedup:.2f}x", file=sys.stderr)


if __name__ == "__main__":
    main()

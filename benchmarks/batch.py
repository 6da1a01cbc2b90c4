"""Batch throughput with 1 and 2 worker processes (each given cores / workers threads).

Runs ``chatocr batch`` on the same SROIE images with --workers 1 and --workers 2
into fresh result files and reports documents per minute and the speed-up
(target: at least 1.3x on 2 cores), once per extraction strategy: ``rules`` (the
default: OCR plus rules, no model call) and ``hybrid`` (the embedded model chooses
where the rules are not decisive).

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
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "benchmarks" / "sroie" / "images"


def run(images: Path, workers: int, template: str, strategy: str, backend: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl"
        cmd = [str(Path(sys.executable).with_name("chatocr")), "batch", str(images), "--out", str(out)]
        cmd += ["--template", template, "--workers", str(workers), "--strategy", strategy]
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
        "strategy": strategy,
        "workers": workers,
        "documents": len(lines),
        "errors": errors,
        "seconds": seconds,
        "docs_per_min": len(lines) / seconds * 60,
    }


# Times one process extracting documents after a warm-up document, at a given thread count:
# the work a batch worker does, without its start-up.
_IN_PROCESS = """
import sys, time
from chatocr.extract import Extractor
from chatocr.fields import load_schema
from chatocr.options import Options
threads, strategy, template, *paths = sys.argv[1:]
extractor = Extractor(Options.create(None, **{"ocr.threads": int(threads), "backend.n_threads": int(threads),
                                               "extract.strategy": strategy}))
schema = load_schema(template=template)
extractor.run(paths[0], schema)
start = time.perf_counter()
for path in paths[1:]:
    extractor.run(path, schema)
print((time.perf_counter() - start) / (len(paths) - 1))
"""


def _in_process_command(paths: list[Path], threads: int, strategy: str, template: str) -> list[str]:
    return [sys.executable, "-c", _IN_PROCESS, str(threads), strategy, template, *map(str, paths)]


def seconds_per_document(paths: list[Path], threads: int, strategy: str, template: str) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = _in_process_command(paths, threads, strategy, template)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def seconds_per_document_side_by_side(paths: list[Path], strategy: str, template: str) -> float:
    """Two one-thread processes at once, each on half the documents (with its own warm-up
    document): the per-document time each sees while the other shares the machine's caches and
    memory bandwidth.  Two workers cannot beat what this allows."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    half = len(paths) // 2
    halves = [paths[: half + 1], paths[half:]]
    procs = [
        subprocess.Popen(_in_process_command(h, 1, strategy, template), stdout=subprocess.PIPE, text=True, env=env)
        for h in halves
    ]
    times = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit("side-by-side run failed")
        times.append(float(out.strip().splitlines()[-1]))
    return sum(times) / len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--template", default="receipt")
    parser.add_argument("--backend", default=None, help="default: the embedded local model")
    parser.add_argument("--strategies", default="rules,hybrid", help="comma list of extract strategies to time")
    parser.add_argument("--repeats", type=int, default=1, help="time each batch run this many times (median kept)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()

    images = sorted(args.data.iterdir())[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "images"
        subset.mkdir()
        for image in images:
            shutil.copy(image, subset / image.name)
        rows = []
        for strategy in args.strategies.split(","):
            for workers in (1, 2):
                # Rounds of one configuration are timed back to back; the median round is reported.
                rounds = [run(subset, workers, args.template, strategy, args.backend) for _ in range(args.repeats)]
                rounds.sort(key=lambda r: r["seconds"])
                median = dict(rounds[len(rounds) // 2])
                median["all_seconds"] = [round(r["seconds"], 1) for r in rounds]
                rows.append(median)
    # The ceiling for process parallelism: one process's speed-up from a second thread.  Two
    # one-thread workers can beat one two-thread worker by at most 2 * t(2 threads) / t(1 thread).
    ceilings = {}
    for strategy in args.strategies.split(","):
        one_thread = seconds_per_document(images, 1, strategy, args.template)
        two_threads = seconds_per_document(images, 2, strategy, args.template)
        side_by_side = seconds_per_document_side_by_side(images, strategy, args.template)
        ceilings[strategy] = {
            "s_per_doc_1_thread": one_thread,
            "s_per_doc_2_threads": two_threads,
            "s_per_doc_1_thread_side_by_side": side_by_side,
            "ceiling": 2 * two_threads / one_thread,
            "ceiling_side_by_side": 2 * two_threads / side_by_side,
        }
    pairs = zip(rows[::2], rows[1::2], strict=True)
    speedups = {one["strategy"]: two["docs_per_min"] / one["docs_per_min"] for one, two in pairs}
    command = "python benchmarks/batch.py " + " ".join(sys.argv[1:])
    result = {
        "date": date.today().isoformat(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "documents": len(images),
        "template": args.template,
        "repeats": args.repeats,
        "runs": rows,
        "speedup": speedups,
        "in_process": ceilings,
        "command": command,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "batch.json").write_text(json.dumps(result, indent=2))
    table = "\n".join(
        f"| {r['strategy']} | {r['workers']} | {r['documents']} | {r['errors']} | {r['seconds']:.1f} "
        f"({', '.join(f'{x:.1f}' for x in r['all_seconds'])}) | {r['docs_per_min']:.1f} |"
        for r in rows
    )
    speedup_lines = "\n".join(
        f"- `{strategy}`: **{value:.2f}x** ({'meets' if value >= 1.3 else 'misses'} the 1.3x target)."
        f" In one process on the same documents: {c['s_per_doc_1_thread']:.2f} s/doc on 1 thread,"
        f" {c['s_per_doc_2_threads']:.2f} s/doc on 2 threads, and {c['s_per_doc_1_thread_side_by_side']:.2f}"
        f" s/doc on 1 thread while a second such process runs beside it. So two one-thread workers can reach"
        f" at most {c['ceiling']:.2f}x ({c['ceiling_side_by_side']:.2f}x counting what the two processes"
        f" cost each other); the runner reaches {value / c['ceiling_side_by_side']:.0%} of the latter."
        for strategy, value in speedups.items()
        for c in [ceilings[strategy]]
    )
    model_part = ""
    if "rules" in ceilings and "hybrid" in ceilings:
        # What the model calls add per document (hybrid minus rules, same documents).
        one = ceilings["hybrid"]["s_per_doc_1_thread"] - ceilings["rules"]["s_per_doc_1_thread"]
        two = ceilings["hybrid"]["s_per_doc_2_threads"] - ceilings["rules"]["s_per_doc_2_threads"]
        rules_gain = ceilings["rules"]["s_per_doc_1_thread"] / ceilings["rules"]["s_per_doc_2_threads"]
        model_part = (
            f"\nMeasured in the same run: the second thread makes OCR plus rules {rules_gain:.2f}x faster,"
            f" but the model's share of `hybrid` ({one:.2f} s/doc on 1 thread) only {one / two:.2f}x"
            f" ({two:.2f} s/doc on 2).\n"
        )
    (args.out / "batch.md").write_text(
        f"""## Batch throughput (`chatocr batch`)

Command: `{command}` on {len(images)} SROIE images ({args.data}), template `{args.template}`,
embedded local model for `hybrid`; {os.cpu_count()} CPU cores, no GPU; {date.today().isoformat()}.
Each worker process gets cores / workers threads for OCR and the LLM. Seconds are the whole
`chatocr batch` command (start-up and model loading included); with `--repeats` every round's
time is in brackets and the median round is the one reported.

| strategy | workers | documents | errors | seconds | documents / min |
|---|---|---|---|---|---|
{table}

Speed-up with 2 workers:
{speedup_lines}

How far workers can go on this machine is set by how well one process already uses its second
core: onnxruntime (OCR) spreads each page over both threads almost perfectly, so with `rules`
(OCR plus rules, no model call) a second process has little left to add, and the bound above
sits near or below 1.3x. llama.cpp gains little from a second thread on a 135M model, so with
`hybrid` one process leaves more of its second core idle and two workers gain more. With more
cores per machine, where one process's thread scaling flattens, workers pay off more.
{model_part}"""
    )
    print(speedup_lines, file=sys.stderr)


if __name__ == "__main__":
    main()

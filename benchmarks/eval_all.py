"""The evaluation table: the embedded default on SROIE, WildReceipt, FUNSD and the Chinese development set.

Run (resumable: an interrupted run picks up where it stopped)::

    .venv/bin/python benchmarks/eval_all.py              # --limit 50 per set
    .venv/bin/python benchmarks/eval_all.py --limit 3    # a quick check

Each set is one ``chatocr eval`` run in ``runs/eval_all/<set>/`` (predictions.jsonl, metrics.json,
report.md, charts).  The Chinese development set is generated first with ``chatocr data synth``
(seed 0); its first N documents cycle through the five document kinds, so ``--n N`` gives the same
documents as the first N of the 200-document set.  Writes ``benchmarks/results/eval.md`` (the
section for BENCHMARKS.md), ``benchmarks/results/eval.json`` (the raw numbers) and
``benchmarks/results/charts/eval_<set>_*.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CHARTS = RESULTS / "charts"
SHARED = Path(os.environ.get("CHATOCR_BENCHMARKS", "/work/shared/benchmarks"))
DEV_SET_SIZE = 200  # the fixed-seed Chinese development set
DEV_SET_SEED = 0

WILDRECEIPT_FIELDS = (
    "Store_name_value,Store_addr_value,Tel_value,Date_value,Time_value,Subtotal_value,Tax_value,Tips_value,Total_value"
)

# name -> (description, field-spec arguments of `chatocr eval`)
SETS: dict[str, tuple[str, list[str]]] = {
    "sroie": ("SROIE task 3, scanned receipts (English)", ["--template", "receipt"]),
    "wildreceipt": (
        "WildReceipt, photographed receipts (English), the 9 value fields",
        ["--fields", WILDRECEIPT_FIELDS],
    ),
    "funsd": ("FUNSD, scanned forms (English): each form's questions -> answers", ["--fields-from-labels"]),
    "zh_dev": (
        "Chinese development set (`chatocr data synth`, seed 0): certificates, VAT invoices, train tickets, "
        "business licences, receipts; each document's template",
        ["--fields-from-labels"],
    ),
}
CHART_KINDS = ("field_f1", "calibration", "latency")


def chatocr_command() -> list[str]:
    script = Path(sys.executable).with_name("chatocr")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from chatocr.cli import main; main()"]


def relative(word: str) -> str:
    return str(Path(word).relative_to(ROOT)) if word.startswith(str(ROOT)) else word


def shown(command: list[str]) -> str:
    """The command as a reader would type it (`chatocr ...`, paths relative to the repository)."""
    words = ["chatocr", *command[len(chatocr_command()) :]]
    return shlex.join(relative(w) for w in words)


def first_documents_view(folder: Path, view: Path, n: int) -> None:
    """Make ``view`` a dataset of links to the first ``n`` planned documents of ``folder``.

    Synthetic ids end in the plan index (``certificate_00005``) and the plan cycles through the
    document kinds, so the first N by index are balanced, whereas the first N by sorted id are not.
    The view's path stays the same for every N, so its run folder resumes when N grows.
    """
    if view.exists():
        shutil.rmtree(view)  # links only
    for sub in ("images", "labels", "absent", "ocr"):
        source = folder / sub
        if not source.is_dir():
            continue
        (view / sub).mkdir(parents=True)
        for path in source.iterdir():
            index = path.stem.rsplit("_", 1)[-1]
            if index.isdigit() and int(index) < n:
                (view / sub / path.name).symlink_to(path.resolve())


def make_dev_set(limit: int | None, cache: Path) -> tuple[Path | None, str]:
    """Generate (or grow) the Chinese development set and return a view of its first N documents."""
    n = min(limit, DEV_SET_SIZE) if limit else DEV_SET_SIZE
    try:  # a new generator version makes different documents: a new folder (and so a new run folder)
        from chatocr.data.synth.generator import GENERATOR_VERSION as version
    except ImportError:
        version = 0
    folder = cache / f"zh_dev_seed{DEV_SET_SEED}_g{version}"
    probe = subprocess.run([*chatocr_command(), "data", "synth", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None, "skipped: `chatocr data synth` is not available in this checkout"
    command = [
        *chatocr_command(),
        "data",
        "synth",
        "--out",
        str(folder),
        "--n",
        str(n),
        "--seed",
        str(DEV_SET_SEED),
        "--no-progress",
    ]
    print("+", shown(command), flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"skipped: `{shown(command)}` failed ({done.stderr.strip().splitlines()[-1:]})"
    view = folder.with_name(folder.name + "_first")
    first_documents_view(folder, view, n)
    return view, f"`{shown(command)}`, then its first {n} documents (plan order) linked into `{relative(str(view))}`"


def limit_for(name: str, args: argparse.Namespace) -> int | None:
    """--limit, or the set's own --limit-for NAME=N (for a set that could not run to the common limit)."""
    limit: int | None = args.set_limits.get(name, args.limit)
    return limit or None


def run_set(name: str, dataset: Path, spec_args: list[str], args: argparse.Namespace) -> dict[str, Any]:
    # the generated set's folder depends on the generator version; a run folder answers one dataset folder
    out = args.runs_dir / (dataset.name if name == "zh_dev" else name)
    if args.fresh and out.is_dir():
        shutil.rmtree(out)  # predict everything again with the code as it is now
    command = [*chatocr_command(), "eval", str(dataset), *spec_args, "--out", str(out)]
    limit = limit_for(name, args)
    if limit and name != "zh_dev":  # the generated view already holds just the first N documents
        command += ["--limit", str(limit)]
    for flag, value in (("--backend", args.backend), ("--model", args.model), ("--base-url", args.base_url)):
        if value:
            command += [flag, value]
    print("+", shown(command), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, text=True)
    row: dict[str, Any] = {"set": name, "command": shown(command), "wall_s": round(time.perf_counter() - started, 1)}
    metrics_path = out / "metrics.json"
    if done.returncode != 0 or not metrics_path.is_file():
        row["note"] = f"failed: `chatocr eval` exited with {done.returncode}"
        return row
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    row["overall"] = metrics["overall"]
    row["charts"] = {}
    CHARTS.mkdir(parents=True, exist_ok=True)
    for kind in CHART_KINDS:
        source = out / "charts" / f"{kind}.png"
        if source.is_file():
            target = CHARTS / f"eval_{name}_{kind}.png"
            shutil.copyfile(source, target)
            row["charts"][kind] = f"charts/{target.name}"
    return row


def fmt(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def render(rows: list[dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    backend = args.backend or "local"
    model = args.model or "the shipped default model"
    lines = [
        "## Evaluation harness: the embedded default on four sets",
        "",
        f"- Command: `{command}` (each row's own `chatocr eval` command is listed below the table)",
        f"- Machine: {os.cpu_count()} CPU cores, no GPU ({platform.machine()}, Python {platform.python_version()}); "
        "the cores were shared with other work while this ran, so latencies are upper bounds",
        f"- Date: {date}; code at commit {git_commit()}"
        + (
            ""
            if args.fresh
            else " (the runs resume: documents predicted by an earlier invocation of this command "
            "kept their answers from the code of that time; `--fresh` predicts everything again)"
        ),
        f"- Backend: `{backend}`, {model}; OCR: rapidocr (bundled PP-OCR models)",
        "- Data: /work/shared/benchmarks development subsets and the generated Chinese set; "
        + (
            f"`--limit {args.limit}`: the first {args.limit} documents of each set in sorted id order (of the "
            "Chinese set: its first planned documents, which cycle through the five kinds); the whole sets would "
            "take hours on 2 cores"
            if args.limit
            else "all documents"
        )
        + (
            f"; fewer for {', '.join(f'{k} ({v})' for k, v in args.set_limits.items())} (see the documents column)"
            if args.set_limits
            else ""
        ),
        "",
        "| set | documents | F1 | F1 strict | precision | recall | null accuracy | grounding rate | ECE | s/doc | "
        "peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        overall = row.get("overall")
        if overall is None:
            lines.append(f"| {row['set']} | {row.get('note', 'not run')} |" + " |" * 9)
            continue
        lines.append(
            f"| {row['set']} | {overall['documents']}"
            + (f" ({overall['errors']} failed)" if overall["errors"] else "")
            + f" | {fmt(overall['f1'])} | {fmt(overall['f1_strict'])} | "
            f"{fmt(overall['precision'])} | {fmt(overall['recall'])} | {fmt(overall['null_accuracy'])} | "
            f"{fmt(overall['grounding_rate'])} | {fmt(overall['ece'])} | {fmt(overall['seconds_per_doc'], 2)} | "
            f"{fmt(overall['peak_rss_mb'], 0)} |"
        )
    lines += [
        "",
        "How it is counted (field level, micro-averaged over documents and fields): a non-null answer that matches "
        "the label is a true positive; a non-null wrong answer is a false positive, and also a false negative when "
        "the field is labelled; a non-null answer to a field the document does not hold is a false positive; a null "
        "answer to a labelled field is a false negative; a document whose extraction failed counts all its labelled "
        "fields as false negatives. F1 uses the tolerant match (equal after NFKC, case and "
        "whitespace normalisation, the same date or amount, or edit similarity >= 0.9; whitespace is ignored for "
        "WildReceipt, FUNSD and Chinese text); F1 strict needs identical text. Null accuracy: the share of absent "
        "fields answered null (only the Chinese set declares absent fields). Grounding rate: the share of non-null "
        "printed answers whose box holds OCR text containing them. ECE: expected calibration error of `confidence` "
        "over non-null answers, 10 bins. s/doc includes OCR; the model is loaded once per set.",
        "",
    ]
    for row in rows:
        description = SETS[row["set"]][0]
        lines.append(
            f"- **{row['set']}**: {description}. `{row['command']}`" + (f" ({row['note']})" if row.get("note") else "")
        )
        if row.get("synth"):
            lines.append(f"  - generated with {row['synth']}")
    charted = [row for row in rows if row.get("charts")]
    if charted:
        lines += ["", "### Charts", ""]
        for row in charted:
            images = " ".join(f"![{row['set']} {kind}]({path})" for kind, path in row["charts"].items())
            lines.append(f"**{row['set']}**: {images}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=50, help="documents per set (first N by id); 0 for all")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma list of {', '.join(SETS)}")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs" / "eval_all", help="run folders (resumable)")
    parser.add_argument("--backend", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--fresh", action="store_true", help="discard earlier predictions instead of resuming")
    parser.add_argument(
        "--limit-for",
        action="append",
        default=[],
        metavar="SET=N",
        help="a different limit for one set, e.g. funsd=20 (repeatable)",
    )
    args = parser.parse_args()
    if args.limit == 0:
        args.limit = None
    args.set_limits = {}
    for item in args.limit_for:
        name, _, number = item.partition("=")
        if name not in SETS or not number.isdigit():
            parser.error(f"--limit-for takes SET=N with SET one of {', '.join(SETS)}, not {item!r}")
        args.set_limits[name] = int(number)
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
    argv_words = ["benchmarks/eval_all.py", *sys.argv[1:]]
    command = shlex.join([".venv/bin/python", *argv_words])

    rows: list[dict[str, Any]] = []
    for name in names:
        _description, spec_args = SETS[name]
        if name == "zh_dev":
            dataset, synth_note = make_dev_set(limit_for(name, args), ROOT / ".cache" / "eval")
            if dataset is None:
                rows.append({"set": name, "command": "", "note": synth_note})
                continue
            row = run_set(name, dataset, spec_args, args)
            row["synth"] = synth_note
        else:
            dataset = SHARED / name
            if not (dataset / "labels").is_dir():
                rows.append({"set": name, "command": "", "note": f"skipped: {dataset} is not available"})
                continue
            row = run_set(name, dataset, spec_args, args)
        rows.append(row)

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "eval.md").write_text(render(rows, args, command), encoding="utf-8")
    raw = {
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "limit": args.limit,
        "set_limits": args.set_limits,
        "cpu_count": os.cpu_count(),
        "rows": rows,
    }
    (RESULTS / "eval.json").write_text(json.dumps(raw, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'eval.md'} and {RESULTS / 'eval.json'}")
    return 0 if all("overall" in row for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

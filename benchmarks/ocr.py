"""OCR benchmark: accuracy against ground-truth lines, and chatocr's overhead over the raw engine call.

Systems, all measured in the same run on the same images:

* ``chatocr``: ``chatocr.ocr(path)`` with default options (load, orientation, rapidocr, reading order);
* ``chatocr_no_orientation``: the same with ``ocr.orientation=False``;
* ``rapidocr_raw``: the bare engine call chatocr wraps, ``RapidOCR(params=...)(path)`` with the same
  settings chatocr uses (memory arena on, no per-line 180-degree classifier), so the ratio is
  chatocr's own overhead;
* ``rapidocr_defaults``: ``rapidocr.RapidOCR()(path)`` as shipped (memory arena off, line
  classifier on), the engine a user gets without chatocr;
* ``tesseract``: ``chatocr.ocr(path, engine="tesseract", ocr__languages=["eng"])``.

Accuracy (text is NFKC-normalised, case-folded and all whitespace removed before comparing,
since SROIE transcribes in upper case and WildReceipt drops spaces):

* line match rate: a ground-truth line is matched when a predicted line has normalised edit
  similarity ``1 - lev(a, b) / max(len(a), len(b)) >= 0.8`` with it; matching is one-to-one,
  greedy from the most similar pair, by text only (chatocr reports boxes in the upright page,
  which may differ from the ground truth's frame).  Reported as matched GT lines / GT lines;
  precision is matched predicted lines / predicted lines.
* page CER: ground-truth lines and each system's lines are put in the same order
  (``chatocr.layout.rows``: rows top to bottom, left to right in a row), concatenated, and
  compared: total edit distance / total ground-truth characters, over the set.
* matched-line CER: total edit distance over matched line pairs / their ground-truth characters
  (recognition errors on lines that were found).

Speed: models are loaded and warmed first; then every page is run by every system in an order that
rotates from page to page; the median seconds per page and the median of per-page ratios
chatocr / raw are reported.  Peak memory: each system runs the same pages in its own subprocess and
reports ``resource.getrusage(RUSAGE_SELF).ru_maxrss``.

Usage::

    .venv/bin/python benchmarks/ocr.py --limit 30 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("CHATOCR_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))
SETS = ("sroie", "wildreceipt")
MATCH_THRESHOLD = 0.8
SYSTEMS = ("chatocr", "chatocr_no_orientation", "rapidocr_raw", "rapidocr_defaults", "tesseract")
MEMORY_SYSTEMS = ("chatocr", "chatocr_no_orientation", "rapidocr_raw", "rapidocr_defaults")

Points = list[list[float]]


@dataclass
class TextLine:
    text: str
    box: Points


# --------------------------------------------------------------------------- systems


class System:
    name = ""

    def run(self, path: Path) -> list[TextLine]:
        raise NotImplementedError

    def version(self) -> str:
        return ""


class ChatocrSystem(System):
    def __init__(self, name: str, **overrides: Any) -> None:
        import chatocr

        self.name = name
        self._ocr = chatocr.ocr
        self._overrides = overrides

    def run(self, path: Path) -> list[TextLine]:
        doc = self._ocr(path, **self._overrides)
        return [TextLine(line.text, line.box) for page in doc.pages for line in page.lines]

    def version(self) -> str:
        from chatocr.engines import get_engine
        from chatocr.options import Options

        opts = Options.create(**{f"ocr.{k.removeprefix('ocr__')}": v for k, v in self._overrides.items()})
        return get_engine(opts.ocr).version()


class RawRapidocr(System):
    def __init__(self, name: str, *, arena: bool) -> None:
        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        self.name = name
        self._arena = arena
        # chatocr's session settings: the memory arena on and no per-line 180-degree classifier.
        params = {"EngineConfig.onnxruntime.enable_cpu_mem_arena": True, "Global.use_cls": False} if arena else None
        self._engine = RapidOCR(params=params)
        self._version = importlib.metadata.version("rapidocr")

    def run(self, path: Path) -> list[TextLine]:
        result: Any = self._engine(str(path))
        if result.boxes is None or result.txts is None:
            return []
        return [
            TextLine(str(text), [[float(x), float(y)] for x, y in box])
            for box, text in zip(result.boxes, result.txts, strict=False)
        ]

    def version(self) -> str:
        settings = "memory arena on, no line classifier: as chatocr runs it" if self._arena else "RapidOCR() defaults"
        return f"rapidocr {self._version} ({settings})"


class TesserocrDirect(System):
    """Used only when chatocr's tesseract engine cannot be created: tesserocr text lines."""

    name = "tesseract"

    def __init__(self) -> None:
        import tesserocr

        self._tesserocr = tesserocr
        self._api = tesserocr.PyTessBaseAPI(lang="eng")

    def run(self, path: Path) -> list[TextLine]:
        from PIL import Image

        tesserocr = self._tesserocr
        self._api.SetImage(Image.open(path).convert("RGB"))
        lines = []
        for component, rect, _, _ in self._api.GetComponentImages(tesserocr.RIL.TEXTLINE, True):
            self._api.SetRectangle(rect["x"], rect["y"], rect["w"], rect["h"])
            text = self._api.GetUTF8Text().strip()
            x, y, w, h = rect["x"], rect["y"], rect["w"], rect["h"]
            if text:
                lines.append(TextLine(text, [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]))
            del component
        return lines

    def version(self) -> str:
        return f"{self._tesserocr.tesseract_version().splitlines()[0]} (eng) via tesserocr directly"


def make_system(name: str) -> System:
    if name == "chatocr":
        return ChatocrSystem(name)
    if name == "chatocr_no_orientation":
        return ChatocrSystem(name, ocr__orientation=False)
    if name == "rapidocr_raw":
        return RawRapidocr(name, arena=True)
    if name == "rapidocr_defaults":
        return RawRapidocr(name, arena=False)
    if name == "tesseract":
        try:
            system: System = ChatocrSystem(name, engine="tesseract", ocr__languages=["eng"])
            system.version()  # creates the engine now, so a missing dependency shows here
            return system
        except Exception as exc:  # chatocr's tesseract engine missing or broken: call tesserocr directly
            print(f"chatocr's tesseract engine is unavailable ({exc}); using tesserocr directly", file=sys.stderr)
            return TesserocrDirect()
    raise SystemExit(f"unknown system {name!r}")


# --------------------------------------------------------------------------- stage timing


STAGE_TIMES: dict[str, float] = {}


def instrument_pipeline_stages() -> list[str]:
    """Wrap chatocr's pipeline stages so every chatocr call also records the time per stage."""
    from chatocr import pipeline

    wrapped = []
    for stage in ("stage_load", "stage_orient", "stage_lift_seals", "stage_recognize", "stage_order"):
        original = getattr(pipeline, stage, None)
        if original is None:
            continue

        def timed(*args: Any, _original: Callable[..., Any] = original, _stage: str = stage, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                STAGE_TIMES[_stage] = STAGE_TIMES.get(_stage, 0.0) + time.perf_counter() - start

        setattr(pipeline, stage, timed)
        wrapped.append(stage)
    return wrapped


# --------------------------------------------------------------------------- metrics


def normalise(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def match_lines(gt: list[str], pred: list[str]) -> list[tuple[int, int]]:
    """One-to-one greedy matching of normalised texts with similarity >= MATCH_THRESHOLD."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cdist

    if not gt or not pred:
        return []
    scores = cdist(gt, pred, scorer=Levenshtein.normalized_similarity, score_cutoff=MATCH_THRESHOLD)
    candidates = sorted(
        ((float(scores[i][j]), i, j) for i in range(len(gt)) for j in range(len(pred)) if scores[i][j] > 0),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    used_gt: set[int] = set()
    used_pred: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_gt and j not in used_pred:
            used_gt.add(i)
            used_pred.add(j)
            pairs.append((i, j))
    return pairs


def page_string(lines: list[TextLine]) -> str:
    """All lines in the neutral row order (rows top to bottom, left to right), whitespace removed."""
    from chatocr.document import Line
    from chatocr.layout import rows

    objects = [Line(text=tl.text, box=[[float(x), float(y)] for x, y in tl.box], confidence=1.0) for tl in lines]
    return "".join(normalise(line.text) for row in rows(objects) for line in row)


@dataclass
class PageScore:
    gt_lines: int
    pred_lines: int
    matched: int
    page_edits: int
    page_chars: int
    matched_edits: int
    matched_chars: int


def score_page(gt: list[TextLine], pred: list[TextLine]) -> PageScore:
    from rapidfuzz.distance import Levenshtein

    gt_texts = [t for t in (normalise(line.text) for line in gt) if t]
    pred_texts = [t for t in (normalise(line.text) for line in pred) if t]
    pairs = match_lines(gt_texts, pred_texts)
    gt_page = page_string([line for line in gt if normalise(line.text)])
    pred_page = page_string([line for line in pred if normalise(line.text)])
    return PageScore(
        gt_lines=len(gt_texts),
        pred_lines=len(pred_texts),
        matched=len(pairs),
        page_edits=Levenshtein.distance(gt_page, pred_page),
        page_chars=len(gt_page),
        matched_edits=sum(Levenshtein.distance(gt_texts[i], pred_texts[j]) for i, j in pairs),
        matched_chars=sum(len(gt_texts[i]) for i, _ in pairs),
    )


def aggregate(scores: list[PageScore]) -> dict[str, float | int]:
    gt_lines = sum(s.gt_lines for s in scores)
    pred_lines = sum(s.pred_lines for s in scores)
    matched = sum(s.matched for s in scores)
    page_chars = sum(s.page_chars for s in scores)
    matched_chars = sum(s.matched_chars for s in scores)
    return {
        "pages": len(scores),
        "gt_lines": gt_lines,
        "pred_lines": pred_lines,
        "matched_lines": matched,
        "line_match_rate": matched / gt_lines if gt_lines else 0.0,
        "line_precision": matched / pred_lines if pred_lines else 0.0,
        "page_cer": sum(s.page_edits for s in scores) / page_chars if page_chars else 0.0,
        "matched_line_cer": sum(s.matched_edits for s in scores) / matched_chars if matched_chars else 0.0,
    }


# --------------------------------------------------------------------------- data


@dataclass
class Doc:
    dataset: str
    doc_id: str
    image: Path
    gt: list[TextLine] = field(default_factory=list)


def load_gt(path: Path) -> list[TextLine]:
    lines = []
    for entry in json.loads(path.read_text(encoding="utf-8")):
        flat = [float(v) for v in entry["box"]]
        lines.append(TextLine(str(entry["text"]), [[flat[k], flat[k + 1]] for k in range(0, 8, 2)]))
    return lines


def select_docs(data_root: Path, dataset: str, limit: int) -> list[Doc]:
    folder = data_root / dataset
    if not (folder / "ocr").is_dir():
        raise SystemExit(f"{folder}/ocr not found; set --data or CHATOCR_BENCHMARKS to the benchmarks folder")
    images = {p.stem: p for p in (folder / "images").iterdir() if p.is_file()}
    docs = []
    for gt_path in sorted((folder / "ocr").glob("*.json")):
        if gt_path.stem in images:
            docs.append(Doc(dataset, gt_path.stem, images[gt_path.stem], load_gt(gt_path)))
        if len(docs) >= limit:
            break
    return docs


# --------------------------------------------------------------------------- peak memory


def memory_worker(system_name: str, files: list[str]) -> None:
    """Subprocess entry: run one system over the files and print its peak RSS."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    system = make_system(system_name)
    after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for path in files:
        system.run(Path(path))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = {
        "system": system_name,
        "maxrss_mb": peak / 1024,
        "maxrss_after_load_mb": after_load / 1024,
        "maxrss_at_start_mb": before / 1024,
        "vmhwm_mb": _vm_hwm_kb() / 1024,
    }
    print(json.dumps(report))


def _vm_hwm_kb() -> float:
    """Peak resident set of this process image from /proc (Linux), a cross-check of ru_maxrss."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return float(row.split()[1])
    except OSError:
        pass
    return float("nan")


def measure_memory(system_name: str, files: list[Path]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump([str(p) for p in files], handle)
        list_path = handle.name
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--memory-worker", system_name, "--files", list_path],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(list_path)
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- run


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpu": "none used (onnxruntime CPU execution provider)",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_start": [round(v, 2) for v in os.getloadavg()],
    }


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    docs = [doc for dataset in args.sets for doc in select_docs(args.data, dataset, args.limit)]
    if not docs:
        raise SystemExit("no documents selected")
    machine = machine_info()
    commit = git_commit()
    # Peak memory first: a child forked from a parent that already holds the models would
    # inherit the parent's high-water mark in ru_maxrss.
    memory: dict[str, Any] = {}
    if args.memory_limit > 0:
        files: list[Path] = []
        for dataset in args.sets:
            files += [doc.image for doc in docs if doc.dataset == dataset][: args.memory_limit]
        for name in MEMORY_SYSTEMS:
            if name in args.systems:
                print(f"peak memory: {name} on {len(files)} pages", file=sys.stderr, flush=True)
                memory[name] = measure_memory(name, files)
        if "rapidocr_raw" in memory:
            for name in ("chatocr", "chatocr_no_orientation", "rapidocr_defaults"):
                if name in memory:
                    memory[name]["ratio_vs_raw"] = memory[name]["maxrss_mb"] / memory["rapidocr_raw"]["maxrss_mb"]
        memory["pages"] = [str(p.relative_to(args.data)) for p in files]

    stages = instrument_pipeline_stages()
    systems = {name: make_system(name) for name in args.systems}
    versions = {name: system.version() for name, system in systems.items()}

    # Warm-up: first call of every system on the first page of each set is not timed.
    for dataset in args.sets:
        first = next(doc for doc in docs if doc.dataset == dataset)
        for system in systems.values():
            system.run(first.image)

    per_doc: list[dict[str, Any]] = []
    names = list(systems)
    for k, doc in enumerate(docs):
        order = names[k % len(names) :] + names[: k % len(names)]
        if k % 2:
            order.reverse()
        record: dict[str, Any] = {"dataset": doc.dataset, "id": doc.doc_id, "order": order, "systems": {}}
        for name in order:
            STAGE_TIMES.clear()
            start, start_cpu = time.perf_counter(), time.process_time()
            lines = systems[name].run(doc.image)
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            score = score_page(doc.gt, lines)
            record["systems"][name] = {
                "seconds": elapsed,
                "cpu_seconds": elapsed_cpu,
                "stages": dict(STAGE_TIMES) if name.startswith("chatocr") else {},
                **score.__dict__,
            }
        per_doc.append(record)
        summary = "  ".join(f"{n}={record['systems'][n]['seconds']:.2f}s" for n in names)
        print(f"[{k + 1}/{len(docs)}] {doc.dataset}/{doc.doc_id}: {summary}", file=sys.stderr, flush=True)

    results: dict[str, Any] = {}
    for dataset in [*args.sets, "all"]:
        records = [r for r in per_doc if dataset in ("all", r["dataset"])]
        if not records:
            continue
        table: dict[str, Any] = {}
        for name in names:
            runs = [r["systems"][name] for r in records]
            fields = PageScore.__dataclass_fields__
            scores = [PageScore(**{k: v for k, v in run.items() if k in fields}) for run in runs]
            page_seconds = [run["seconds"] for run in runs]
            page_cpu = [run["cpu_seconds"] for run in runs]
            entry: dict[str, Any] = {
                **aggregate(scores),
                "median_s_per_page": statistics.median(page_seconds),
                "mean_s_per_page": statistics.fmean(page_seconds),
                "median_cpu_s_per_page": statistics.median(page_cpu),
            }
            if runs[0]["stages"]:
                entry["median_stage_s"] = {
                    stage: statistics.median(run["stages"].get(stage, 0.0) for run in runs) for stage in stages
                }
            table[name] = entry
        overhead = {}
        if "rapidocr_raw" in table:
            raw = [r["systems"]["rapidocr_raw"]["seconds"] for r in records]
            raw_cpu = [r["systems"]["rapidocr_raw"]["cpu_seconds"] for r in records]
            for name in ("chatocr", "chatocr_no_orientation", "rapidocr_defaults"):
                if name in table:
                    own = [r["systems"][name]["seconds"] for r in records]
                    own_cpu = [r["systems"][name]["cpu_seconds"] for r in records]
                    overhead[name] = {
                        "median_ratio": statistics.median(a / b for a, b in zip(own, raw, strict=True)),
                        "ratio_of_medians": statistics.median(own) / statistics.median(raw),
                        "ratio_of_totals": sum(own) / sum(raw),
                        "cpu_median_ratio": statistics.median(a / b for a, b in zip(own_cpu, raw_cpu, strict=True)),
                        "cpu_ratio_of_totals": sum(own_cpu) / sum(raw_cpu),
                    }
        results[dataset] = {"systems": table, "time_overhead_vs_raw": overhead}

    machine["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    return {
        "command": args.command,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "data": {
            dataset: {"root": str(args.data / dataset), "pages": sum(1 for d in docs if d.dataset == dataset)}
            for dataset in args.sets
        },
        "selection": "the first N documents by id (sorted file names) that have ocr/<id>.json",
        "machine": machine,
        "versions": versions,
        "match_threshold": MATCH_THRESHOLD,
        "results": results,
        "memory": memory,
        "per_doc": per_doc,
    }


# --------------------------------------------------------------------------- report

LABELS = {
    "chatocr": "chatocr `chatocr.ocr()` (default: orientation on)",
    "chatocr_no_orientation": "chatocr, `ocr.orientation=False`",
    "rapidocr_raw": "raw rapidocr call (chatocr's settings)",
    "rapidocr_defaults": "raw `rapidocr.RapidOCR()(path)` (shipped defaults)",
    "tesseract": "Tesseract (chatocr `tesseract` engine, eng)",
}


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def render_markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    out = [
        "## OCR: accuracy against ground-truth lines, and chatocr's overhead over the raw engine",
        "",
        f"- Command: `{report['command']}` (commit {report['commit']}, {report['date']})",
        "- Data: "
        + "; ".join(f"`{info['root']}` ({info['pages']} pages)" for info in report["data"].values())
        + f", {report['selection']}; ground truth = each set's `ocr/<id>.json` lines.",
        f"- Machine: {machine['cores']} CPU cores ({machine['cpu']}), no GPU, Python {machine['python']}; "
        f"the machine was shared with other jobs (load average {machine['load_average_start']} at the start, "
        f"{machine['load_average_end']} at the end), so absolute times are slower and noisier than on an idle "
        "laptop; ratios are measured page by page on the same images in the same process.",
        "- Engines: " + "; ".join(f"{name}: {v}" for name, v in report["versions"].items()),
        "",
        "Rules. Text is NFKC-normalised, case-folded and stripped of all whitespace (SROIE transcribes in upper "
        "case, WildReceipt drops spaces). **Line match rate**: a ground-truth line is matched when a predicted "
        "line has normalised "
        f"edit similarity `1 - lev(a,b)/max(|a|,|b|) >= {report['match_threshold']}`; one-to-one, greedy from the "
        "most similar pair, by text only; rate = matched GT lines / GT lines, precision = matched predicted lines "
        "/ predicted lines. **Page CER**: GT lines and each system's lines are put in the same order "
        "(`chatocr.layout.rows`: rows top to bottom, left to right), concatenated; total edit distance / total "
        "GT characters over the set. **Matched-line CER**: edit distance over matched pairs / their GT "
        "characters. Differences in line granularity (an engine joining two GT boxes into one line) count as "
        "misses in the match rate but cost little in page CER.",
        "",
    ]
    for dataset, block in report["results"].items():
        title = "all pages" if dataset == "all" else dataset
        out += [
            f"### {title}",
            "",
            "| system | pages | GT lines | predicted lines | line match rate | line precision | page CER "
            "| matched-line CER | median s/page (wall) | mean s/page (wall) | median CPU s/page |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, entry in block["systems"].items():
            out.append(
                f"| {LABELS.get(name, name)} | {entry['pages']} | {entry['gt_lines']} | {entry['pred_lines']} | "
                f"{pct(entry['line_match_rate'])} | {pct(entry['line_precision'])} | {pct(entry['page_cer'])} | "
                f"{pct(entry['matched_line_cer'])} | {entry['median_s_per_page']:.2f} | "
                f"{entry['mean_s_per_page']:.2f} | {entry['median_cpu_s_per_page']:.2f} |"
            )
        out.append("")
    overall = report["results"].get("all", {})
    overhead = overall.get("time_overhead_vs_raw", {})
    if overhead:
        out += [
            "### chatocr overhead over the raw rapidocr call (all pages; the shipped-defaults row shows what"
            " chatocr's session settings save)",
            "",
            "| system | wall time: median of per-page ratios | wall: ratio of medians | wall: ratio of totals "
            "| CPU time: median of per-page ratios | CPU: ratio of totals | peak RSS (MB) | peak RSS ratio |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        memory = report.get("memory", {})
        raw_mem = memory.get("rapidocr_raw", {}).get("maxrss_mb")
        if raw_mem:
            out.append(f"| {LABELS['rapidocr_raw']} | 1 | 1 | 1 | 1 | 1 | {raw_mem:.0f} | 1 |")
        for name, ratios in overhead.items():
            mem = memory.get(name, {})
            mem_cells = f"{mem['maxrss_mb']:.0f} | {mem['ratio_vs_raw']:.3f}" if mem else "n/a | n/a"
            out.append(
                f"| {LABELS.get(name, name)} | {ratios['median_ratio']:.3f} | {ratios['ratio_of_medians']:.3f} | "
                f"{ratios['ratio_of_totals']:.3f} | {ratios['cpu_median_ratio']:.3f} | "
                f"{ratios['cpu_ratio_of_totals']:.3f} | {mem_cells} |"
            )
        out.append("")
        stages = overall["systems"].get("chatocr", {}).get("median_stage_s")
        if stages:
            cells = ", ".join(f"{stage.removeprefix('stage_')} {seconds:.3f} s" for stage, seconds in stages.items())
            out += [f"Median time per chatocr stage (default options): {cells}.", ""]
            shares = [
                sum(v for k, v in run["stages"].items() if k != "stage_recognize") / run["stages"]["stage_recognize"]
                for record in report["per_doc"]
                for name, run in record["systems"].items()
                if name == "chatocr" and run["stages"].get("stage_recognize")
            ]
            if shares:
                out += [
                    "Overhead measured inside each chatocr call (robust to the machine's load, since both parts are "
                    "timed in the same call): (load + orient + lift seals + order) / recognize, median over pages = "
                    f"{100 * statistics.median(shares):.2f}% (max {100 * max(shares):.2f}%). The recognize stage is "
                    "the engine call (plus chatocr's conversion of its output to lines).",
                    "",
                ]
        if memory.get("pages"):
            noise = memory.get("chatocr_no_orientation", {}).get("maxrss_mb", 0) > memory.get("chatocr", {}).get(
                "maxrss_mb", float("inf")
            )
            out += [
                f"Peak memory: each system ran the same {len(memory['pages'])} pages (the first of each set) in its "
                "own fresh subprocess, started before the benchmark process loaded any model; `ru_maxrss` of that "
                "process, models included (`/proc/self/status` VmHWM agrees: "
                + ", ".join(f"{name} {memory[name]['vmhwm_mb']:.0f} MB" for name in MEMORY_SYSTEMS if name in memory)
                + ")."
                + (
                    " Differences of a few percent are run-to-run variation: chatocr without orientation loads "
                    "strictly less than with it, yet peaked higher here."
                    if noise
                    else ""
                ),
                "",
            ]
        out += [
            "Target: chatocr's overhead over the raw engine call at most 5% (ratio <= 1.05). "
            "The default is orientation on. CPU time is `time.process_time()` of the benchmark process (all "
            "threads) around each call; on a shared machine it is far less disturbed by other jobs than wall "
            "time. chatocr's calls include decoding the file with EXIF handling, the orientation check, the "
            "engine and the reading order; the raw call decodes the file itself.",
            "",
        ]
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmarks folder (default %(default)s)")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--limit", type=int, default=30, help="pages per set (default %(default)s)")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument(
        "--memory-limit", type=int, default=5, help="pages per set for the peak-memory subprocesses (0: skip)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument(
        "--render-only", action="store_true", help="re-write ocr.md from an existing ocr.json in --out, no OCR"
    )
    parser.add_argument("--memory-worker", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.command = "python benchmarks/ocr.py " + " ".join(argv if argv is not None else sys.argv[1:])
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    if args.memory_worker:
        memory_worker(args.memory_worker, json.loads(Path(args.files).read_text()))
        return
    if args.render_only:
        report = json.loads((args.out / "ocr.json").read_text(encoding="utf-8"))
    else:
        if "rapidocr_raw" not in args.systems:
            args.memory_limit = 0
        report = run_benchmark(args)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "ocr.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown = render_markdown(report)
    (args.out / "ocr.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()

"""Field-level accuracy of `chatocr extract` on the public KIE sets in ../shared/benchmarks.

    .venv/bin/python benchmarks/extract.py --datasets sroie,wildreceipt,funsd --limit 40 --ablations

For each dataset it runs the embedded default (OCR -> candidates -> choose -> ground) and
reports precision, recall and F1 per dataset and per field, strict (equal after NFKC, case
and whitespace normalisation; the printed raw value may match too) and tolerant (also: the
same date, the same amount, or a normalised edit similarity >= 0.9), the rate at which
absent fields are answered null, and seconds per document.  OCR is cached per image under
.cache/ocr/<dataset>/<id>.json so ablations only pay for extraction; the first OCR time is
kept and reported.  Writes benchmarks/results/extract.md and extract.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import re
import sys
import time
import unicodedata
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from chatocr.document import Document
from chatocr.eval import ocr_cache
from chatocr.extract import Extractor
from chatocr.extract.normalize import parse_amount, parse_date
from chatocr.fields import load_schema
from chatocr.fields.spec import Schema
from chatocr.options import Options

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path("/work/shared/benchmarks")
DATA = SHARED if SHARED.is_dir() else ROOT.parent / "shared" / "benchmarks"
CACHE = ROOT / ".cache" / "ocr"
RESULTS = ROOT / "benchmarks" / "results"

SROIE_FIELDS = ["company", "date", "address", "total"]
DATE_FIELD = re.compile(r"date|日期", re.IGNORECASE)
AMOUNT_FIELD = re.compile(r"total|tax|tips|subtotal|amount|金额|税额|合计|票价", re.IGNORECASE)


# ------------------------------------------------------------------ matching


def norm(text: str | None, drop_spaces: bool = False) -> str:
    """NFKC, casefold, whitespace collapsed; removed for CJK text and for sets whose labels drop spaces."""
    text = unicodedata.normalize("NFKC", text or "").strip().casefold()
    if drop_spaces or re.search(r"[\u4e00-\u9fff]", text):
        return re.sub(r"\s+", "", text)
    return re.sub(r"\s+", " ", text)


def strict_match(pred: str | None, raw: str | None, label: str, drop_spaces: bool = False) -> bool:
    if pred is None:
        return False
    return norm(pred, drop_spaces) == norm(label, drop_spaces) or (
        raw is not None and norm(raw, drop_spaces) == norm(label, drop_spaces)
    )


def tolerant_match(field: str, pred: str | None, raw: str | None, label: str, drop_spaces: bool = False) -> bool:
    if pred is None:
        return False
    if strict_match(pred, raw, label, drop_spaces):
        return True
    if DATE_FIELD.search(field):
        a, b = parse_date(pred), parse_date(label)
        if a and a == b:
            return True
    if AMOUNT_FIELD.search(field):
        a, b = parse_amount(pred), parse_amount(label)
        if a and a == b:
            return True

    def squash(s: str) -> str:
        return re.sub(r"[\s,.;:]+", "" if drop_spaces else " ", norm(s, drop_spaces)).strip()

    return any(Levenshtein.normalized_similarity(squash(p), squash(label)) >= 0.9 for p in (pred, raw) if p)


# ------------------------------------------------------------------ data


def dataset_folder(dataset: str) -> Path:
    """``sroie`` -> the shared benchmark folder; ``synth:PATH`` -> a folder made by `chatocr data synth`."""
    return Path(dataset.split(":", 1)[1]) if dataset.startswith("synth:") else DATA / dataset


def load_items(dataset: str, limit: int | None) -> list[tuple[str, Path, dict[str, str]]]:
    folder = dataset_folder(dataset)
    items = []
    for label_path in sorted((folder / "labels").glob("*.json")):
        images = [p for p in (folder / "images").glob(label_path.stem + ".*")]
        if not images:
            continue
        labels = json.loads(label_path.read_text(encoding="utf-8"))
        if dataset == "funsd" and not labels:
            continue  # a form without question/answer pairs asks nothing
        items.append((label_path.stem, images[0], {k: str(v) for k, v in labels.items() if str(v).strip()}))
    if dataset.startswith("synth:"):
        # Round-robin over document kinds (<kind>_<n>) so a --limit subset covers every template.
        items.sort(key=lambda it: (int(it[0].rsplit("_", 1)[1]) if it[0].rsplit("_", 1)[-1].isdigit() else 0, it[0]))
    return items[:limit] if limit else items


def cache_dir(dataset: str) -> Path:
    return ocr_cache.cache_dir(dataset, CACHE)


def cache_path(dataset: str, doc_id: str, image: Path) -> Path:
    if dataset.startswith("synth:"):
        # Synthetic sets get regenerated under the same names: key their OCR by the image bytes.
        digest = hashlib.sha1(image.read_bytes()).hexdigest()[:12]
        return cache_dir(dataset) / f"{doc_id}-{digest}.json"
    return ocr_cache.cache_path(dataset, doc_id, CACHE)


def cached_ocr(dataset: str, doc_id: str, image: Path, options: Options) -> tuple[Document, float]:
    """The shared OCR cache (chatocr.eval.ocr_cache); synthetic sets are keyed by their image bytes."""
    if dataset.startswith("synth:"):
        key = cache_path(dataset, doc_id, image).stem
        return ocr_cache.cached_ocr(dataset, key, image, options.ocr, CACHE)
    return ocr_cache.cached_ocr(dataset, doc_id, image, options.ocr, CACHE)


def ground_truth_ocr(dataset: str, doc_id: str, image: Path) -> Document | None:
    """The dataset's own OCR lines (ocr/<id>.json) as a Document: isolates extraction from OCR errors."""
    path = dataset_folder(dataset) / "ocr" / f"{doc_id}.json"
    if not path.is_file():
        return None
    from PIL import Image

    from chatocr.document import Line, Page, box_from_rect

    with Image.open(image) as img:
        width, height = img.size
    lines = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        coords = [float(v) for v in item["box"]]
        xs, ys = coords[0::2], coords[1::2]
        text = str(item.get("text", "")).strip()
        if text:
            lines.append(Line(text=text, box=box_from_rect(min(xs), min(ys), max(xs), max(ys)), confidence=1.0))
    return Document(file=image.name, pages=[Page(page=1, width=width, height=height, lines=lines)])


def schema_for(dataset: str, doc_id: str, labels: dict[str, str], all_fields: list[str]) -> Schema:
    if dataset == "sroie":
        return load_schema(template="receipt")
    if dataset == "wildreceipt":
        return load_schema(fields=all_fields)
    if dataset.startswith("synth:"):
        # Synthetic documents are named <template>_<n>; fields missing from a label are absent from the document.
        return load_schema(template=doc_id.rsplit("_", 1)[0])
    # funsd (and others): the label keys are the printed questions; the answer is the value.
    return load_schema(schema={"fields": [{"name": k, "aliases": [k]} for k in labels]})


# ------------------------------------------------------------------ run


def evaluate(dataset: str, items: list[tuple[str, Path, dict[str, str]]], config: dict[str, Any]) -> dict[str, Any]:
    options = Options.create(**config.get("options", {}))
    extractor = Extractor(options)
    all_fields = sorted({k for _, _, labels in items for k in labels}) if dataset == "wildreceipt" else SROIE_FIELDS
    per_field: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ocr_seconds, extract_seconds, errors = [], [], []
    examples = []
    for doc_id, image, labels in items:
        if config.get("ocr") == "gt":
            gt = ground_truth_ocr(dataset, doc_id, image)
            if gt is None:
                continue
            doc, ocr_s = gt, 0.0
        else:
            doc, ocr_s = cached_ocr(dataset, doc_id, image, options)
        schema = schema_for(dataset, doc_id, labels, all_fields)
        started = time.perf_counter()
        try:
            result = extractor.run_document(doc, schema, use_pairing=config.get("pairing", True))
        except Exception as exc:  # a crash on one document is reported, not fatal
            errors.append(f"{doc_id}: {type(exc).__name__}: {exc}")
            continue
        extract_seconds.append(time.perf_counter() - started)
        ocr_seconds.append(ocr_s)
        for name in schema.names:
            field = result.fields[name]
            label = labels.get(name)
            group = doc_id.rsplit("_", 1)[0] + "." if dataset.startswith("synth:") else ""
            stats = per_field[group + name if dataset != "funsd" else "answer"]
            if label is None:
                stats["absent"] += 1
                stats["absent_null"] += field.value is None
                stats["predicted"] += field.value is not None
                continue
            stats["labelled"] += 1
            stats["predicted"] += field.value is not None
            # WildReceipt transcriptions drop the spaces inside a text box (see its README): compare without them.
            drop = dataset == "wildreceipt"
            strict = strict_match(field.value, field.raw, label, drop)
            tolerant = tolerant_match(name, field.value, field.raw, label, drop)
            stats["strict"] += strict
            stats["tolerant"] += tolerant
            if not tolerant and len(examples) < 400:
                examples.append({"doc": doc_id, "field": name, "label": label, "pred": field.value, "raw": field.raw})
    return summarise(per_field, ocr_seconds, extract_seconds, errors, examples)


def prf(correct: int, predicted: int, labelled: int) -> dict[str, float]:
    p = correct / predicted if predicted else 0.0
    r = correct / labelled if labelled else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def summarise(per_field: dict[str, dict[str, int]], ocr_s: list[float], ext_s: list[float], errors: list[str],
              examples: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    totals: dict[str, int] = defaultdict(int)
    fields_out = {}
    for name, stats in sorted(per_field.items()):
        for key, value in stats.items():
            totals[key] += value
        fields_out[name] = {
            "labelled": stats["labelled"],
            "strict": prf(stats["strict"], stats["predicted"], stats["labelled"]),
            "tolerant": prf(stats["tolerant"], stats["predicted"], stats["labelled"]),
            "absent": stats["absent"],
            "absent_null_rate": round(stats["absent_null"] / stats["absent"], 4) if stats["absent"] else None,
        }
    n = len(ext_s)
    return {
        "documents": n,
        "errors": errors,
        "strict": prf(totals["strict"], totals["predicted"], totals["labelled"]),
        "tolerant": prf(totals["tolerant"], totals["predicted"], totals["labelled"]),
        "absent_null_rate": round(totals["absent_null"] / totals["absent"], 4) if totals["absent"] else None,
        "seconds_per_doc_extract": round(sum(ext_s) / n, 3) if n else None,
        "seconds_per_doc_ocr": round(sum(ocr_s) / n, 3) if n else None,
        "fields": fields_out,
        "misses": examples[:60],
    }


DEFAULT = "default (auto: rules with the embedded model)"
CONFIGS: dict[str, dict[str, Any]] = {
    DEFAULT: {"options": {}},
    "hybrid (model when candidates are not decisive)": {"options": {"extract.strategy": "hybrid"}},
    "model chooses always": {"options": {"extract.strategy": "model"}},
    "rules, no label-value pairing": {"options": {"extract.strategy": "rules"}, "pairing": False},
    "model, no candidates (picks a line)": {"options": {"extract.strategy": "model", "extract.use_candidates": False}},
}


def render(report: dict[str, Any]) -> str:
    lines = [
        "## Key information extraction (`chatocr extract`)",
        "",
        *[f"- Run: `{run['command']}` — {run['data']}; {run['machine']}; {run['date']}" for run in report["runs"]],
        "- Matching: strict = equal after NFKC/case/whitespace normalisation (value or printed raw; spaces removed "
        "for CJK text and for WildReceipt, whose labels drop them); tolerant = strict, or the same date / amount, "
        "or normalised edit similarity >= 0.9. P/R/F1 are field-level; a non-null answer to an absent field counts "
        "against precision.",
        "",
        "| dataset | configuration | docs | strict P | strict R | strict F1 | tolerant P | tolerant R | tolerant F1 |"
        " null on absent | s/doc extract | s/doc OCR |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, configs in report["results"].items():
        for config, res in configs.items():
            s, t = res["strict"], res["tolerant"]
            null_rate = "-" if res["absent_null_rate"] is None else f"{res['absent_null_rate']:.2f}"
            ocr_s = "-" if "ground-truth" in dataset else res["seconds_per_doc_ocr"]
            lines.append(
                f"| {dataset} | {config} | {res['documents']} | {s['precision']:.3f} | {s['recall']:.3f} | "
                f"{s['f1']:.3f} | {t['precision']:.3f} | {t['recall']:.3f} | **{t['f1']:.3f}** | {null_rate} | "
                f"{res['seconds_per_doc_extract']} | {ocr_s} |"
            )
    lines += ["", "Per field (first configuration listed for the dataset, tolerant F1 / strict F1):", ""]
    for dataset, configs in report["results"].items():
        first = configs.get(DEFAULT) or next(iter(configs.values()))
        cells = ", ".join(
            f"{name} {f['tolerant']['f1']:.2f}/{f['strict']['f1']:.2f}"
            if f["labelled"]
            else f"{name} never labelled (null on absent {f['absent_null_rate']:.2f})"
            for name, f in first["fields"].items()
        )
        lines.append(f"- {dataset}: {cells}")
    lines.append("")
    notes = RESULTS / "extract_notes.md"
    if notes.is_file():
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="sroie,wildreceipt,funsd")
    parser.add_argument("--limit", type=int, default=None, help="first N documents of each dataset")
    parser.add_argument("--ablations", action="store_true", help="also run the ablation configurations")
    parser.add_argument("--configs", default=None, help="comma list of configuration names to run (default: all)")
    parser.add_argument(
        "--ocr",
        choices=["real", "gt", "cached"],
        default="real",
        help="real: rapidocr (cached per image); gt: the dataset's ground-truth OCR lines; "
        "cached: real OCR, but only the documents already in the cache",
    )
    parser.add_argument("--merge", action="store_true", help="add to the results already in --out instead of replacing")
    parser.add_argument("--out", default=str(RESULTS / "extract"), help="output path without extension")
    parser.add_argument("--render-only", action="store_true", help="re-write the .md from the .json in --out")
    parser.add_argument(
        "--model", default=None, help="local model for all configurations (smollm2-135m-instruct, chatocr-default)"
    )
    args = parser.parse_args(argv)
    if args.render_only:
        out = Path(args.out)
        out.with_suffix(".md").write_text(render(json.loads(out.with_suffix(".json").read_text())), encoding="utf-8")
        return 0
    if not DATA.is_dir():
        print(f"benchmark data not found at {DATA}", file=sys.stderr)
        return 2
    configs = CONFIGS if args.ablations else {DEFAULT: CONFIGS[DEFAULT]}
    if args.configs:
        configs = {k: v for k, v in CONFIGS.items() if any(c.strip() in k for c in args.configs.split(","))}
    if args.model:
        # Only the weights change: OCR, prompt, candidates, grammar and grounding stay the same.
        configs = {
            f"{name}; model {args.model}": {**config, "options": {**config["options"], "backend.model": args.model}}
            for name, config in configs.items()
        }
    report: dict[str, Any] = {
        "command": "python benchmarks/extract.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "data": ", ".join(
            f"{d} ({f'first {args.limit}' if args.limit else 'all'} documents)" for d in args.datasets.split(",")
        )
        + {"real": "; OCR: rapidocr", "gt": "; OCR: the datasets' ground-truth lines", "cached": "; OCR: rapidocr"}[
            args.ocr
        ],
        "machine": f"{platform.machine()} Linux, 2 CPU cores (shared), no GPU",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "results": {},
    }
    for dataset in args.datasets.split(","):
        items = load_items(dataset, None if args.ocr == "cached" else args.limit)
        if args.ocr == "cached":
            items = [it for it in items if cache_path(dataset, it[0], it[1]).is_file()][: args.limit]
        if not items:
            # An empty row would read as F1 0.000; say why instead (e.g. --ocr cached after the OCR settings changed).
            print(f"{dataset}: no documents to run (--ocr {args.ocr}); nothing written", file=sys.stderr)
            return 2
        ocr_label = {"real": "rapidocr", "cached": "rapidocr", "gt": "ground-truth OCR"}[args.ocr]
        key = f"{dataset} ({ocr_label}, {len(items)} docs)"
        report["results"][key] = {}
        for name, config in configs.items():
            started = time.perf_counter()
            res = evaluate(dataset, items, {**config, "ocr": args.ocr})
            report["results"][key][name] = res
            summary = f"tolerant F1 {res['tolerant']['f1']:.3f} strict F1 {res['strict']['f1']:.3f}"
            took = f"({res['documents']} docs, {time.perf_counter() - started:.0f}s)"
            print(f"{dataset:12s} {name:38s} {summary} {took}", file=sys.stderr, flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report["runs"] = [{k: report[k] for k in ("command", "data", "machine", "date")}]
    if args.merge and out.with_suffix(".json").is_file():
        previous = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
        for dataset, configs_done in report["results"].items():
            previous["results"].setdefault(dataset, {}).update(configs_done)
        previous["runs"] = [*previous.get("runs", []), *report["runs"]]
        report = {**report, "results": previous["results"], "runs": previous["runs"]}
    out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    out.with_suffix(".md").write_text(render(report), encoding="utf-8")
    print(render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

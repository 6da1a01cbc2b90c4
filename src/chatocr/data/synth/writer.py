"""Write synthetic documents in the benchmark dataset layout, atomically and resumably.

Layout (as in /work/shared/benchmarks)::

    OUT/images/<id>.jpg     the degraded page
    OUT/labels/<id>.json    {field: value} for the fields printed on the document
    OUT/absent/<id>.json    [field, ...] template fields not on the document
    OUT/ocr/<id>.json       ground-truth text lines [{"box": [x1, y1, ... x4, y4], "text": ...}]
    OUT/meta/<id>.json      kind, layout, seed, degradations, field and line boxes
    OUT/dataset.json        evaluation options (labels are complete: a missing field is absent;
                            Chinese sets compare values ignoring whitespace)
    OUT/synth.json          the run's parameters (a resumed run must use the same ones)

Each file is written to a temporary name and renamed, and ``meta`` is written last, so a
document is complete when all its files exist; an interrupted run resumes by skipping
complete documents.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatocr.data.synth.generator import GENERATOR_VERSION, PlannedDoc, SynthDocument, plan, render
from chatocr.errors import DatasetError, OptionsError
from chatocr.files import atomic_write_bytes

SUBDIRS = ("images", "labels", "absent", "ocr", "meta")  # meta last: it marks a complete document


@dataclass
class SynthSummary:
    out: Path
    written: int
    skipped: int
    by_kind: dict[str, int]
    by_layout: dict[str, int]


def _json_bytes(value: Any, compact: bool = False) -> bytes:
    text = (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if compact
        else json.dumps(value, ensure_ascii=False, indent=1)
    )
    return (text + "\n").encode("utf-8")


def is_complete(out: Path, doc_id: str) -> bool:
    return all((out / sub / f"{doc_id}.{'jpg' if sub == 'images' else 'json'}").is_file() for sub in SUBDIRS)


def ground_truth_lines(doc: SynthDocument) -> list[dict[str, Any]]:
    """The printed lines in the shared benchmarks' ``ocr/<id>.json`` form (flat 8-number boxes)."""
    return [
        {"box": [round(v) for point in line["box"] for v in point], "text": line["text"]} for line in doc.meta["lines"]
    ]


def write_document(out: Path, doc: SynthDocument) -> None:
    atomic_write_bytes(out / "images" / f"{doc.id}.jpg", doc.jpeg_bytes())
    atomic_write_bytes(out / "labels" / f"{doc.id}.json", _json_bytes(doc.labels))
    atomic_write_bytes(out / "absent" / f"{doc.id}.json", _json_bytes(doc.absent))
    atomic_write_bytes(out / "ocr" / f"{doc.id}.json", _json_bytes(ground_truth_lines(doc), compact=True))
    atomic_write_bytes(out / "meta" / f"{doc.id}.json", _json_bytes(doc.meta, compact=True))


def _check_manifest(out: Path, params: dict[str, Any]) -> None:
    manifest = out / "synth.json"
    if manifest.is_file():
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{manifest} is not valid JSON: {exc}") from None
        mismatched = {k: (previous.get(k), v) for k, v in params.items() if k != "n" and previous.get(k) != v}
        if mismatched:
            detail = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in mismatched.items())
            raise OptionsError(
                f"{out} holds a synthetic set made with other settings ({detail})",
                hint="use a new --out folder, or the same settings to resume",
            )
    elif any((out / sub).is_dir() for sub in SUBDIRS):
        # Other files are fine; a dataset we did not make is not (we would mix into it).
        raise OptionsError(
            f"{out} already holds a dataset that was not made by `chatocr data synth`",
            hint="choose an empty or new --out folder",
        )
    atomic_write_bytes(manifest, _json_bytes(params))


def synthesize(
    out: str | Path,
    *,
    n: int = 200,
    seed: int = 0,
    kinds: str | list[str] | None = "all",
    layouts: str = "all",
    degrade: str = "mild",
    lang: str = "all",
    on_progress: Callable[[PlannedDoc, bool], None] | None = None,
    workers: int = 1,
) -> SynthSummary:
    """Generate ``n`` documents into ``out``; documents already complete there are skipped.

    ``on_progress(planned, written)`` is called after each document (``written`` is False
    for a skipped one).  ``workers`` > 1 renders in that many processes; every document has its
    own seed, so the files are the same either way.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OptionsError(f"--out {out} exists and is not a folder")
    planned = plan(n, seed, kinds, layouts, lang)
    if degrade not in ("none", "mild", "strong"):
        raise OptionsError(f"unknown --degrade {degrade!r}", hint="use none, mild or strong")
    kind_names = kinds if isinstance(kinds, str) or kinds is None else ",".join(kinds)
    params = {
        "generator": GENERATOR_VERSION,
        "seed": seed,
        "kinds": kind_names or "all",
        "layouts": layouts,
        "degrade": degrade,
        "lang": lang,
        "n": n,
    }
    out.mkdir(parents=True, exist_ok=True)
    _check_manifest(out, params)
    for sub in SUBDIRS:
        (out / sub).mkdir(exist_ok=True)
    evaluation = {"missing_is_absent": True, **({"ignore_whitespace": True} if lang == "zh" else {})}
    atomic_write_bytes(out / "dataset.json", _json_bytes(evaluation))
    written = skipped = 0
    by_kind: dict[str, int] = {}
    by_layout: dict[str, int] = {}
    todo: list[PlannedDoc] = []
    for doc in planned:
        by_kind[doc.kind] = by_kind.get(doc.kind, 0) + 1
        layout_id = f"{doc.kind}/{doc.layout}"
        by_layout[layout_id] = by_layout.get(layout_id, 0) + 1
        if is_complete(out, doc.id):
            skipped += 1
            if on_progress:
                on_progress(doc, False)
        else:
            todo.append(doc)
    for doc in _render_all(out, todo, degrade, workers):
        written += 1
        if on_progress:
            on_progress(doc, True)
    return SynthSummary(out, written, skipped, by_kind, by_layout)


def _render_and_write(out: Path, degrade: str, doc: PlannedDoc) -> PlannedDoc:
    write_document(out, render(doc, degrade))
    return doc


def _render_all(out: Path, todo: list[PlannedDoc], degrade: str, workers: int) -> Iterator[PlannedDoc]:
    """Render and write each document, yielding it once its files are complete, in plan order."""
    if workers <= 1 or len(todo) < 2:
        for doc in todo:
            yield _render_and_write(out, degrade, doc)
        return
    # Spawned, not forked: the caller (reader training) may already run thread pools that a fork would copy.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(functools.partial(_render_and_write, out, degrade), todo, chunksize=4)

"""Labelled documents -> instruction samples in exactly the extractor's prompt.

For each document of a dataset folder (``images/`` + ``labels/`` [+ ``absent/``], the layout of the
shared benchmarks and of ``chatocr data synth``) and each extractive field of the schema:

1. OCR with chatocr's own engine (cached by image content), so training text has real OCR errors;
2. the extractor's own candidates and context lines (:mod:`chatocr.extract`), and its prompt
   (:func:`chatocr.extract.prompt.build_prompt`);
3. the target is the index of the offered candidate whose value matches the gold label, or ``null``
   when the field is absent or no offered candidate holds it (the model must learn to refuse).

Enum fields (级别, 等级) are not asked of the model: the extractor derives them by the certificate
rules, so they produce no samples.  A field with no candidates is not asked either.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatocr.data.export import Sample, write_samples
from chatocr.document import Document
from chatocr.errors import DatasetError
from chatocr.eval.dataset import Dataset, DatasetItem, load_dataset
from chatocr.eval.matching import normalize, similarity, tolerant_match
from chatocr.extract.candidates import Candidate, DocView
from chatocr.extract.extractor import (
    DECISIVE_MARGIN,
    DECISIVE_SCORE,
    Extractor,
    context_lines,
    stage_candidates,
)
from chatocr.extract.normalize import normalize_value, strip_keys
from chatocr.extract.prompt import PROMPT_VERSION, build_prompt
from chatocr.fields.spec import FieldSpec, Schema
from chatocr.files import atomic_write_text
from chatocr.options import Options
from chatocr.pipeline import run_ocr

log = logging.getLogger(__name__)


@dataclass
class SampleStats:
    documents: int = 0
    samples: int = 0
    answered_index: int = 0
    answered_null: int = 0
    gold_not_offered: int = 0  # labelled, but no offered candidate holds it (target null)
    no_candidates: int = 0
    decisive: int = 0
    per_field: dict[str, int] = field(default_factory=dict)


def ocr_cache_path(image: Path, options: Options, cache: Path) -> Path:
    """Where the OCR of ``image`` under ``options.ocr`` is cached: keyed by content and OCR settings."""
    digest = hashlib.sha256(image.read_bytes()).hexdigest()[:24]
    settings = hashlib.sha256(options.ocr.model_dump_json().encode()).hexdigest()[:8]
    return cache / f"{options.ocr.engine}-{settings}" / f"{digest}.json"


def ocr_cached(image: Path, options: Options, cache: Path | None) -> Document:
    """OCR a document, reusing a cached result for the same bytes and engine settings."""
    if cache is None:
        return run_ocr(image, options.ocr, name=image.name)
    path = ocr_cache_path(image, options, cache)
    if path.is_file():
        try:
            return Document.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            log.warning("ignoring a corrupt OCR cache entry %s", path)
    document = run_ocr(image, options.ocr, name=image.name)
    atomic_write_text(path, document.model_dump_json())
    return document


def _ocr_one(job: tuple[Path, str, Path]) -> str:
    image, options_json, cache = job
    ocr_cached(image, Options.model_validate_json(options_json), cache)
    return image.name


def warm_ocr_cache(images: list[Path], options: Options, cache: Path, workers: int) -> None:
    """OCR the documents missing from the cache with ``workers`` processes (one OCR engine each)."""
    todo = [image for image in images if not ocr_cache_path(image, options, cache).is_file()]
    if workers <= 1 or len(todo) < 2:
        return
    from concurrent.futures import ProcessPoolExecutor

    payload = options.model_dump_json()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for name in pool.map(_ocr_one, [(image, payload, cache) for image in todo], chunksize=4):
            log.debug("OCR cached: %s", name)


def candidate_value(candidate: Candidate, spec: FieldSpec) -> str:
    """The value the extractor would answer for this candidate."""
    raw = strip_keys(candidate.text, spec.aliases)
    return candidate.value or normalize_value(raw, spec.normalize) or raw


def gold_index(offered: list[Candidate], spec: FieldSpec, gold: str | None) -> int | None:
    """The offered candidate that answers ``gold``: an exact match after normalisation first, else
    the most similar tolerant match (OCR slips); None when the field is absent or not offered."""
    if gold is None:
        return None
    values = [candidate_value(c, spec) for c in offered]
    norm_gold = normalize(gold)
    for i, value in enumerate(values):
        if normalize(value) == norm_gold:
            return i
    tolerant = [(similarity(normalize(v), norm_gold), i) for i, v in enumerate(values) if tolerant_match(gold, v)]
    return max(tolerant)[1] if tolerant else None


def document_samples(
    document: Document,
    labels: dict[str, str],
    absent: set[str],
    schema: Schema,
    extractor: Extractor,
    *,
    doc_id: str,
    stats: SampleStats | None = None,
    skip_decisive: bool = False,
) -> list[Sample]:
    """Samples for one OCR'd document; fields neither labelled nor marked absent are skipped
    (unknown answers must not become "null" targets)."""
    stats = stats if stats is not None else SampleStats()
    options = extractor.options
    view = DocView(document)
    language = extractor.language_for(schema, view.full_text)
    samples: list[Sample] = []
    for spec in schema.fields:
        if not spec.extractive or (spec.name not in labels and spec.name not in absent):
            continue
        candidates = stage_candidates(view, spec, options)
        if not candidates:
            stats.no_candidates += 1
            continue
        top, second = candidates[0].score, candidates[1].score if len(candidates) > 1 else 0.0
        decisive = top >= DECISIVE_SCORE and top - second >= DECISIVE_MARGIN
        if decisive:
            stats.decisive += 1
            if skip_decisive:
                continue
        offered = candidates[: options.extract.max_candidates]
        prompt = build_prompt(
            spec,
            [c.text for c in offered],
            context_lines(view, offered, options.extract.max_prompt_lines),
            language=language,
        )
        gold = labels.get(spec.name)
        answer = gold_index(offered, spec, gold)
        if gold is not None and answer is None:
            stats.gold_not_offered += 1
        if answer is None:
            stats.answered_null += 1
        else:
            stats.answered_index += 1
        target = json.dumps({spec.name: answer}, ensure_ascii=False)
        messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
        messages.append({"role": "assistant", "content": target})
        meta = {
            "doc": doc_id,
            "field": spec.name,
            "gold": gold,
            "language": language,
            "decisive": decisive,
            "prompt_version": PROMPT_VERSION,
        }
        samples.append(Sample(messages=messages, id=f"{doc_id}:{spec.name}", meta=meta))
        stats.per_field[spec.name] = stats.per_field.get(spec.name, 0) + 1
    stats.samples += len(samples)
    return samples


def schema_for_item(item: DatasetItem, schema: Schema | None, meta: dict[str, Any]) -> Schema:
    """The schema to ask: the one given, else the template named by the document's meta file
    ("template" or "kind", as ``chatocr data synth`` writes), else the document's own label names
    as plain text fields."""
    from chatocr.fields import list_templates, load_schema

    if schema is not None:
        return schema
    template = meta.get("template") or meta.get("kind")
    if isinstance(template, str) and template in list_templates():
        return load_schema(template=template)
    return load_schema(fields=item.field_names)


def iter_dataset_samples(
    dataset: Dataset,
    schema: Schema | None,
    options: Options,
    *,
    ocr_cache: Path | None,
    stats: SampleStats,
    skip_decisive: bool = False,
    exclude_heldout: bool = True,
    exclude_layouts: set[str] | None = None,
    on_document: Callable[[str], None] | None = None,
) -> Iterator[Sample]:
    """Samples of every document, skipping held-out layouts (``meta/<id>.json`` "layout_split") and any
    layout named in ``exclude_layouts`` ("kind/layout" or "layout"), so evaluation layouts never leak."""
    extractor = Extractor(options)
    meta_dir = dataset.root / "meta"
    for item in dataset.items:
        meta = _meta(meta_dir, item.id)
        layout = f"{meta.get('kind')}/{meta.get('layout')}"
        if exclude_heldout and meta.get("layout_split") == "heldout":
            continue
        if exclude_layouts and (layout in exclude_layouts or str(meta.get("layout")) in exclude_layouts):
            continue
        document = ocr_cached(item.image, options, ocr_cache)
        item_schema = schema_for_item(item, schema, meta)
        absent = set(item.absent)
        if dataset.options.missing_is_absent:
            absent |= set(item_schema.names) - set(item.labels)
        stats.documents += 1
        yield from document_samples(
            document,
            item.labels,
            absent,
            item_schema,
            extractor,
            doc_id=item.id,
            stats=stats,
            skip_decisive=skip_decisive,
        )
        if on_document:
            on_document(item.id)


def _meta(meta_dir: Path, doc_id: str) -> dict[str, Any]:
    path = meta_dir / f"{doc_id}.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise DatasetError(f"{path}: bad JSON") from None
    return data if isinstance(data, dict) else {}


def build_samples(
    dataset_dir: str | Path,
    out: str | Path,
    *,
    schema: Schema | None = None,
    options: Options | None = None,
    limit: int | None = None,
    ocr_cache: Path | None = None,
    fmt: str = "openai",
    skip_decisive: bool = False,
    exclude_heldout: bool = True,
    exclude_layouts: set[str] | None = None,
    on_document: Callable[[str], None] | None = None,
    workers: int = 1,
) -> SampleStats:
    """Write the instruction samples of a labelled dataset folder to ``out`` (JSON Lines)."""
    options = options or Options()
    dataset = load_dataset(dataset_dir, limit=limit)
    if ocr_cache is not None and workers > 1:
        warm_ocr_cache([item.image for item in dataset.items], options, ocr_cache, workers)
    stats = SampleStats()
    samples = list(
        iter_dataset_samples(
            dataset,
            schema,
            options,
            ocr_cache=ocr_cache,
            stats=stats,
            skip_decisive=skip_decisive,
            exclude_heldout=exclude_heldout,
            exclude_layouts=exclude_layouts,
            on_document=on_document,
        )
    )
    write_samples(samples, out, fmt)
    return stats

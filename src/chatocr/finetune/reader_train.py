"""Train the learned reader (`chatocr finetune reader`): data -> features -> trees -> calibration.

Sources are dataset folders in the shared benchmarks' layout (``images/ labels/ ocr/``; see
:mod:`chatocr.eval.dataset`), read with their ground-truth OCR lines, and synthetic documents made
by `chatocr data synth` (their own ground-truth lines).  For every labelled field of every document,
every proposal is a training row; it is positive when it matches the label under the evaluation's
tolerant rule.  Forms whose keys differ from document to document (XFUND, FUNSD) are also asked
fields taken from other forms, labelled absent, so the reader learns to answer null.

Documents are split by a hash of their id: 80% fit the tree model, 20% fit the calibration
(the logistic map from the best score and its margin to P(answer right)) and the null threshold.
Features are cached per source under ``cache_dir`` so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from chatocr.errors import DatasetError, OptionsError
from chatocr.eval.dataset import DatasetItem, ground_truth_document, load_dataset
from chatocr.eval.matching import MatchOptions, tolerant_match
from chatocr.extract.candidates import DocView
from chatocr.extract.extractor import acceptable
from chatocr.extract.features import (
    CATEGORICAL,
    FEATURES,
    FEATURES_VERSION,
    DocFeatures,
    field_rows,
    occurrence_of,
    squash,
)
from chatocr.extract.normalize import normalize_value
from chatocr.extract.proposals import PROPOSALS_VERSION
from chatocr.extract.reader import (
    EARLY_STOP,
    MANIFEST_FILE,
    MODEL_FILE,
    RANKING_OBJECTIVES,
    Calibration,
    calibration_inputs,
    logit,
    sigmoid,
    value_keys,
)
from chatocr.extract.value_kinds import CLASSES, VALUE_KINDS_FILE, ValueKindModel, coarse_kind, fit_value_kinds
from chatocr.fields.lexicon import spec_from_name
from chatocr.fields.loader import list_templates, load_template
from chatocr.fields.spec import FieldSpec, Schema
from chatocr.files import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

# Hard negatives kept per field (highest key similarity / rule score), plus random ones.
HARD_NEGATIVES = 48
RANDOM_NEGATIVES = 48
CALIBRATION_SHARE = 0.2
OCR_CHOICES = ("gt", "real", "both")  # which lines a source's documents are read from (Source.ocr)
# Bumped when the rows of a document change for the same features (which fields are asked, and how, and
# what kind the lexicon infers for them).
ROWS_VERSION = 4
# The rule ranking's features and their values for a proposal the rules did not make.
RULE_FEATURES = {"rule_score": 0.0, "rule_rank": 99.0, "rule_source": 0.0, "src_rule": 0.0}


@dataclass
class Source:
    """One training source of a recipe."""

    name: str
    path: Path
    kind: str = "labels"  # labels: fields from each label file; synth: the template named by the id
    exclude_ids: set[str] = field(default_factory=set)
    holdout_first: int = 0  # the first N ids (sorted) are development documents: never trained on
    absent_fields: int = 0  # fields from other documents of the set asked as absent, per document
    limit: int | None = None
    synth: dict[str, Any] | None = None  # for kind synth: `chatocr data synth` parameters
    # gt: the set's ground-truth lines; real: chatocr's OCR of the image (cached); both: one copy of each
    ocr: str = "gt"  # one of OCR_CHOICES
    ocr_name: str = ""  # the OCR cache's name for the set ("xfund_zh", "train/sroie")
    real_limit: int | None = None  # real OCR for the first N training documents only
    weight: float = 1.0  # how much each of its rows counts in the fit (the calibration is unweighted)


@dataclass
class Recipe:
    name: str
    sources: list[Source]
    params: dict[str, Any]
    rounds: int = 400
    seed: int = 1234
    # Train also on a copy of every row with the rule ranking's features blanked, so the trees learn to read
    # without them and do not inherit the hand-set ranking's mistakes where it is sure and wrong.
    rule_dropout: bool = False
    # How often a field a user asks is not on the document (weights the calibration's absent fields).
    absent_share: float | None = None


def load_reader_recipe(path: str | Path, benchmarks: Path, cache: Path) -> Recipe:
    """Read a reader recipe (YAML); ``{benchmarks}`` and ``{cache}`` in paths are filled in."""
    path = Path(path)
    if not path.is_file():
        from importlib import resources

        bundled = Path(str(resources.files("chatocr.finetune") / "reader_recipes" / f"{path.name}.yaml"))
        if not bundled.is_file():
            raise OptionsError(f"no reader recipe {str(path)!r}", hint="a YAML file, or the bundled name 'reader'")
        path = bundled
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        recipe = Recipe(
            name=str(data.get("name", path.stem)),
            sources=[_recipe_source(entry, benchmarks, cache) for entry in data.get("sources", [])],
            params=dict(data.get("lightgbm", {})),
            rounds=int(data.get("rounds", 400)),
            seed=int(data.get("seed", 1234)),
            rule_dropout=bool(data.get("rule_dropout", False)),
            absent_share=float(data["absent_share"]) if "absent_share" in data else None,
        )
    except (yaml.YAMLError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise OptionsError(
            f"reader recipe {path}: {type(exc).__name__}: {exc}",
            hint="see reader_recipes/reader.yaml for the keys a recipe and its sources take",
        ) from None
    bad = [source.name for source in recipe.sources if not source.weight > 0]
    if bad:
        raise OptionsError(f"reader recipe {path}: the weight of {', '.join(bad)} must be above 0")
    # A misspelt ocr would read a source from no lines at all, silently: refuse it before any slow work.
    bad = [source.name for source in recipe.sources if source.ocr not in OCR_CHOICES]
    if bad:
        raise OptionsError(f"reader recipe {path}: the ocr of {', '.join(bad)} must be one of {', '.join(OCR_CHOICES)}")
    bad = [source.name for source in recipe.sources if source.real_limit is not None and source.real_limit < 0]
    if bad:
        raise OptionsError(f"reader recipe {path}: the real_limit of {', '.join(bad)} must be 0 or more")
    return recipe


def _recipe_source(entry: dict[str, Any], benchmarks: Path, cache: Path) -> Source:
    """One ``sources`` entry of a recipe."""
    folder = Path(str(entry["path"]).format(benchmarks=benchmarks, cache=cache))
    exclude = set(entry.get("exclude_ids", []))
    for spec in entry.get("exclude_ids_of", []):  # e.g. the dev set's labels folder
        exclude |= {p.stem for p in Path(str(spec).format(benchmarks=benchmarks)).glob("*.json")}
    return Source(
        name=entry["name"],
        path=folder,
        kind=entry.get("kind", "labels"),
        exclude_ids=exclude,
        holdout_first=int(entry.get("holdout_first", 0)),
        absent_fields=int(entry.get("absent_fields", 0)),
        limit=entry.get("limit"),
        synth=entry.get("synth"),
        ocr=str(entry.get("ocr", "gt")),
        ocr_name=str(entry.get("ocr_name", entry["name"])),
        real_limit=int(entry["real_limit"]) if entry.get("real_limit") is not None else None,
        weight=float(entry.get("weight", 1.0)),
    )


def training_items(source: Source) -> list[DatasetItem]:
    """The documents of a source that may be trained on (development ids and exclusions left out)."""
    if source.kind == "synth":
        from chatocr.data.synth import synthesize

        # Rendering is one core's work per document: every core renders (the files do not depend on it).
        synthesize(source.path, **(source.synth or {}), workers=os.cpu_count() or 1)
    if not source.path.is_dir():
        raise DatasetError(f"training source {source.name}: no folder {source.path}")
    dataset = load_dataset(source.path)
    items = dataset.items[source.holdout_first :]
    items = [it for it in items if it.id not in source.exclude_ids]
    return items[: source.limit] if source.limit else items


def schema_for(source: Source, item: DatasetItem, pool: list[str], rng: random.Random) -> tuple[Schema, dict[str, str]]:
    """The fields asked of a training document, and for each asked name the label key it is scored against.

    Synthetic documents are asked their template's fields, half of them under one of their printed keys
    (``价税合计（小写）`` for 价税合计; then half of those with the lexicon's spec for that name, as a user
    asking by the printed name gets), and the other fields they label; forms are asked their labels' keys
    and some keys of other forms (absent here)."""
    kind = item.id.rsplit("_", 1)[0]
    if source.kind == "synth" and kind in list_templates():
        template = load_template(kind)
        asked: dict[str, str] = {}
        specs: list[FieldSpec] = []
        for spec in template.fields:
            if not spec.extractive:
                continue
            # A user asks by a full printed name ("合计税额"), not by a fragment shared with other fields ("名称").
            printed = [a for a in spec.aliases if len(a) >= 3 and a not in spec.name and a not in asked]
            name = rng.choice(printed) if printed and rng.random() < 0.5 else spec.name
            asked[name] = spec.name
            # A user who asks by a printed name gets the lexicon's spec for it, not the template's aliases
            # ("合计金额" alone, where the document prints the row label 合计 and the column header 金额).
            bare = name != spec.name and rng.random() < 0.5
            specs.append(spec_from_name(name) if bare else spec.model_copy(update={"name": name}))
        for key in [*item.labels, *sorted(item.absent)]:
            if key not in asked.values() and key not in asked:
                asked[key] = key
                specs.append(spec_from_name(key))
        return Schema(name=template.name, fields=specs), asked
    names = list(item.labels) + (sorted(item.absent) if source.kind == "synth" else [])
    if source.absent_fields and pool:
        own = set(names) | set(item.absent)
        others = [n for n in rng.sample(pool, min(len(pool), 4 * source.absent_fields)) if n not in own]
        names += others[: source.absent_fields]
    names = list(dict.fromkeys(names))
    return Schema(fields=[spec_from_name(n) for n in names]), {n: n for n in names}


def _matches(label: str, text: str, spec: FieldSpec, options: MatchOptions) -> bool:
    if tolerant_match(label, text, options):
        return True
    value = normalize_value(text, spec.normalize)
    return value is not None and value != text and tolerant_match(label, value, options)


@dataclass
class Rows:
    x: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    group: list[np.ndarray] = field(default_factory=list)  # one id per (document, field)
    calib: list[np.ndarray] = field(default_factory=list)  # the rows belong to a calibration document
    labelled: list[np.ndarray] = field(default_factory=list)  # the field has a value on the document
    real: list[np.ndarray] = field(default_factory=list)  # the rows come from chatocr's OCR, not ground truth
    value: list[np.ndarray] = field(default_factory=list)  # which value a row proposes, within its group
    n_groups: int = 0

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.x:
            keys = ("x", "y", "group", "calib", "labelled", "real", "value")
            return {k: np.zeros((0, len(FEATURES))) if k == "x" else np.zeros(0) for k in keys}
        return {
            "x": np.vstack(self.x),
            "y": np.concatenate(self.y),
            "group": np.concatenate(self.group),
            "calib": np.concatenate(self.calib),
            "labelled": np.concatenate(self.labelled),
            "real": np.concatenate(self.real),
            "value": np.concatenate(self.value),
        }


def is_calibration_doc(source: str, doc_id: str) -> bool:
    digest = hashlib.sha1(f"{source}/{doc_id}".encode()).digest()
    return digest[0] < 256 * CALIBRATION_SHARE


def source_documents(source: Source, item: DatasetItem, number: int, ocr_root: Path) -> list[tuple[bool, Any]]:
    """The readings of one training document: (is chatocr's OCR, Document) for ground truth and/or real OCR."""
    from chatocr.eval.ocr_cache import cached_ocr
    from chatocr.options import OcrOptions

    out: list[tuple[bool, Any]] = []
    if source.ocr in ("gt", "both"):
        out.append((False, ground_truth_document(item.image)))
    if source.ocr in ("real", "both") and (source.real_limit is None or number <= source.real_limit):
        document, _ = cached_ocr(source.ocr_name, item.id, item.image, OcrOptions(), ocr_root)
        out.append((True, document))
    return out


def source_rows(
    source: Source,
    seed: int,
    progress: Progress | None = None,
    ocr_root: Path | None = None,
    kinds: list[ValueKindModel] | None = None,
) -> dict[str, np.ndarray]:
    """Feature rows of one source.  Calibration documents keep every proposal; training ones
    keep the positives, the hardest negatives and some random ones.  ``kinds``: the value-kind model
    of each fold, a document read with the one that never saw it (see ``fit_value_kind_folds``)."""
    from chatocr.eval.ocr_cache import DEFAULT_ROOT

    items = training_items(source)
    options = load_dataset(source.path, limit=1).options.match
    rng = random.Random(seed)
    pool = sorted({name for it in items for name in it.labels})
    rows = Rows()
    started = time.perf_counter()
    for number, item in enumerate(items, start=1):
        try:
            readings = source_documents(source, item, number, ocr_root or DEFAULT_ROOT)
        except DatasetError as exc:
            log.warning("skipping %s: %s", item.id, exc)
            continue
        schema, label_key = schema_for(source, item, pool, rng)
        calib = is_calibration_doc(source.name, item.id)
        for real, document in readings:
            _document_rows(
                rows,
                DocFeatures.build(
                    DocView(document), kinds=kinds[1 - value_fold(source.name, item.id)] if kinds else None
                ),
                schema,
                label_key,
                item,
                source,
                options,
                calib,
                real,
                rng,
            )
        if progress and (number % 25 == 0 or number == len(items)):
            progress(f"{source.name}: {number}/{len(items)} documents ({time.perf_counter() - started:.0f} s)")
    return rows.arrays()


def _document_rows(
    rows: Rows,
    doc: DocFeatures,
    schema: Schema,
    label_key: dict[str, str],
    item: DatasetItem,
    source: Source,
    options: MatchOptions,
    calib: bool,
    real: bool,
    rng: random.Random,
) -> None:
    """Rows of every asked field of one reading of a document."""
    for spec in schema.fields:
        key = label_key[spec.name]
        label = item.labels.get(key)
        if label is None and not (key in item.absent or source.kind != "synth"):
            continue
        fr = field_rows(doc, spec, schema.fields)
        if fr.matrix.shape[0] == 0:
            continue
        # Proposals the field cannot answer with (not a date for a date field) are never chosen: not trained on.
        usable = np.flatnonzero([acceptable(spec, p.text) for p in fr.proposals])
        if usable.size == 0:
            continue
        y = np.array(
            [1.0 if label is not None and _matches(label, fr.proposals[i].text, spec, options) else 0.0 for i in usable]
        )
        matrix = fr.matrix[usable]
        values = value_keys([fr.proposals[i].text for i in usable], spec.normalize)
        keep = np.arange(len(y))
        if not calib:
            keep = _sample(matrix, y, rng)
        rows.x.append(matrix[keep])
        rows.y.append(y[keep])
        rows.group.append(np.full(len(keep), rows.n_groups))
        rows.calib.append(np.full(len(keep), 1.0 if calib else 0.0))
        rows.labelled.append(np.full(len(keep), 1.0 if label is not None else 0.0))
        rows.real.append(np.full(len(keep), 1.0 if real else 0.0))
        rows.value.append(values[keep])
        rows.n_groups += 1


def _sample(matrix: np.ndarray, y: np.ndarray, rng: random.Random) -> np.ndarray:
    positives = np.flatnonzero(y > 0)
    negatives = np.flatnonzero(y == 0)
    if len(negatives) <= HARD_NEGATIVES + RANDOM_NEGATIVES:
        return np.arange(len(y))
    # Hard: the negatives that look most like an answer (key similarity, rule score).
    hardness = matrix[negatives, FEATURES.index("sim_best")] + matrix[negatives, FEATURES.index("rule_score")]
    hard = negatives[np.argsort(-hardness)[:HARD_NEGATIVES]]
    rest = sorted(set(negatives.tolist()) - set(hard.tolist()))
    sampled = rng.sample(rest, min(len(rest), RANDOM_NEGATIVES))
    return np.array(sorted({*positives.tolist(), *hard.tolist(), *sampled}), dtype=np.int64)


# The modules a training row is computed by: a change to any of them (a lexicon entry, an amount parser, the
# line grouping) changes rows without a version bump, so cached rows are keyed by their source text too.
ROW_MODULES = (
    "chatocr.document", "chatocr.layout", "chatocr.eval.dataset", "chatocr.eval.matching",
    "chatocr.extract.candidates", "chatocr.extract.extractor", "chatocr.extract.features",
    "chatocr.extract.normalize", "chatocr.extract.proposals", "chatocr.extract.value_kinds",
    "chatocr.fields.lexicon", "chatocr.fields.patterns", "chatocr.fields.spec", "chatocr.finetune.reader_train",
)  # fmt: skip


@functools.cache
def code_digest(modules: tuple[str, ...] = ROW_MODULES) -> str:
    """A digest of the source of the modules that compute training rows, read once per process (a tree
    edited during a training run does not key the rows the loaded code computes)."""
    import importlib

    digest = hashlib.sha1()
    for name in modules:
        source = Path(str(importlib.import_module(name).__file__))
        digest.update(name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:12]


def _cache_key(source: Source, seed: int, kinds_digest: str = "") -> str:
    blob = json.dumps(
        {
            "source": source.name,
            "path": str(source.path),
            "exclude": sorted(source.exclude_ids),
            "holdout": source.holdout_first,
            "absent": source.absent_fields,
            "limit": source.limit,
            "synth": source.synth,
            "ocr": [source.ocr, source.ocr_name, source.real_limit],
            "features": FEATURES_VERSION,
            "proposals": PROPOSALS_VERSION,
            "rows": ROWS_VERSION,
            "names": FEATURES,
            "seed": seed,
            "negatives": [HARD_NEGATIVES, RANDOM_NEGATIVES],
            "kinds": kinds_digest,
            "code": code_digest(),
        },
        sort_keys=True,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def cached_source_rows(
    source: Source,
    seed: int,
    cache: Path,
    progress: Progress | None = None,
    ocr_root: Path | None = None,
    kinds: list[ValueKindModel] | None = None,
) -> dict[str, np.ndarray]:
    """``source_rows``, cached on disk: a rerun after an interruption starts at the next source."""
    path = cache / f"rows-{source.name}-{_cache_key(source, seed, kinds_digest(kinds))}.npz"
    if path.is_file():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    arrays = source_rows(source, seed, progress, ocr_root, kinds)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)
    return arrays


def value_fold(source: str, doc_id: str) -> int:
    """Which of two folds a document's value kinds are learned in (its features come from the other)."""
    return hashlib.sha1(f"kinds/{source}/{doc_id}".encode()).digest()[1] % 2


def kinds_digest(kinds: list[ValueKindModel] | None) -> str:
    if not kinds:
        return ""
    digest = hashlib.sha1()
    for model in kinds:
        digest.update(model.weights.tobytes())
        digest.update(model.bias.tobytes())
    return digest.hexdigest()[:12]


NONE_LINES_PER_DOCUMENT = 15


def value_kind_examples(source: Source, seed: int) -> list[list[tuple[str, str]]]:
    """(text, coarse kind) pairs of one source per fold: every label value under its field's kind, the
    ground-truth lines that print a labelled field's name as "key", and up to NONE_LINES_PER_DOCUMENT other
    lines of the document as "none"."""
    rng = random.Random(seed)
    folds: list[list[tuple[str, str]]] = [[], []]
    for item in training_items(source):
        kind = item.id.rsplit("_", 1)[0]
        template = load_template(kind) if source.kind == "synth" and kind in list_templates() else None
        specs = {f.name: f for f in template.fields} if template is not None else {}
        out = folds[value_fold(source.name, item.id)]
        labels = [v.strip() for v in item.labels.values() if v.strip()]
        for key, value in item.labels.items():
            if value.strip():
                out.append((value.strip(), coarse_kind(specs.get(key) or spec_from_name(key))))
        try:
            lines = [ln.text.strip() for page in ground_truth_document(item.image).pages for ln in page.lines]
        except DatasetError:
            continue
        names = {squash(occurrence_of(key)[0]) for key in item.labels} - {""}
        printed_names = [t for t in dict.fromkeys(lines) if squash(t) in names]
        out.extend((t, "key") for t in printed_names)
        others = [t for t in lines if t and t not in printed_names and not any(t in v or v in t for v in labels)]
        out.extend((t, "none") for t in rng.sample(others, min(len(others), NONE_LINES_PER_DOCUMENT)))
    return folds


def fit_value_kind_folds(
    recipe: Recipe, progress: Progress | None = None
) -> tuple[list[ValueKindModel], ValueKindModel, int]:
    """One value-kind model per fold (each document's features come from the fold it is not in, so its own
    label never tells the trees its kind) and one on everything (shipped)."""
    folds: list[list[tuple[str, str]]] = [[], []]
    for source in recipe.sources:
        for fold, examples in enumerate(value_kind_examples(source, recipe.seed)):
            folds[fold].extend(examples)
    if progress:
        progress(f"value kinds: {len(folds[0]) + len(folds[1])} labelled texts")
    per_fold = [fit_value_kinds(folds[0], recipe.seed), fit_value_kinds(folds[1], recipe.seed)]
    return per_fold, fit_value_kinds(folds[0] + folds[1], recipe.seed), len(folds[0]) + len(folds[1])


def fit_calibration(
    scores: np.ndarray,
    group: np.ndarray,
    y: np.ndarray,
    values: np.ndarray,
    labelled: np.ndarray,
    absent_share: float | None = None,
) -> tuple[Calibration, float, dict[str, float]]:
    """Fit P(best proposal right) on calibration groups; choose the null threshold that maximises F1.

    ``absent_share``: how often a field a user asks is not on the document.  The calibration
    documents ask absent fields at whatever rate the recipe made them; weighting them to this share
    makes the confidence and the null threshold those of use, not of the recipe."""
    from sklearn.linear_model import LogisticRegression

    best_list, second_list, right, labelled_list = [], [], [], []
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        s = scores[idx]
        best, second = calibration_inputs(s, values[idx])
        best_list.append(best)
        second_list.append(second)
        right.append(float(y[idx][int(np.argmax(s))] > 0))
        labelled_list.append(float(labelled[idx].max() > 0))  # recall counts every labelled field, proposed or not
    b, s2, r, has_value = np.array(best_list), np.array(second_list), np.array(right), np.array(labelled_list)
    lb, ls = logit(b), logit(s2)
    features = np.column_stack([lb, lb - ls])
    weight = np.ones(len(r))
    n_absent, n_present = float((has_value == 0).sum()), float((has_value > 0).sum())
    if absent_share is not None and n_absent and n_present:
        weight[has_value == 0] = absent_share / (1.0 - absent_share) * n_present / n_absent
    if len(set(r.tolist())) < 2:
        cal = Calibration()  # too little data to learn from (all right or all wrong): the scorer's own probability
    else:
        model = LogisticRegression(C=10.0).fit(features, r, sample_weight=weight)
        cal = Calibration(float(model.coef_[0][0]), float(model.coef_[0][1]), float(model.intercept_[0]))
    p = cal(b, s2)
    # The null threshold: answered fields are the ones with p >= t; F1 over all fields with a value.
    best_t, best_f1 = 0.5, -1.0
    for t in np.linspace(0.05, 0.95, 91):
        answered = p >= t
        tp = float(((answered & (r > 0)) * weight).sum())
        precision = tp / max(1e-9, float((answered * weight).sum()))
        recall = tp / max(1.0, float((has_value * weight).sum()))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(t), f1
    # For a calibrated probability the F1-optimal threshold is half the best F1 (Lipton, Elkan and Naryanaswamy,
    # "Optimal thresholding of classifiers to maximize F1", 2014); the threshold is taken from that rule rather
    # than from the argmax of a small calibration set, which follows that set's quirks.
    best_t = round(best_f1 / 2.0, 3)
    ece = expected_calibration_error(p, r)
    return (
        cal,
        best_t,
        {"calibration_groups": float(len(r)), "ece": round(ece, 4), "best_f1": round(best_f1, 4)},
    )


def expected_calibration_error(p: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Mean |confidence - accuracy| over equal-width bins, weighted by bin size."""
    if p.size == 0:
        return 0.0
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if mask.any():
            total += mask.sum() / p.size * abs(float(p[mask].mean()) - float(right[mask].mean()))
    return float(total)


def train_reader(
    recipe: Recipe,
    out: Path,
    cache: Path,
    progress: Progress | None = None,
    threads: int | None = None,
    ocr_root: Path | None = None,
) -> dict[str, Any]:
    """Build rows for every source (cached), fit the trees and the calibration, write model + manifest."""
    import lightgbm as lgb

    started = time.perf_counter()
    code_digest()  # the source of the code as loaded, before the slow work
    # Every dataset must be there before the slow work (synthesis, OCR) starts.
    for source in recipe.sources:
        if source.kind != "synth" and not source.path.is_dir():
            raise DatasetError(f"training source {source.name}: no folder {source.path}", hint="see --benchmarks")
    kinds, kinds_all, kind_examples = fit_value_kind_folds(recipe, progress)
    parts: list[dict[str, np.ndarray]] = []
    summary: dict[str, Any] = {}
    for source in recipe.sources:
        arrays = cached_source_rows(source, recipe.seed, cache, progress, ocr_root, kinds)
        offset = sum(int(p["group"].max()) + 1 for p in parts if p["group"].size)
        arrays = {**arrays, "group": arrays["group"] + offset}
        parts.append(arrays)
        summary[source.name] = {
            "rows": int(arrays["y"].size),
            "fields": int(np.unique(arrays["group"]).size),
            "positives": int(arrays["y"].sum()),
        }
    x = np.vstack([p["x"] for p in parts])
    y = np.concatenate([p["y"] for p in parts])
    group = np.concatenate([p["group"] for p in parts])
    calib = np.concatenate([p["calib"] for p in parts]) > 0
    weight = np.concatenate([np.full(p["y"].size, s.weight) for p, s in zip(parts, recipe.sources, strict=True)])
    real = np.concatenate([p["real"] for p in parts]) > 0
    if x.shape[0] == 0 or y.sum() == 0:
        raise DatasetError("the training sources gave no positive example", hint="check the recipe's paths")
    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 63,
        "min_data_in_leaf": 40,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "verbose": -1,
        "seed": recipe.seed,
        "num_threads": threads or 0,
        **recipe.params,
    }
    categorical = [FEATURES.index(c) for c in CATEGORICAL]
    x_fit, y_fit, w_fit = x[~calib], y[~calib], weight[~calib]
    if recipe.rule_dropout:
        blanked = x_fit.copy()
        for name, blank in RULE_FEATURES.items():
            blanked[:, FEATURES.index(name)] = blank
        x_fit, y_fit, w_fit = (
            np.vstack([x_fit, blanked]),
            np.concatenate([y_fit, y_fit]),
            np.concatenate([w_fit, w_fit]),
        )
    group_sizes = None
    if params["objective"] in RANKING_OBJECTIVES:
        # A ranking objective compares the proposals of one field: rows are fed group by group.
        g_fit = group[~calib]
        if recipe.rule_dropout:
            g_fit = np.concatenate([g_fit, g_fit + int(group.max()) + 1])
        order = np.argsort(g_fit, kind="stable")
        x_fit, y_fit, w_fit, g_fit = x_fit[order], y_fit[order], w_fit[order], g_fit[order]
        group_sizes = np.unique(g_fit, return_counts=True)[1]
    train_set = lgb.Dataset(
        x_fit, y_fit, weight=w_fit, group=group_sizes, feature_name=FEATURES, categorical_feature=categorical
    )
    if progress:
        progress(f"fitting {recipe.rounds} rounds on {len(y_fit)} rows ({int(y_fit.sum())} positive)")
    booster = lgb.train(params, train_set, num_boost_round=recipe.rounds)
    # Calibrate on what the reader meets in use: chatocr's OCR, where the recipe provides it.
    cal_rows = calib & real if (calib & real).any() else calib
    scores = np.asarray(booster.predict(x[cal_rows], **EARLY_STOP))  # scored as the reader scores
    if params["objective"] in RANKING_OBJECTIVES:
        scores = sigmoid(scores)  # as the reader reads a ranking model's score
    value = np.concatenate([p["value"] for p in parts])
    labelled = np.concatenate([p["labelled"] for p in parts])
    cal, threshold, cal_stats = fit_calibration(
        scores, group[cal_rows], y[cal_rows], value[cal_rows], labelled[cal_rows], recipe.absent_share
    )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / MODEL_FILE, booster.model_to_string())
    kinds_all.save(out / VALUE_KINDS_FILE)
    importance = dict(zip(FEATURES, booster.feature_importance("gain").round(1).tolist(), strict=True))
    manifest = {
        "name": recipe.name,
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "features_version": FEATURES_VERSION,
        "proposals_version": PROPOSALS_VERSION,
        "features": FEATURES,
        "calibration": {"a": cal.a, "b": cal.b, "c": cal.c},
        "threshold": round(threshold, 3),
        "training": {
            "sources": {
                s.name: {
                    "path": s.path.name if s.kind != "synth" else f"chatocr data synth {s.synth}",
                    "holdout_first": s.holdout_first,
                    "excluded_ids": len(s.exclude_ids),
                    # Which lines the documents were read from: their ground truth, chatocr's OCR, or both
                    # (the OCR for the first real_limit documents only, when set).
                    "ocr": s.ocr,
                    "real_limit": s.real_limit,
                    "weight": s.weight,
                    **summary[s.name],
                }
                for s in recipe.sources
            },
            "value_kinds": {
                "file": VALUE_KINDS_FILE,
                "classes": CLASSES,
                "texts": kind_examples,
                "note": "label values by their field's kind, lines printing a labelled field's name as key, other "
                "lines as none; trees trained on 2-fold features",
            },
            "absent_share": recipe.absent_share,
            "rule_dropout": recipe.rule_dropout,
            "rounds": recipe.rounds,
            "params": {k: v for k, v in params.items() if k != "num_threads"},
            "calibration": cal_stats,
            "seconds": round(time.perf_counter() - started, 1),
        },
        "feature_gain": importance,
    }
    atomic_write_bytes(out / MANIFEST_FILE, (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode())
    return manifest

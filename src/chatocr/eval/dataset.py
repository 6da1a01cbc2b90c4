"""Evaluation datasets in the layout of the shared KIE benchmarks.

::

    DATASET_DIR/
      images/<id>.<ext>     the document (image or PDF)
      labels/<id>.json      flat {field: value} (value a string; null or "" means the field is absent)
      absent/<id>.json      optional: a JSON list of field names that are not on the document
      ocr/<id>.json         optional: ground-truth text boxes (``--ground-truth-ocr`` extracts from them)
      dataset.json          optional: matching options, e.g. {"ignore_whitespace": true}

A malformed dataset (an image without a label, a label without an image, bad JSON,
a label that is not a flat object) raises :class:`~chatocr.errors.DatasetError`
naming the offending file.  ``limit`` keeps the first N ids in sorted order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.errors import DatasetError, OptionsError
from chatocr.eval.matching import MatchOptions

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pdf"}

# Known quirks of the shared benchmark sets, keyed by folder name.
PRESETS: dict[str, dict[str, bool]] = {
    "wildreceipt": {"ignore_whitespace": True},  # transcriptions drop spaces inside a box
    "funsd": {"ignore_whitespace": True},  # labels join words with spaces: "HLB- KS", "9/ 3/ 92", "36 gm/ m2"
    "kleister_nda": {"missing_is_absent": True},  # a key missing from the label has no value in the document
}


@dataclass(frozen=True)
class DatasetOptions:
    match: MatchOptions = field(default_factory=MatchOptions)
    # When true, a field that is asked but missing from a document's label counts as absent;
    # otherwise it is unscored (the annotators may simply not have labelled it).
    missing_is_absent: bool = False


@dataclass(frozen=True)
class DatasetItem:
    id: str
    image: Path
    labels: dict[str, str]  # non-empty values only
    absent: frozenset[str] = frozenset()

    @property
    def field_names(self) -> list[str]:
        """The fields this document is annotated for: labelled ones, then absent ones."""
        return list(self.labels) + sorted(self.absent - set(self.labels))


@dataclass
class Dataset:
    root: Path
    items: list[DatasetItem]
    options: DatasetOptions
    total: int  # documents in the folder before --limit

    @property
    def name(self) -> str:
        return self.root.name

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[DatasetItem]:
        return iter(self.items)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: bad JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def _read_labels(path: Path) -> tuple[dict[str, str], set[str]]:
    """Non-empty labels, and the fields whose label is null or empty (absent)."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: a label file must hold a flat JSON object {{field: value}}")
    labels: dict[str, str] = {}
    empty: set[str] = set()
    for key, value in data.items():
        if isinstance(value, (bool, dict, list)):
            raise DatasetError(f"{path}: field {key!r} must be a string, number or null, not {type(value).__name__}")
        if value is None or (isinstance(value, str) and not value.strip()):
            empty.add(key)
        elif isinstance(value, (str, int, float)):
            labels[key] = str(value)
        else:
            raise DatasetError(f"{path}: field {key!r} has an unsupported value type")
    return labels, empty


def _read_absent(path: Path) -> set[str]:
    data = _read_json(path)
    if not isinstance(data, list) or not all(isinstance(name, str) for name in data):
        raise DatasetError(f"{path}: an absent file must hold a JSON list of field names")
    return set(data)


def _read_options(root: Path) -> DatasetOptions:
    settings: dict[str, Any] = dict(PRESETS.get(root.name.lower(), {}))
    config = root / "dataset.json"
    if config.is_file():
        data = _read_json(config)
        if not isinstance(data, dict):
            raise DatasetError(f"{config}: must hold a JSON object of options")
        settings.update(data)
    known = {"ignore_whitespace", "ignore_punctuation", "similarity_threshold", "missing_is_absent"}
    unknown = set(settings) - known
    if unknown:
        raise DatasetError(
            f"{config}: unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    match_settings = {k: v for k, v in settings.items() if k != "missing_is_absent"}
    return DatasetOptions(
        match=MatchOptions(**match_settings), missing_is_absent=bool(settings.get("missing_is_absent", False))
    )


def load_dataset(root: str | Path, *, limit: int | None = None, options: DatasetOptions | None = None) -> Dataset:
    """Read and validate a dataset folder; ``limit`` keeps the first N ids in sorted order."""
    root = Path(root)
    images_dir, labels_dir, absent_dir = root / "images", root / "labels", root / "absent"
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder")
    if not images_dir.is_dir() or not labels_dir.is_dir():
        raise DatasetError(f"{root}: a dataset folder needs images/ and labels/ sub-folders")
    if limit is not None and limit < 1:
        raise OptionsError(f"--limit must be at least 1, not {limit}")

    images: dict[str, Path] = {}
    for path in sorted(images_dir.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise DatasetError(f"{path}: not an image or PDF file name (expected one of {sorted(IMAGE_SUFFIXES)})")
        if path.stem in images:
            raise DatasetError(f"{path}: two documents share the id {path.stem!r} ({images[path.stem].name})")
        images[path.stem] = path
    if not images:
        raise DatasetError(f"{images_dir}: holds no documents")

    label_ids = {p.stem for p in labels_dir.glob("*.json")}
    for doc_id in sorted(images):
        if doc_id not in label_ids:
            raise DatasetError(f"{images[doc_id]}: has no label file {labels_dir / (doc_id + '.json')}")
    for doc_id in sorted(label_ids - set(images)):
        raise DatasetError(f"{labels_dir / (doc_id + '.json')}: has no document in {images_dir}")

    items: list[DatasetItem] = []
    for doc_id in sorted(images):
        label_path = labels_dir / f"{doc_id}.json"
        labels, empty = _read_labels(label_path)
        absent = set(empty)
        absent_path = absent_dir / f"{doc_id}.json"
        if absent_path.is_file():
            absent |= _read_absent(absent_path)
        both = absent & set(labels)
        if both:
            raise DatasetError(f"{absent_path}: lists {', '.join(sorted(both))} as absent but {label_path} labels it")
        items.append(DatasetItem(id=doc_id, image=images[doc_id], labels=labels, absent=frozenset(absent)))
    total = len(items)
    if limit is not None:
        items = items[:limit]
    return Dataset(root=root, items=items, options=options or _read_options(root), total=total)


def with_options(dataset: Dataset, **match_overrides: Any) -> Dataset:
    """The dataset with some matching options overridden (CLI flags)."""
    match = replace(dataset.options.match, **{k: v for k, v in match_overrides.items() if v is not None})
    dataset.options = replace(dataset.options, match=match)
    return dataset


def ground_truth_ocr_path(image: Path) -> Path:
    """Where a document's ground-truth OCR lives: ``<root>/ocr/<id>.json`` next to ``<root>/images/``."""
    return image.parent.parent / "ocr" / f"{image.stem}.json"


def ground_truth_document(image: str | Path) -> Document:
    """The dataset's own OCR of a document (``ocr/<id>.json``: a list of {"box", "text"}) as a Document.

    Boxes may be 8 numbers (a quadrilateral) or 4 (x0, y0, x1, y1).  Lines are put in reading
    order like engine lines, so extraction sees the same kind of input with perfect text.
    """
    from PIL import Image

    from chatocr.layout import order_lines

    image = Path(image)
    path = ground_truth_ocr_path(image)
    if not path.is_file():
        raise DatasetError(f"{path}: no ground-truth OCR for {image.name}")
    data = _read_json(path)
    if not isinstance(data, list):
        raise DatasetError(f"{path}: ground-truth OCR must be a JSON list of {{'box', 'text'}} objects")
    lines: list[Line] = []
    for number, entry in enumerate(data, start=1):
        box = entry.get("box") if isinstance(entry, dict) else None
        text = entry.get("text") if isinstance(entry, dict) else None
        if not isinstance(text, str) or not isinstance(box, list) or len(box) not in (4, 8):
            raise DatasetError(f"{path}: entry {number} needs a 'text' string and a 'box' of 4 or 8 numbers")
        if not text.strip():
            continue
        values = [float(v) for v in box]
        quad = box_from_rect(*values) if len(values) == 4 else [values[i : i + 2] for i in range(0, 8, 2)]
        lines.append(Line(text=text, box=quad, confidence=1.0))
    try:
        with Image.open(image) as img:
            width, height = img.size
    except OSError as exc:
        raise DatasetError(f"{image}: cannot read the image size ({exc})") from None
    page = Page(page=1, width=width, height=height, lines=order_lines(lines), source="ocr", rotation=0)
    return Document(file=image.stem, pages=[page])

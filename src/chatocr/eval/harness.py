"""One evaluation run end to end: predict (resumably), score, write the run folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chatocr.errors import MissingDependencyError
from chatocr.eval.dataset import Dataset, DatasetItem, ground_truth_document
from chatocr.eval.report import write_outputs
from chatocr.eval.runner import (
    ExtractFn,
    Progress,
    SchemaFor,
    Scored,
    check_run_info,
    predict,
    read_predictions,
    score,
)
from chatocr.options import Options


def make_extract_fn(options: Options, *, ground_truth_ocr: bool = False) -> ExtractFn:
    """The real extractor: one :class:`chatocr.extract.Extractor`, kept loaded for the whole run.

    With ``ground_truth_ocr`` the dataset's own ``ocr/<id>.json`` replaces the OCR engine, which
    separates extraction errors from OCR errors.
    """
    try:
        from chatocr.extract import Extractor
    except ImportError as exc:
        raise MissingDependencyError(f"the extraction pipeline is not available: {exc}") from None
    extractor = Extractor(options)

    def extract(path: Path, schema: Any, name: str) -> Any:
        if ground_truth_ocr:
            return extractor.run_document(ground_truth_document(path), schema)
        return extractor.run(path, schema, name=name)

    return extract


def evaluate(
    dataset: Dataset,
    schema_for: SchemaFor,
    extract: ExtractFn,
    run_dir: str | Path,
    *,
    info: dict[str, Any] | None = None,
    on_document: Callable[[DatasetItem], None] | None = None,
) -> tuple[Scored, Progress]:
    """Predict what ``run_dir`` lacks, then score all of the dataset's predictions and write the reports."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    info = dict(info or {})
    info.setdefault("dataset", str(dataset.root.resolve()))
    info.setdefault("dataset_size", dataset.total)
    check_run_info(run_dir, info)
    progress = predict(dataset, schema_for, extract, run_dir, on_document=on_document)
    scored = score(dataset, read_predictions(run_dir))
    write_outputs(run_dir, scored, info, title=dataset.name)
    return scored, progress

"""One evaluation run end to end: predict (resumably), score, write the run folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chatocr.errors import MissingDependencyError
from chatocr.eval.dataset import Dataset, DatasetItem, ground_truth_document
from chatocr.eval.matching import MatchOptions
from chatocr.eval.report import write_outputs
from chatocr.eval.runner import (
    DiagnoseFn,
    ExtractFn,
    Progress,
    SchemaFor,
    Scored,
    check_run_info,
    predict,
    read_predictions,
    score,
)
from chatocr.fields.spec import Schema
from chatocr.options import Options
from chatocr.result import ExtractionResult


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


def make_diagnose_fn(options: Options, match: MatchOptions) -> DiagnoseFn:
    """The error breakdown for predictions made with ``options``: OCR, proposal or choice miss."""
    from chatocr.eval.diagnosis import diagnose
    from chatocr.extract import Extractor

    extractor = Extractor(options)

    def run(item: DatasetItem, schema: Schema, result: ExtractionResult) -> dict[str, str]:
        if result.document is None:
            return {}
        proposals = extractor.proposals(result.document, schema)
        return diagnose(result, schema, item.labels, item.absent, proposals, match)

    return run


def evaluate(
    dataset: Dataset,
    schema_for: SchemaFor,
    extract: ExtractFn,
    run_dir: str | Path,
    *,
    info: dict[str, Any] | None = None,
    on_document: Callable[[DatasetItem], None] | None = None,
    diagnose: DiagnoseFn | None = None,
) -> tuple[Scored, Progress]:
    """Predict what ``run_dir`` lacks, then score all of the dataset's predictions and write the reports."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    info = dict(info or {})
    info.setdefault("dataset", str(dataset.root.resolve()))
    info.setdefault("dataset_size", dataset.total)
    check_run_info(run_dir, info)
    progress = predict(dataset, schema_for, extract, run_dir, on_document=on_document, diagnose=diagnose)
    scored = score(dataset, read_predictions(run_dir))
    write_outputs(run_dir, scored, info, title=dataset.name)
    return scored, progress

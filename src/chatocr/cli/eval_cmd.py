"""`chatocr eval`: score extraction on a labelled dataset, or compare two runs."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from chatocr.cli.app import app, fail, stderr
from chatocr.cli.options import (
    ApiKeyEnvOption,
    BackendOption,
    BaseUrlOption,
    EngineOption,
    FieldsOption,
    MinConfidenceOption,
    ModelOption,
    SchemaOption,
    TemplateOption,
    extraction_overrides,
)
from chatocr.errors import ChatOCRError, SpecError


def _schema_for(
    fields: str | None, template: str | None, schema: Path | None, fields_from_labels: bool
) -> tuple[Any, str, dict[str, Any]]:
    """The per-document schema function, a description, and the spec as recorded in run.json."""
    from chatocr.eval.runner import fixed_schema, load_templates, schema_from_labels

    given = [
        name
        for name, value in (
            ("--fields", fields),
            ("--template", template),
            ("--schema", schema),
            ("--fields-from-labels", fields_from_labels),
        )
        if value
    ]
    if len(given) != 1:
        raise SpecError(
            "give exactly one of --fields, --template, --schema or --fields-from-labels"
            + (f" (got {', '.join(given)})" if given else "")
        )
    if fields_from_labels:
        return (
            schema_from_labels(load_templates()),
            "each document's labelled and absent fields",
            {"fields_from_labels": True},
        )
    from chatocr.fields import load_schema

    loaded = load_schema(fields=fields, template=template, schema=schema)
    spec: dict[str, Any] = {"fields": loaded.names}
    if template:
        spec["template"] = template
    text = f"template `{template}`" if template else f"`{schema}`" if schema else "--fields"
    return fixed_schema(loaded), f"{text}: {', '.join(loaded.names)}", spec


@app.command("eval")
def eval_command(
    dataset_dir: Annotated[
        Path | None, typer.Argument(help="dataset folder (images/, labels/, optional absent/)")
    ] = None,
    fields: FieldsOption = None,
    template: TemplateOption = None,
    schema: SchemaOption = None,
    fields_from_labels: Annotated[
        bool, typer.Option("--fields-from-labels", help="ask each document for the fields its own label names")
    ] = False,
    backend: BackendOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    api_key_env: ApiKeyEnvOption = None,
    min_confidence: MinConfidenceOption = None,
    engine: EngineOption = None,
    limit: Annotated[int | None, typer.Option(help="only the first N documents (sorted by id)")] = None,
    out: Annotated[Path | None, typer.Option(help="run folder (default runs/eval-<dataset>); resumable")] = None,
    ignore_whitespace: Annotated[
        bool | None, typer.Option("--ignore-whitespace/--keep-whitespace", help="override the dataset's setting")
    ] = None,
    ignore_punctuation: Annotated[
        bool | None, typer.Option("--ignore-punctuation/--keep-punctuation", help="override the dataset's setting")
    ] = None,
    ground_truth_ocr: Annotated[
        bool, typer.Option("--ground-truth-ocr", help="extract from the dataset's ocr/<id>.json instead of OCR")
    ] = False,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", metavar="RUN_A RUN_B", help="compare two run folders instead of evaluating"),
    ] = None,
) -> None:
    """Evaluate extraction on a labelled dataset: predictions.jsonl, metrics.json, report.md, charts."""
    # piped output (logs, benchmark scripts) gets a wide table rather than rich's 80 columns
    stdout = Console() if sys.stdout.isatty() else Console(width=160)
    try:
        if compare is not None:
            from chatocr.eval.compare import compare_runs, print_comparison

            if dataset_dir is not None:
                raise SpecError("--compare takes two run folders and no DATASET_DIR")
            comparison = compare_runs(*compare)
            print_comparison(comparison, stdout, label_a=str(compare[0]), label_b=str(compare[1]))
            return
        if dataset_dir is None:
            raise SpecError("give a DATASET_DIR to evaluate, or --compare RUN_A RUN_B")
        _evaluate(
            dataset_dir,
            fields,
            template,
            schema,
            fields_from_labels,
            extraction_overrides(
                backend=backend,
                model=model,
                base_url=base_url,
                api_key_env=api_key_env,
                min_confidence=min_confidence,
                engine=engine,
            ),
            limit,
            out,
            ignore_whitespace,
            ignore_punctuation,
            ground_truth_ocr,
            stdout,
        )
    except ChatOCRError as exc:
        raise fail(exc) from None


def _evaluate(
    dataset_dir: Path,
    fields: str | None,
    template: str | None,
    schema: Path | None,
    fields_from_labels: bool,
    overrides: dict[str, Any],
    limit: int | None,
    out: Path | None,
    ignore_whitespace: bool | None,
    ignore_punctuation: bool | None,
    ground_truth_ocr: bool,
    stdout: Console,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from chatocr.errors import DatasetError
    from chatocr.eval import harness
    from chatocr.eval.dataset import ground_truth_ocr_path, load_dataset, with_options
    from chatocr.eval.report import summary_table
    from chatocr.options import Options

    dataset = with_options(
        load_dataset(dataset_dir, limit=limit),
        ignore_whitespace=ignore_whitespace,
        ignore_punctuation=ignore_punctuation,
    )
    schema_for, spec_text, spec = _schema_for(fields, template, schema, fields_from_labels)
    options = Options.create(**overrides)
    run_dir = out or Path("runs") / f"eval-{dataset.name}"
    command = ["chatocr", "eval", str(dataset_dir)]
    for flag, value in (
        ("--fields", fields),
        ("--template", template),
        ("--schema", schema),
        ("--backend", overrides["backend.name"]),
        ("--model", overrides["backend.model"]),
        ("--base-url", overrides["backend.base_url"]),
        ("--min-confidence", overrides["extract.min_confidence"]),
        ("--engine", overrides["ocr.engine"]),
        ("--limit", limit),
        ("--out", run_dir),
    ):
        if value is not None:
            command += [flag, str(value)]
    if fields_from_labels:
        command.append("--fields-from-labels")
    if ground_truth_ocr:
        command.append("--ground-truth-ocr")
        missing = [item.image.name for item in dataset if not ground_truth_ocr_path(item.image).is_file()]
        if missing:
            raise DatasetError(
                f"--ground-truth-ocr: {dataset.root / 'ocr'} lacks {len(missing)} documents' OCR (first: {missing[0]})"
            )
    backend = options.backend
    min_confidence = options.extract.min_confidence
    run_backend: dict[str, Any] = {
        "name": backend.name,
        "model": backend.model,
        "base_url": backend.base_url,
        "engine": "ground-truth" if ground_truth_ocr else options.ocr.engine,
    }
    if min_confidence is not None:
        # Recorded only when given, so run folders from before the option still resume; a resume with
        # another threshold is refused (run.json's "backend" must match), as one with another model is.
        run_backend["min_confidence"] = min_confidence
    info = {
        "command": shlex.join(command),
        "spec": spec,
        "spec_text": spec_text,
        "backend": run_backend,
        "backend_text": f"{backend.name}"
        + (f" / {backend.model}" if backend.model else " (default model)")
        + (f" at {backend.base_url}" if backend.base_url else "")
        + (f"; min confidence {min_confidence}" if min_confidence is not None else "")
        + ("; OCR: the dataset's ground truth" if ground_truth_ocr else f"; OCR engine {options.ocr.engine}"),
        "limit": limit,
    }

    extract = harness.make_extract_fn(options, ground_truth_ocr=ground_truth_ocr)
    diagnose = harness.make_diagnose_fn(options, dataset.options.match)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(f"eval {dataset.name}", total=len(dataset))
        scored, progress = harness.evaluate(
            dataset,
            schema_for,
            extract,
            run_dir,
            info=info,
            on_document=lambda item: bar.advance(task),
            diagnose=diagnose,
        )
    stdout.print(summary_table(scored.metrics, title=f"chatocr eval {dataset.name}"))
    stderr.print(
        f"{progress.predicted} documents predicted ({progress.failed} failed), {progress.done_before} "
        f"already in {run_dir / 'predictions.jsonl'}"
        + (f", {len(progress.skipped)} without fields skipped" if progress.skipped else "")
        + f"; report: {run_dir / 'report.md'}",
        highlight=False,
    )

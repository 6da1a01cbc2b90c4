"""`chatocr batch`: resumable extraction over a folder or glob."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from chatocr.cli.app import app, fail, stderr
from chatocr.cli.options import (
    ApiKeyEnvOption,
    BackendOption,
    BaseUrlOption,
    ContextTokensOption,
    EngineOption,
    FieldsOption,
    MaxInFlightOption,
    MinConfidenceOption,
    ModelOption,
    SchemaOption,
    StrategyOption,
    TemplateOption,
    extraction_overrides,
)
from chatocr.errors import ChatOCRError
from chatocr.files import display_name


class Runner(StrEnum):
    local = "local"
    ray = "ray"


@app.command()
def batch(
    inputs: Annotated[str, typer.Argument(help="a folder (searched recursively), a file or a quoted glob")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON Lines results file; also the resume record")],
    fields: FieldsOption = None,
    template: TemplateOption = None,
    schema: SchemaOption = None,
    workers: Annotated[
        str,
        typer.Option(help="worker processes, each with cores/workers threads; auto: one per core, as memory allows"),
    ] = "1",
    runner: Annotated[Runner, typer.Option(help="local process pool, or Ray Data (RAY_ADDRESS)")] = Runner.local,
    backend: BackendOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    api_key_env: ApiKeyEnvOption = None,
    strategy: StrategyOption = None,
    context_tokens: ContextTokensOption = None,
    max_in_flight: MaxInFlightOption = None,
    min_confidence: MinConfidenceOption = None,
    engine: EngineOption = None,
    write_csv: Annotated[bool, typer.Option("--csv", help="also write a CSV beside the results file")] = False,
    retry_failed: Annotated[bool, typer.Option(help="run documents that failed before again")] = False,
) -> None:
    """Extract fields from many documents; a killed run restarted with the same arguments resumes."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from chatocr.batch import find_inputs, parse_workers, run_batch
    from chatocr.fields import load_schema
    from chatocr.options import Options

    try:
        spec = load_schema(fields=fields, template=template, schema=schema)
        options = Options.create(
            **extraction_overrides(
                backend=backend,
                model=model,
                base_url=base_url,
                api_key_env=api_key_env,
                strategy=strategy,
                context_tokens=context_tokens,
                max_in_flight=max_in_flight,
                min_confidence=min_confidence,
                engine=engine,
            )
        )
        files = find_inputs(inputs)
        worker_count = parse_workers(workers)
    except ChatOCRError as exc:
        raise fail(exc) from None

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr) as bar:
        task = bar.add_task("extract", total=None, rate="")

        def on_start(pending: int) -> None:
            bar.update(task, total=pending)

        def on_record(record: dict[str, object]) -> None:
            bar.advance(task)
            elapsed = bar.tasks[0].elapsed or 0.0
            completed = bar.tasks[0].completed
            if elapsed > 0:
                bar.update(task, rate=f"{completed / elapsed * 60:.1f} docs/min")

        try:
            summary = run_batch(
                files,
                out,
                spec,
                options,
                workers=worker_count,
                runner=runner.value,  # type: ignore[arg-type]
                retry_failed=retry_failed,
                csv_path=out.with_suffix(".csv") if write_csv else None,
                on_start=on_start,
                on_record=on_record,
            )
        except ChatOCRError as exc:
            raise fail(exc) from None

    stderr.print(
        f"{summary.total} documents: {summary.skipped} already done, {summary.succeeded} extracted,"
        f" {summary.failed_now} failed in this run -> {escape(display_name(str(out)))}",
        highlight=False,
    )
    if summary.failed:
        stderr.print(f"{len(summary.failed)} documents failed (use --retry-failed to run them again):")
    if summary.field_errors:
        stderr.print(f'{summary.field_errors} fields could not be answered (null, with "error" in their record)')
    for record in summary.failed:
        error = record["error"]
        # File names and messages are data: escaped, so "[draft].pdf" is printed as is, never read as markup.
        detail = escape(f"{display_name(record['file'])}: [{error['code']}] {error['message']}")
        stderr.print(f"  [red]failed[/red] {detail}", highlight=False)
    raise typer.Exit(summary.exit_code)

"""`chatocr batch`: resumable extraction over a folder or glob."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from chatocr.cli.app import app, fail, stderr
from chatocr.cli.extract_cmd import Strategy
from chatocr.errors import ChatOCRError
from chatocr.files import display_name


class Runner(StrEnum):
    local = "local"
    ray = "ray"


@app.command()
def batch(
    inputs: Annotated[str, typer.Argument(help="a folder (searched recursively), a file or a quoted glob")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON Lines results file; also the resume record")],
    fields: Annotated[str | None, typer.Option(help="comma-separated field names")] = None,
    template: Annotated[str | None, typer.Option(help="bundled template (see `chatocr templates`)")] = None,
    schema: Annotated[Path | None, typer.Option(help="schema file (JSON or YAML)")] = None,
    workers: Annotated[
        str,
        typer.Option(help="worker processes, each with cores/workers threads; auto: one per core, as memory allows"),
    ] = "1",
    runner: Annotated[Runner, typer.Option(help="local process pool, or Ray Data (RAY_ADDRESS)")] = Runner.local,
    backend: Annotated[str | None, typer.Option(help="LLM backend (see `chatocr backends`)")] = None,
    model: Annotated[str | None, typer.Option(help="model inside the backend")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="environment variable holding the API key")] = None,
    strategy: Annotated[
        Strategy | None,
        typer.Option(
            help="auto (default: learned on local, generate on openai/transformers); generate: the model writes "
            "each value, chatocr grounds it; hybrid: ask the model when candidates are not decisive; model; rules"
        ),
    ] = None,
    context_tokens: Annotated[
        int | None,
        typer.Option("--context-tokens", help="the model's context window (default: from the server, else 4096)"),
    ] = None,
    max_in_flight: Annotated[
        int | None, typer.Option("--max-in-flight", help="most requests in flight to the LLM server per worker")
    ] = None,
    engine: Annotated[str | None, typer.Option(help="OCR engine")] = None,
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
            None,
            **{
                "ocr.engine": engine,
                "backend.name": backend,
                "backend.model": model,
                "backend.base_url": base_url,
                "backend.api_key_env": api_key_env,
                "extract.strategy": strategy.value if strategy else None,
                "backend.context_tokens": context_tokens,
                "backend.max_in_flight": max_in_flight,
            },
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

"""`chatocr extract` and `chatocr templates`."""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape

from chatocr.cli.app import app, emit, fail, run_per_file, stderr
from chatocr.errors import ChatOCRError, error_class_for_code


class ExtractFormat(StrEnum):
    json = "json"
    csv = "csv"


class Strategy(StrEnum):
    auto = "auto"
    learned = "learned"
    generate = "generate"
    hybrid = "hybrid"
    model = "model"
    rules = "rules"


@app.command()
def extract(
    files: Annotated[list[str], typer.Argument(help="image or PDF files")],
    fields: Annotated[str | None, typer.Option("--fields", help='field names, e.g. "发票号码,开票日期,total"')] = None,
    template: Annotated[str | None, typer.Option("--template", help="bundled template (`chatocr templates`)")] = None,
    schema: Annotated[str | None, typer.Option("--schema", help="schema file (JSON or YAML)")] = None,
    backend: Annotated[str | None, typer.Option(help="LLM backend: local (default), openai, transformers")] = None,
    model: Annotated[str | None, typer.Option(help="model inside the backend")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server URL")] = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="env variable holding the API key")] = None,
    strategy: Annotated[
        Strategy | None,
        typer.Option(
            help="auto (learned on the local backend, generate on openai/transformers); learned: the trained "
            "reader; generate: the model writes each value, chatocr grounds it; hybrid: ask the model when "
            "candidates are not decisive; model; rules: the hand-set ranking"
        ),
    ] = None,
    context_tokens: Annotated[
        int | None,
        typer.Option("--context-tokens", help="the model's context window (default: from the server, else 4096)"),
    ] = None,
    max_in_flight: Annotated[
        int | None, typer.Option("--max-in-flight", help="most requests in flight to the LLM server (default 4)")
    ] = None,
    min_confidence: Annotated[
        float | None,
        typer.Option(
            "--min-confidence",
            help="learned strategy: answer null below this confidence (default: the model's learned threshold)",
        ),
    ] = None,
    language: Annotated[str | None, typer.Option(help="prompt language: auto, zh, en")] = None,
    engine: Annotated[str | None, typer.Option(help="OCR engine (see `chatocr engines`)")] = None,
    format: Annotated[ExtractFormat, typer.Option("--format", "-f", help="json: JSON Lines; csv")] = ExtractFormat.json,
) -> None:
    """Answer the requested fields of each document; one JSON object per file per line."""
    from chatocr.batch import csv_cell
    from chatocr.extract import Extractor
    from chatocr.fields import load_schema
    from chatocr.files import display_name
    from chatocr.options import Options

    try:
        spec = load_schema(fields=fields, template=template, schema=schema)
        overrides: dict[str, Any] = {
            "backend.name": backend,
            "backend.model": model,
            "backend.base_url": base_url,
            "backend.api_key_env": api_key_env,
            "extract.strategy": strategy.value if strategy else None,
            "backend.context_tokens": context_tokens,
            "backend.max_in_flight": max_in_flight,
            "extract.language": language,
            "extract.min_confidence": min_confidence,
            "ocr.engine": engine,
        }
        options = Options.create(**overrides)
        # An unknown backend name is a usage error: report it before reading any file.
        from chatocr.backends import BACKENDS

        BACKENDS.factory(options.backend.name)
    except ChatOCRError as exc:
        raise fail(exc) from None

    extractor = Extractor(options)
    writer: Any = None
    if format is ExtractFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([csv_cell(c) for c in ["file", *spec.names, "error"]])

    field_failure = 0  # a document answered with some fields failed (null, "error" set) still fails the run

    def process(path: str) -> None:
        nonlocal field_failure
        result = extractor.run(path, spec, name=path)
        for name, code in result.field_errors.items():
            where = escape(f"{display_name(path)}: {name}: [{code}]")
            stderr.print(f"[red]error[/red] {where} (answered null)", highlight=False)
            field_failure = field_failure or error_class_for_code(code).exit_code
        if writer is not None:
            # Cells are text for a spreadsheet: a value or file name starting with = + - @ is not a formula.
            writer.writerow([csv_cell(display_name(path)), *[csv_cell(result.fields[n].value) for n in spec.names], ""])
            sys.stdout.flush()
        else:
            emit(result.export())

    def on_error(path: str, exc: ChatOCRError) -> None:
        stderr.print(f"[red]error[/red] {escape(display_name(path))}: {escape(f'[{exc.code}] {exc}')}", highlight=False)
        if writer is not None:
            writer.writerow([csv_cell(display_name(path)), *["" for _ in spec.names], csv_cell(f"{exc.code}: {exc}")])
            sys.stdout.flush()
        else:
            emit({"file": path, "error": exc.to_dict()})

    code = run_per_file(files, process, on_error=on_error, progress=True)
    raise typer.Exit(code or field_failure)


@app.command()
def templates() -> None:
    """List the bundled field templates."""
    from chatocr.fields import list_templates, load_template

    for name, description in list_templates().items():
        fields = ", ".join(load_template(name).names)
        typer.echo(f"{name:18s} {description}\n{'':18s} fields: {fields}")

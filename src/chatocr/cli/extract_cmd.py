"""`chatocr extract` and `chatocr templates`."""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape

from chatocr.cli.app import app, emit, fail, run_per_file, stderr
from chatocr.cli.options import (
    ApiKeyEnvOption,
    BackendOption,
    BaseUrlOption,
    ContextTokensOption,
    EngineOption,
    FieldsOption,
    LanguageOption,
    MaxInFlightOption,
    MinConfidenceOption,
    ModelOption,
    SchemaOption,
    StrategyOption,
    TemplateOption,
    extraction_overrides,
)
from chatocr.errors import ChatOCRError, error_class_for_code


class ExtractFormat(StrEnum):
    json = "json"
    csv = "csv"


@app.command()
def extract(
    files: Annotated[list[str], typer.Argument(help="image or PDF files")],
    fields: FieldsOption = None,
    template: TemplateOption = None,
    schema: SchemaOption = None,
    backend: BackendOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    api_key_env: ApiKeyEnvOption = None,
    strategy: StrategyOption = None,
    context_tokens: ContextTokensOption = None,
    max_in_flight: MaxInFlightOption = None,
    min_confidence: MinConfidenceOption = None,
    language: LanguageOption = None,
    engine: EngineOption = None,
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
        overrides = extraction_overrides(
            backend=backend,
            model=model,
            base_url=base_url,
            api_key_env=api_key_env,
            strategy=strategy,
            context_tokens=context_tokens,
            max_in_flight=max_in_flight,
            min_confidence=min_confidence,
            language=language,
            engine=engine,
        )
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

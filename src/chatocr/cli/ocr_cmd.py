"""`chatocr ocr`, `chatocr engines`, `chatocr errors`."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape

from chatocr.cli.app import app, emit, fail, run_per_file, stderr
from chatocr.errors import ChatOCRError, error_table_markdown
from chatocr.files import display_name


class OcrFormat(StrEnum):
    json = "json"
    text = "text"
    layout = "layout"


@app.command()
def ocr(
    files: Annotated[list[str], typer.Argument(help="image or PDF files; - reads one from stdin")],
    engine: Annotated[str | None, typer.Option(help="OCR engine (see `chatocr engines`); default rapidocr")] = None,
    format: Annotated[
        OcrFormat, typer.Option("--format", "-f", help="json: one JSON object per file per line; text; layout")
    ] = OcrFormat.json,
    languages: Annotated[
        str | None, typer.Option(help="comma-separated engine languages, e.g. chi_sim,eng (tesseract)")
    ] = None,
    no_orientation: Annotated[bool, typer.Option("--no-orientation", help="skip page-rotation detection")] = False,
    render_pdf: Annotated[
        bool, typer.Option("--render-pdf", help="OCR rendered PDF pages, ignore text layers")
    ] = False,
    max_megapixels: Annotated[float | None, typer.Option(help="refuse images larger than this")] = None,
    max_pages: Annotated[int | None, typer.Option(help="refuse documents with more pages than this")] = None,
    dpi: Annotated[int | None, typer.Option(help="render resolution for PDF pages that are not one scan")] = None,
) -> None:
    """OCR documents: one JSON object per file per line on stdout (or text); failures go on, exit non-zero."""
    from chatocr.api import ocr as run
    from chatocr.io.loader import read_stream
    from chatocr.options import Options

    overrides: dict[str, Any] = {
        "ocr.engine": engine,
        "ocr.orientation": not no_orientation,
        "ocr.pdf_text_layer": "never" if render_pdf else "auto",
        "ocr.languages": [lang.strip() for lang in languages.split(",") if lang.strip()] if languages else None,
        "ocr.limits.max_megapixels": max_megapixels,
        "ocr.limits.max_pages": max_pages,
        "ocr.limits.pdf_dpi": dpi,
    }
    try:
        options = Options.create(**overrides)
        from chatocr.engines import ENGINES

        ENGINES.factory(options.ocr.engine)  # an unknown engine is a usage error, not a per-file failure
    except ChatOCRError as exc:
        raise fail(exc) from None

    def process(path: str) -> None:
        # "-": the document on stdin, read no further than the file-size limit.
        source: str | bytes = read_stream(sys.stdin.buffer, options.ocr.limits, "-") if path == "-" else path
        doc = run(source, options=options, name=path)
        if format is OcrFormat.json:
            emit(doc.export())
        else:
            text = doc.to_text() if format is OcrFormat.text else doc.to_layout_text()
            sys.stdout.write(f"==> {display_name(path)} <==\n{text}\n" if len(files) > 1 else text + "\n")
            sys.stdout.flush()

    def on_error(path: str, exc: ChatOCRError) -> None:
        stderr.print(f"[red]error[/red] {escape(f'[{exc.code}]')}: {escape(str(exc))}", highlight=False, soft_wrap=True)
        if format is OcrFormat.json:
            emit({"file": path, "error": exc.to_dict()})

    code = run_per_file(files, process, on_error=on_error, progress=True)
    raise typer.Exit(code)


@app.command()
def engines() -> None:
    """List the registered OCR engines."""
    from chatocr.engines import ENGINES

    for name, description in ENGINES.describe().items():
        typer.echo(f"{name:12s} {description}")


@app.command()
def errors() -> None:
    """Print the table of error classes, exit codes and HTTP statuses (markdown)."""
    typer.echo(error_table_markdown(), nl=False)

"""`chatocr ocr`, `chatocr engines`, `chatocr errors`."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from chatocr.cli.app import app, emit, fail, run_per_file, stderr
from chatocr.errors import ChatOCRError, error_table_markdown


class OcrFormat(str, Enum):
    json = "json"
    text = "text"
    layout = "layout"


@app.command()
def ocr(
    files: Annotated[list[str], typer.Argument(help="image or PDF files")],
    engine: Annotated[str, typer.Option(help="OCR engine (see `chatocr engines`)")] = "rapidocr",
    format: Annotated[OcrFormat, typer.Option("--format", "-f", help="json: JSON Lines; text; layout")] = OcrFormat.json,
    no_orientation: Annotated[bool, typer.Option("--no-orientation", help="skip page-rotation detection")] = False,
    render_pdf: Annotated[bool, typer.Option("--render-pdf", help="OCR rendered PDF pages, ignore text layers")] = False,
    max_megapixels: Annotated[float | None, typer.Option(help="refuse images larger than this")] = None,
) -> None:
    """OCR documents; print one JSON object per file (or text)."""
    from chatocr.api import ocr as run
    from chatocr.options import Options

    try:
        options = Options.create(
            **{
                "ocr.engine": engine,
                "ocr.orientation": not no_orientation,
                "ocr.pdf_text_layer": "never" if render_pdf else "auto",
                "ocr.limits.max_megapixels": max_megapixels,
            }
        )
    except ChatOCRError as exc:
        raise fail(exc) from None

    def process(path: str) -> None:
        doc = run(path, options=options)
        if format is OcrFormat.json:
            emit(doc.export())
        else:
            text = doc.to_text() if format is OcrFormat.text else doc.to_layout_text()
            sys.stdout.write(f"==> {path} <==\n{text}\n" if len(files) > 1 else text + "\n")

    def on_error(path: str, exc: ChatOCRError) -> None:
        stderr.print(f"[red]error[/red] {path}: [{exc.code}] {exc}", highlight=False)
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

"""`chatocr data samples|export|label`: training data from labelled documents, sample formats, and
teacher labelling of real images.  Adds commands to the ``data`` group of :mod:`chatocr.cli.data_cmd`."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from chatocr.cli.app import emit, fail, stderr
from chatocr.cli.data_cmd import data_app
from chatocr.errors import ChatOCRError, OptionsError


def _default_ocr_cache() -> Path:
    return Path(os.environ.get("CHATOCR_OCR_CACHE", ".cache/ocr"))


def _schema(fields: str | None, template: str | None, schema: Path | None, *, required: bool):  # type: ignore[no-untyped-def]
    from chatocr.fields import load_schema

    if fields is None and template is None and schema is None:
        if required:
            raise OptionsError("name the fields", hint="--fields LIST, --template NAME or --schema FILE")
        return None
    return load_schema(fields=fields, template=template, schema=schema)


@data_app.command("samples")
def samples(
    dataset: Annotated[Path, typer.Option(help="labelled dataset folder (images/ + labels/ [+ absent/ meta/])")],
    out: Annotated[Path, typer.Option(help="samples file to write (JSON Lines)")],
    fields: Annotated[str | None, typer.Option(help="comma list of fields (default: per document)")] = None,
    template: Annotated[str | None, typer.Option(help="template for every document")] = None,
    schema: Annotated[Path | None, typer.Option(help="schema file for every document")] = None,
    format: Annotated[str, typer.Option("--format", help="openai, xtuner or sharegpt")] = "openai",
    limit: Annotated[int | None, typer.Option(help="first N documents only")] = None,
    ocr_cache: Annotated[Path | None, typer.Option(help="OCR cache folder (default .cache/ocr)")] = None,
    include_heldout: Annotated[
        bool, typer.Option("--include-heldout", help="also use documents of held-out layouts (never for training)")
    ] = False,
    exclude_layouts: Annotated[str | None, typer.Option(help="comma list of kind/layout ids to leave out")] = None,
    skip_decisive: Annotated[
        bool, typer.Option("--skip-decisive", help="leave out fields the extractor answers without the model")
    ] = False,
    max_candidates: Annotated[int | None, typer.Option(help="candidates offered per field (extract option)")] = None,
    workers: Annotated[int, typer.Option(help="OCR processes for documents not in the cache yet")] = 1,
) -> None:
    """Turn labelled documents into instruction samples with the extractor's own prompt and the gold answer."""
    from chatocr.data.samples import build_samples
    from chatocr.options import Options

    done = {"n": 0}

    def tick(doc_id: str) -> None:
        done["n"] += 1
        if done["n"] % 10 == 0:
            stderr.print(f"{done['n']} documents ({doc_id})", highlight=False)

    try:
        options = Options.create(None, **{"extract.max_candidates": max_candidates})
        stats = build_samples(
            dataset,
            out,
            schema=_schema(fields, template, schema, required=False),
            options=options,
            limit=limit,
            ocr_cache=ocr_cache or _default_ocr_cache(),
            fmt=format,
            skip_decisive=skip_decisive,
            exclude_heldout=not include_heldout,
            exclude_layouts={x.strip() for x in exclude_layouts.split(",")} if exclude_layouts else None,
            on_document=tick,
            workers=workers,
        )
    except ChatOCRError as exc:
        raise fail(exc) from None
    emit({"out": str(out), **asdict(stats)})


@data_app.command("export")
def export(
    source: Annotated[Path, typer.Argument(help="samples file (any supported format)")],
    out: Annotated[Path, typer.Option(help="file to write")],
    format: Annotated[str, typer.Option("--format", help="openai, xtuner or sharegpt")] = "openai",
) -> None:
    """Convert training samples between formats (OpenAI messages, XTuner conversation, ShareGPT)."""
    from chatocr.data.export import export_file

    try:
        count = export_file(source, out, format)
    except ChatOCRError as exc:
        raise fail(exc) from None
    emit({"out": str(out), "format": format, "samples": count})


@data_app.command("label")
def label(
    images: Annotated[Path, typer.Option(help="folder of unlabelled images or PDFs")],
    out: Annotated[Path, typer.Option(help="dataset folder to write (resumes when it exists)")],
    base_url: Annotated[str, typer.Option(help="the teacher's OpenAI-compatible server, e.g. http://host:8000/v1")],
    model: Annotated[str, typer.Option(help="the teacher model name on that server")],
    fields: Annotated[str | None, typer.Option(help="comma list of fields")] = None,
    template: Annotated[str | None, typer.Option(help="bundled template name")] = None,
    schema: Annotated[Path | None, typer.Option(help="schema file")] = None,
    api_key_env: Annotated[str, typer.Option(help="environment variable holding the API key")] = "OPENAI_API_KEY",
    timeout_s: Annotated[float, typer.Option(help="per-request timeout")] = 120.0,
    limit: Annotated[int | None, typer.Option(help="first N images only")] = None,
    ocr_cache: Annotated[Path | None, typer.Option(help="OCR cache folder (default .cache/ocr)")] = None,
) -> None:
    """Label real images with a strong teacher model; keep only validated, grounded answers."""
    from chatocr.data.label import label_images
    from chatocr.options import Options

    def show(doc_id: str, status: str) -> None:
        stderr.print(f"{doc_id}: {status}", highlight=False)

    try:
        chosen = _schema(fields, template, schema, required=True)
        options = Options.create(
            None,
            **{
                "backend.name": "openai",
                "backend.base_url": base_url,
                "backend.model": model,
                "backend.api_key_env": api_key_env,
                "backend.timeout_s": timeout_s,
            },
        )
        stats = label_images(images, out, chosen, options, ocr_cache=ocr_cache or _default_ocr_cache(), limit=limit,
                             on_document=show)  # fmt: skip
    except ChatOCRError as exc:
        raise fail(exc) from None
    emit({"out": str(out), **asdict(stats)})

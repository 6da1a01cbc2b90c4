"""`chatocr data ...`: dataset tools.  This module defines ``data_app`` and ``synth``; other
modules add their sub-commands (``label``, ``export``) to ``data_app`` by importing it."""

from __future__ import annotations

from typing import Annotated

import typer

from chatocr.cli.app import app, fail, stderr
from chatocr.errors import ChatOCRError

data_app = typer.Typer(
    name="data",
    help="Build datasets: synthetic documents with ground truth, teacher labels, training exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")


@data_app.command()
def synth(
    out: Annotated[str, typer.Option("--out", "-o", help="output folder (dataset layout: images/, labels/, ...)")],
    kinds: Annotated[
        str,
        typer.Option(
            help="comma list of certificate, vat_invoice, train_ticket, business_license, receipt, kv_form, "
            "taxi_receipt, bank_slip, english_invoice, id_card, medical_receipt, contract, till_receipt; or all"
        ),
    ] = "all",
    n: Annotated[int, typer.Option("--n", "-n", help="number of documents")] = 200,
    seed: Annotated[int, typer.Option(help="run seed; the same seed gives identical files")] = 0,
    layouts: Annotated[
        str, typer.Option(help="train (all but the last layout of each kind), heldout (the last), or all")
    ] = "all",
    degrade: Annotated[str, typer.Option(help="none, mild or strong")] = "mild",
    lang: Annotated[
        str, typer.Option(help="zh, en or all (receipts and key-value forms come in both, English invoices in en)")
    ] = "all",
    workers: Annotated[
        int, typer.Option(min=1, help="processes rendering documents (the files are the same for any number)")
    ] = 1,
    progress: Annotated[bool, typer.Option(help="show a progress bar on stderr")] = True,
) -> None:
    """Generate synthetic documents with labels, absent fields and box metadata (resumable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from chatocr.data.synth import synthesize

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=stderr, disable=not progress, transient=True) as bar:
            task = bar.add_task("synth", total=n)

            def advance(planned: object, written: bool) -> None:
                bar.update(task, advance=1, description=f"synth {getattr(planned, 'id', '')}")

            summary = synthesize(
                out,
                n=n,
                seed=seed,
                kinds=kinds,
                layouts=layouts,
                degrade=degrade,
                lang=lang,
                on_progress=advance,
                workers=workers,
            )
    except ChatOCRError as exc:
        raise fail(exc) from None
    layouts_text = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_layout.items()))
    stderr.print(
        f"{summary.out}: {summary.written} written, {summary.skipped} already there ({layouts_text})", highlight=False
    )

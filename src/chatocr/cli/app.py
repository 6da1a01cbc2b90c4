"""The `chatocr` command: one Typer app; each sub-command lives in its own module."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from chatocr.errors import ChatOCRError
from chatocr.files import json_line

app = typer.Typer(
    name="chatocr",
    help="Read documents (photos, scans, PDFs; Chinese and English) and answer fields as grounded JSON.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# stdout carries only results; progress, logs and errors go to stderr.
stderr = Console(stderr=True)


def fail(error: ChatOCRError) -> typer.Exit:
    """Print a user error (no traceback) and return the Exit to raise."""
    stderr.print(f"[red]error[/red] {escape(f'[{error.code}]')}: {escape(str(error))}", highlight=False, soft_wrap=True)
    return typer.Exit(error.exit_code)


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout: valid UTF-8 whatever the file name's bytes (see files.json_line)."""
    sys.stdout.write(json_line(record) + "\n")
    sys.stdout.flush()


def run_per_file(
    files: Iterable[str],
    process: Callable[[str], None],
    *,
    on_error: Callable[[str, ChatOCRError], None],
    progress: bool,
) -> int:
    """Run ``process`` on each file, reporting failures through ``on_error`` and going on.

    Returns the exit code: 0 when every file succeeded, otherwise the exit code of
    the first failure's error class.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    files = list(files)
    exit_code = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, disable=not progress or len(files) < 2, transient=True) as bar:
        task = bar.add_task("documents", total=len(files))
        for path in files:
            try:
                process(path)
            except ChatOCRError as exc:
                on_error(path, exc)
                exit_code = exit_code or exc.exit_code
            except Exception as exc:  # a bug, not a user error: report it, keep the traceback in the log, go on
                logging.getLogger("chatocr.cli").exception("unexpected failure on %s", path)
                error = ChatOCRError(f"{path}: unexpected {type(exc).__name__}: {exc}", hint="please report this")
                on_error(path, error)
                exit_code = exit_code or error.exit_code
            bar.advance(task)
    return exit_code

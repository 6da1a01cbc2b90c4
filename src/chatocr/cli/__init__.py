"""Command-line interface. Sub-command modules register themselves on the shared app."""

from __future__ import annotations

import importlib
import logging

from chatocr.cli.app import app

# Each module adds its commands to `app`; a module whose optional extra is missing is skipped.
_COMMAND_MODULES = [
    "ocr_cmd", "extract_cmd", "eval_cmd", "data_cmd", "data_train_cmd", "finetune_cmd", "serve_cmd", "batch_cmd",
    "backends_cmd",
]  # fmt: skip


def _load_commands() -> None:
    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(f"chatocr.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"chatocr.cli.{name}":
                raise


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _load_commands()
    app()

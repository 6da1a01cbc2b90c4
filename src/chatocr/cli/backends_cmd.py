"""`chatocr backends`: the LLM backends and the models the local backend knows."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from chatocr.cli.app import app


@app.command()
def backends(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object instead of a table")] = False,
) -> None:
    """List the LLM backends (--backend) and the local models (--model)."""
    from chatocr.backends import BACKENDS
    from chatocr.backends.local import default_threads
    from chatocr.backends.models import DEFAULT_MODEL_NAME, list_local_models

    local_models = list_local_models()
    if as_json:
        record = {
            "backends": BACKENDS.describe(),
            "local_models": [
                {
                    "name": m.name,
                    "path": str(m.path),
                    "description": m.description,
                    "fine_tuned": m.fine_tuned,
                    "default": m.name == DEFAULT_MODEL_NAME,
                }
                for m in local_models
            ],
            "default_threads": default_threads(),
        }
        typer.echo(json.dumps(record, ensure_ascii=False))
        return
    typer.echo("backends (--backend):")
    for name, description in BACKENDS.describe().items():
        typer.echo(f"  {name:14s} {description}")
    typer.echo("\nlocal models (--backend local --model NAME, or a path to a .gguf file):")
    for model in local_models:
        marker = " (default)" if model.name == DEFAULT_MODEL_NAME else ""
        typer.echo(f"  {model.name + marker:34s} {model.description}\n  {'':34s} {model.path}")

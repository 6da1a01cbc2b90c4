"""Key information extraction: candidates from the layout, a model that chooses, grounded answers.

``chatocr.extract`` as an attribute of the top-level package is the function
:func:`chatocr.api.extract`; this package is reached by importing it by name
(``from chatocr.extract import Extractor``).
"""

from __future__ import annotations

from chatocr.extract.candidates import Candidate, DocView, generate
from chatocr.extract.extractor import Extractor, ground_value, grounded
from chatocr.extract.prompt import PROMPT_VERSION, Prompt, build_prompt, choice_schema, detect_language

__all__ = [
    "PROMPT_VERSION", "Candidate", "DocView", "Extractor", "Prompt", "build_prompt", "choice_schema",
    "detect_language", "generate", "ground_value", "grounded",
]  # fmt: skip

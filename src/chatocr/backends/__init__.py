"""LLM backends behind one contract (:class:`LLMBackend`) and a registry (:data:`BACKENDS`).

Built-in backends register when their module is imported here.  Their heavy
dependencies (llama_cpp, torch, transformers) are imported only when a backend is
created, so ``import chatocr`` needs none of the optional extras.
"""

from __future__ import annotations

from chatocr.backends import local, openai_compat, transformers_hf
from chatocr.backends.base import BACKENDS, Completion, LLMBackend, Message, create_backend

__all__ = [
    "BACKENDS",
    "Completion",
    "LLMBackend",
    "Message",
    "create_backend",
    "local",
    "openai_compat",
    "transformers_hf",
]

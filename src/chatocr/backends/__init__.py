"""LLM backends behind one contract (:class:`LLMBackend`) and a registry (:data:`BACKENDS`)."""

from __future__ import annotations

from chatocr.backends.base import BACKENDS, Completion, LLMBackend, Message, create_backend

__all__ = ["BACKENDS", "Completion", "LLMBackend", "Message", "create_backend"]

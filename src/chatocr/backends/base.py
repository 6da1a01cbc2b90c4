"""The LLM backend contract and its registry.

A backend answers a chat prompt.  When ``json_schema`` is given the reply must be a
JSON document valid against it: backends that can constrain decoding (llama.cpp
grammars, vLLM guided decoding, OpenAI ``response_format``) do so and set
``supports_schema``; the others are validated and re-asked by the caller.
Temperature is always 0: the same input gives the same output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from chatocr.options import BackendOptions
from chatocr.registry import Registry


@dataclass
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass
class Completion:
    text: str
    # Per generated token: (token text, log-probability); empty when the backend cannot say.
    token_logprobs: list[tuple[str, float]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # How many times the model was asked (re-asks after an invalid reply count); 1 when first valid.
    attempts: int = 1
    model: str = ""


class LLMBackend(ABC):
    name: ClassVar[str]
    supports_schema: ClassVar[bool] = False
    supports_logprobs: ClassVar[bool] = False
    context_tokens: int = 2048

    @abstractmethod
    def complete(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
    ) -> Completion:
        """Answer the chat at temperature 0, constrained to ``json_schema`` when supported."""

    def context_window(self) -> int:
        """The context the prompts must fit in (``backend.context_tokens`` or what the server says)."""
        return self.context_tokens

    def count_tokens(self, text: str) -> int:
        """Rough token count used to fit prompts into ``context_tokens``."""
        return max(1, len(text.encode("utf-8")) // 3)

    def describe(self) -> str:
        return self.name

    def close(self) -> None:
        """Release connections or models held by this backend (a no-op by default)."""
        return None


BACKENDS: Registry[LLMBackend] = Registry("LLM backend", "chatocr.backends")


def create_backend(options: BackendOptions) -> LLMBackend:
    return BACKENDS.create(options.name, options)

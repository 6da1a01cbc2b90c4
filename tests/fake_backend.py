"""A scriptable LLM backend for tests that need the extraction flow without a model.

Not registered by default.  Use::

    with registered_fake_backend() as fake:            # registers "fake" in BACKENDS
        fake.enqueue({"total": "9.00", "date": None})  # a dict is sent as JSON text
        result = chatocr.api.extract(path, fields="total,date", backend="fake")
        assert fake.calls[0].json_schema is not None

or give a callable that computes each reply from the messages and schema::

    with registered_fake_backend(responder=lambda messages, schema: {"total": "1.00"}):
        ...

Every ``create_backend`` call for the registered name returns the same instance,
so the test can inspect ``calls`` afterwards.  An empty queue with no responder
raises AssertionError (a test asked more than it scripted).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chatocr.backends.base import BACKENDS, Completion, LLMBackend, Message
from chatocr.errors import ChatOCRError
from chatocr.options import BackendOptions

Reply = str | dict[str, Any] | Completion | ChatOCRError
Responder = Callable[[list[Message], dict[str, Any] | None], Reply]


@dataclass
class FakeCall:
    messages: list[Message]
    json_schema: dict[str, Any] | None
    max_tokens: int


class FakeBackend(LLMBackend):
    name = "fake"
    supports_schema = True
    supports_logprobs = True

    def __init__(self, options: BackendOptions | None = None, *, responder: Responder | None = None) -> None:
        self.options = options
        self.responder = responder
        self.replies: deque[Reply] = deque()
        self.calls: list[FakeCall] = []

    def enqueue(self, *replies: Reply) -> FakeBackend:
        """Queue replies: JSON text, a dict (dumped as JSON), a full Completion, or an error to raise."""
        self.replies.extend(replies)
        return self

    def complete(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
    ) -> Completion:
        self.calls.append(FakeCall(list(messages), json_schema, max_tokens))
        if self.replies:
            reply = self.replies.popleft()
        elif self.responder is not None:
            reply = self.responder(messages, json_schema)
        else:
            raise AssertionError("FakeBackend: no reply queued and no responder given")
        if isinstance(reply, ChatOCRError):
            raise reply
        if isinstance(reply, Completion):
            return reply
        text = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
        # Confident token log-probabilities (one per character) so confidence code has input.
        return Completion(
            text=text,
            token_logprobs=[(ch, -0.01) for ch in text],
            prompt_tokens=sum(len(m.content) for m in messages) // 3,
            completion_tokens=len(text),
            model="fake",
        )


@contextmanager
def registered_fake_backend(name: str = "fake", *, responder: Responder | None = None) -> Iterator[FakeBackend]:
    """Register one FakeBackend instance under ``name`` in BACKENDS for the duration of the block."""
    fake = FakeBackend(responder=responder)
    previous = BACKENDS._factories.get(name), BACKENDS._descriptions.get(name)

    def factory(options: BackendOptions) -> LLMBackend:
        fake.options = options
        return fake

    BACKENDS.register(name, "scripted replies for tests")(factory)
    try:
        yield fake
    finally:
        BACKENDS.unregister(name)
        if previous[0] is not None:
            BACKENDS.register(name, previous[1] or "")(previous[0])

"""Training-sample formats.

chatocr keeps instruction samples as OpenAI chat messages, one JSON object per line::

    {"id": "...", "messages": [{"role": "system", ...}, {"role": "user", ...}, {"role": "assistant", ...}],
     "meta": {...}}

and converts them to the formats other fine-tuning tools read:

- ``openai``: ``{"messages": [...]}`` (OpenAI fine-tuning, LLaMA-Factory, TRL)
- ``xtuner``: ``{"conversation": [{"system": ..., "input": ..., "output": ...}, {"input": ..., "output": ...}]}``
- ``sharegpt``: ``{"conversations": [{"from": "system"|"human"|"gpt", "value": ...}]}``

Every format reads back into the same :class:`Sample` (``read_samples`` detects the format per line),
so ``export -> import`` is lossless for the conversation; ``id`` and ``meta`` travel as extra keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatocr.errors import DatasetError
from chatocr.files import atomic_write_text

FORMATS = ("openai", "xtuner", "sharegpt")
_ROLES = ("system", "user", "assistant")
_SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}
_SHAREGPT_TO = {v: k for k, v in _SHAREGPT_FROM.items()}


@dataclass
class Sample:
    """One training conversation: an optional system prompt, then user/assistant turns."""

    messages: list[dict[str, str]]
    id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_messages(self.messages, self.id)

    @property
    def system(self) -> str | None:
        return self.messages[0]["content"] if self.messages[0]["role"] == "system" else None

    def turns(self) -> list[tuple[str, str]]:
        """(user, assistant) pairs in order."""
        body = self.messages[1:] if self.system is not None else self.messages
        return [(body[i]["content"], body[i + 1]["content"]) for i in range(0, len(body), 2)]


def _check_messages(messages: list[dict[str, str]], sample_id: str | None) -> None:
    where = f"sample {sample_id!r}" if sample_id else "sample"
    if not messages:
        raise DatasetError(f"{where} has no messages")
    for message in messages:
        if (
            not isinstance(message, dict)
            or message.get("role") not in _ROLES
            or not isinstance(message.get("content"), str)
        ):
            raise DatasetError(f"{where}: each message needs a role in {_ROLES} and a string content")
    body = messages[1:] if messages[0]["role"] == "system" else messages
    expected = ["user", "assistant"] * (len(body) // 2)
    if len(body) < 2 or len(body) % 2 or [m["role"] for m in body] != expected:
        raise DatasetError(f"{where}: messages must alternate user/assistant after an optional system prompt")


# --- conversion -----------------------------------------------------------------------------------


def to_record(sample: Sample, fmt: str) -> dict[str, Any]:
    """The JSON record of ``sample`` in format ``fmt``."""
    if fmt == "openai":
        record: dict[str, Any] = {"messages": [dict(m) for m in sample.messages]}
    elif fmt == "xtuner":
        conversation: list[dict[str, str]] = []
        for i, (user, assistant) in enumerate(sample.turns()):
            turn = {"input": user, "output": assistant}
            if i == 0 and sample.system is not None:
                turn = {"system": sample.system, **turn}
            conversation.append(turn)
        record = {"conversation": conversation}
    elif fmt == "sharegpt":
        record = {
            "conversations": [{"from": _SHAREGPT_FROM[m["role"]], "value": m["content"]} for m in sample.messages]
        }
    else:
        raise DatasetError(f"unknown sample format {fmt!r}", hint=f"one of {', '.join(FORMATS)}")
    if sample.id is not None:
        record["id"] = sample.id
    if sample.meta:
        record["meta"] = sample.meta
    return record


def from_record(record: dict[str, Any]) -> Sample:
    """Read a record in any of :data:`FORMATS` (detected from its keys)."""
    if not isinstance(record, dict):
        raise DatasetError("a sample must be a JSON object")
    sample_id = record.get("id")
    meta = record.get("meta") or {}
    if "messages" in record:
        messages = [{"role": m.get("role"), "content": m.get("content")} for m in record["messages"]]
    elif "conversation" in record:
        messages = []
        for i, turn in enumerate(record["conversation"]):
            if i == 0 and turn.get("system"):
                messages.append({"role": "system", "content": turn["system"]})
            messages.append({"role": "user", "content": turn.get("input")})
            messages.append({"role": "assistant", "content": turn.get("output")})
    elif "conversations" in record:
        messages = []
        for turn in record["conversations"]:
            role = _SHAREGPT_TO.get(turn.get("from"))
            if role is None:
                raise DatasetError(f"ShareGPT turn has an unknown 'from': {turn.get('from')!r}")
            messages.append({"role": role, "content": turn.get("value")})
    else:
        raise DatasetError("sample has none of 'messages', 'conversation', 'conversations'")
    return Sample(messages=messages, id=sample_id, meta=meta)


# --- files ----------------------------------------------------------------------------------------


def read_samples(path: str | Path) -> Iterator[Sample]:
    """Samples from a JSON Lines file in any supported format (blank lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"sample file not found: {path}")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            try:
                yield from_record(record)
            except DatasetError as exc:
                raise DatasetError(f"{path}:{number}: {exc.message}", hint=exc.hint) from None


def write_samples(samples: Iterable[Sample], path: str | Path, fmt: str = "openai") -> int:
    """Write samples as JSON Lines in ``fmt`` atomically; returns how many were written."""
    if fmt not in FORMATS:
        raise DatasetError(f"unknown sample format {fmt!r}", hint=f"one of {', '.join(FORMATS)}")
    lines = [json.dumps(to_record(s, fmt), ensure_ascii=False) for s in samples]
    atomic_write_text(Path(path), "".join(line + "\n" for line in lines))
    return len(lines)


def export_file(source: str | Path, target: str | Path, fmt: str) -> int:
    """Convert a sample file (any format) to ``fmt``."""
    return write_samples(list(read_samples(source)), target, fmt)

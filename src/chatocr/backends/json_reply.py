"""Checking a model's JSON reply against the requested schema, and re-asking when it is wrong.

Backends that cannot constrain decoding (plain OpenAI-compatible servers, transformers)
validate the reply here and re-ask with the validation error a bounded number of times.
The validator covers the JSON-schema subset field specs produce: ``type`` (or a list of
types), ``enum``, ``const``, ``properties``, ``required``, ``additionalProperties``,
``items``, ``anyOf``/``oneOf``, ``minLength``/``maxLength`` and ``pattern``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from chatocr.backends.base import Completion, Message
from chatocr.errors import MalformedReplyError

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)

_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class ReplyInvalid(ValueError):
    """The reply is not JSON, or not valid for the schema; the message says why (it is shown to the model)."""


def parse_json_text(text: str) -> Any:
    """Parse a reply that should be one JSON document; tolerates a Markdown code fence around it."""
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text.strip()
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        pass
    # Small models sometimes add a sentence before or after the object: take the outermost braces.
    start, end = body.find("{"), body.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(body[start : end + 1])
        except json.JSONDecodeError as exc:
            raise ReplyInvalid(f"the reply is not valid JSON: {exc.msg} at position {exc.pos}") from None
    raise ReplyInvalid("the reply is not a JSON object")


def schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every way ``value`` violates ``schema`` (empty when valid)."""
    errors: list[str] = []
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path} must be {json.dumps(schema['const'], ensure_ascii=False)}")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
        errors.append(f"{path} must be one of {allowed}")
    for key in ("anyOf", "oneOf"):
        if key in schema and not any(not schema_errors(value, sub, path) for sub in schema[key]):
            errors.append(f"{path} matches none of the allowed forms")
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_TYPE_CHECKS.get(kind, lambda _v: True)(value) for kind in kinds):
            errors.append(f"{path} must be of type {' or '.join(kinds)}")
            return errors
    if isinstance(value, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path} is missing the key {name!r}")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                errors.extend(schema_errors(item, properties[name], f"{path}.{name}"))
            elif extra is False:
                errors.append(f"{path} has an unexpected key {name!r}")
            elif isinstance(extra, dict):
                errors.extend(schema_errors(item, extra, f"{path}.{name}"))
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors.extend(schema_errors(item, schema["items"], f"{path}[{index}]"))
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path} is longer than {schema['maxLength']} characters")
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{path} is shorter than {schema['minLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path} does not match the pattern {schema['pattern']}")
    return errors


def check_reply(text: str, schema: dict[str, Any]) -> Any:
    """Parse and validate a reply; raises :class:`ReplyInvalid` saying what is wrong."""
    value = parse_json_text(text)
    errors = schema_errors(value, schema)
    if errors:
        raise ReplyInvalid("; ".join(errors[:8]))
    return value


def schema_instruction(schema: dict[str, Any]) -> str:
    """The instruction added to the prompt when the server cannot enforce the schema itself."""
    return "Reply with only one JSON object, no other text, valid for this JSON schema:\n" + json.dumps(
        schema, ensure_ascii=False
    )


def complete_with_reasks(
    ask: Callable[[list[Message]], Completion],
    messages: list[Message],
    schema: dict[str, Any],
    *,
    max_reasks: int,
    backend_name: str,
) -> Completion:
    """Ask, validate against ``schema``, and re-ask with the validation error up to ``max_reasks`` times.

    The returned completion's ``attempts`` counts every ask; its text is the
    canonical JSON of the valid reply.  Raises MalformedReplyError when every
    attempt is invalid.
    """
    conversation = list(messages)
    problem = ""
    last_text: str | None = None
    for attempt in range(1, max_reasks + 2):
        completion = ask(conversation)
        last_text = completion.text
        try:
            value = check_reply(completion.text, schema)
        except ReplyInvalid as exc:
            problem = str(exc)
            conversation = [
                *messages,
                Message("assistant", completion.text[:2000]),
                Message(
                    "user",
                    f"That reply is invalid: {problem}. Reply again with only the corrected JSON object.",
                ),
            ]
            continue
        completion.attempts = attempt
        try:
            json.loads(completion.text)
        except json.JSONDecodeError:
            # Drop fences or chatter so callers always receive clean JSON; logprobs no longer line up then.
            completion.text = json.dumps(value, ensure_ascii=False)
            completion.token_logprobs = []
        return completion
    error = MalformedReplyError(
        f"the {backend_name} backend's reply was still invalid after {max_reasks + 1} attempts: {problem}",
        hint="try a larger model or fewer fields per request",
    )
    error.reply = last_text
    raise error

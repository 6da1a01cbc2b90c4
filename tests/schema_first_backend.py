"""A deterministic LLM backend plugin for subprocess tests (loaded via CHATOCR_PLUGINS).

It answers any JSON schema with the first allowed value of each property (the first
non-null enum member, else an empty string / 0 / null), so runs are fast and
repeatable without a model.
"""

from __future__ import annotations

import json
from typing import Any

from chatocr.backends.base import BACKENDS, Completion, LLMBackend, Message
from chatocr.options import BackendOptions


def first_instance(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        non_null = [v for v in schema["enum"] if v is not None]
        return non_null[0] if non_null else None
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return first_instance(schema[key][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {name: first_instance(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 0
    if kind == "string":
        return ""
    return None


class SchemaFirstBackend(LLMBackend):
    name = "schema-first"
    supports_schema = True

    def __init__(self, options: BackendOptions | None = None) -> None:
        self.options = options

    def complete(
        self, messages: list[Message], *, json_schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> Completion:
        if json_schema is None:
            return Completion(text="")
        return Completion(text=json.dumps(first_instance(json_schema), ensure_ascii=False))


BACKENDS.register("schema-first", "deterministic test backend: first allowed value of each property")(
    SchemaFirstBackend
)

"""Field specs: what the user asks for (a list of names, a schema file or a bundled template)."""

from __future__ import annotations

from chatocr.fields.lexicon import hint_for, kind_of
from chatocr.fields.loader import list_templates, load_schema, load_template, parse_field_list
from chatocr.fields.spec import FieldSpec, FieldType, Rule, Schema

__all__ = [
    "FieldSpec", "FieldType", "Rule", "Schema", "hint_for", "kind_of", "list_templates", "load_schema",
    "load_template", "parse_field_list",
]  # fmt: skip

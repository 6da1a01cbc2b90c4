"""Turn a field list, a schema file/dict or a template name into a :class:`Schema`."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chatocr.errors import SpecError
from chatocr.fields.lexicon import hint_for, spec_from_name
from chatocr.fields.spec import FieldSpec, Schema

# Commas (ASCII and full-width), the ideographic comma and semicolons all separate names.
_SEPARATORS = re.compile(r"[,，、;；\n]")


def _template_dir() -> Path:
    return Path(str(resources.files("chatocr.fields") / "templates"))


def list_templates() -> dict[str, str]:
    """Bundled templates: name -> description."""
    out: dict[str, str] = {}
    for path in sorted(_template_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out[path.stem] = str(data.get("description", ""))
    return out


def _readable(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(problems)


def _enrich(spec: FieldSpec) -> FieldSpec:
    """Fill missing aliases / normaliser of a declared field from the lexicon (never overriding)."""
    hint = hint_for(spec.name)
    updates: dict[str, Any] = {}
    if not spec.aliases and hint.aliases:
        updates["aliases"] = list(hint.aliases)
    if spec.normalize is None and hint.normalize and hint.type is spec.type:
        updates["normalize"] = hint.normalize
    return spec.model_copy(update=updates) if updates else spec


def schema_from_data(data: Any, *, origin: str = "schema") -> Schema:
    """Validate a parsed schema document (a dict with ``fields``, or a bare list of fields)."""
    if isinstance(data, list):
        data = {"fields": data}
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: expected a mapping with a 'fields' list, got {type(data).__name__}")
    fields = data.get("fields")
    if isinstance(fields, dict):  # {name: {type: ...}} shorthand
        data = {**data, "fields": [{"name": k, **(v or {})} for k, v in fields.items()]}
    if isinstance(data.get("fields"), list):
        # A bare string inside the list is a plain name.
        data = {**data, "fields": [spec_from_name(f).model_dump() if isinstance(f, str) else f for f in data["fields"]]}
    try:
        schema = Schema.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"invalid field spec in {origin}: {_readable(exc)}") from None
    return schema.model_copy(update={"fields": [_enrich(f) for f in schema.fields]})


def parse_field_list(fields: str | list[str]) -> Schema:
    names = _SEPARATORS.split(fields) if isinstance(fields, str) else [str(f) for f in fields]
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise SpecError("the field list is empty", hint='e.g. --fields "company,date,total"')
    seen = [n for i, n in enumerate(names) if n in names[:i]]
    if seen:
        raise SpecError(f"duplicate field names: {', '.join(dict.fromkeys(seen))}")
    try:
        specs = [spec_from_name(n) for n in names]
        return Schema(name="custom", description="", language="auto", fields=specs)
    except ValidationError as exc:
        raise SpecError(f"invalid field list: {_readable(exc)}") from None


def load_template(name: str) -> Schema:
    path = _template_dir() / f"{name}.yaml"
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", name) or not path.is_file():
        known = ", ".join(list_templates())
        raise SpecError(f"unknown template {name!r}", hint=f"known templates: {known}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return schema_from_data(data, origin=f"template {name}")


def load_schema_file(path: str | Path) -> Schema:
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"schema file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read schema file {path}: {exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"schema file {path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SpecError(f"schema file {path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return schema_from_data(data, origin=str(path))


def load_schema(
    fields: str | list[str] | None = None,
    template: str | None = None,
    schema: str | Path | dict[str, Any] | Schema | None = None,
) -> Schema:
    """Build a Schema from exactly one of: a field list, a template name, a schema file path or dict.

    >>> load_schema(fields="发票号码，开票日期,total").names
    ['发票号码', '开票日期', 'total']
    """
    given = [x for x in (fields, template, schema) if x is not None and x != "" and x != []]
    if len(given) != 1:
        raise SpecError(
            "give exactly one of a field list, a template name or a schema", hint="--fields, --template or --schema"
        )
    if fields is not None and fields != "" and fields != []:
        return parse_field_list(fields)
    if template:
        return load_template(template)
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, dict | list):
        return schema_from_data(schema, origin="schema dict")
    if not isinstance(schema, str | Path):
        raise SpecError(f"a schema must be a file path, a dict or a Schema, not {type(schema).__name__}")
    return load_schema_file(schema)

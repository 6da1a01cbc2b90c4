"""Turn a field list, a schema file/dict or a template name into a :class:`Schema`."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chatocr.errors import SpecError, SpecLimitError
from chatocr.fields.lexicon import hint_for, spec_from_name
from chatocr.fields.spec import FieldSpec, Schema
from chatocr.options import Limits

# Commas (ASCII and full-width), the ideographic comma and semicolons all separate names.
_SEPARATORS = re.compile(r"[,，、;；\n]")
# Most values (mappings, lists, scalars) a schema document may hold: YAML aliases can make a
# few hundred bytes stand for billions of nodes, so the walk below stops counting here.
_MAX_SCHEMA_NODES = 100_000


def _limits(limits: Limits | None) -> Limits:
    return limits if limits is not None else Limits.model_validate({})


def _check_count(count: int, limits: Limits) -> None:
    if count > limits.max_fields:
        raise SpecLimitError(
            f"{count} fields is over the {limits.max_fields} field limit",
            hint="ask for fewer fields per request, or raise limits.max_fields",
        )


def _check_name_length(name: str, limits: Limits) -> None:
    if len(name) > limits.max_field_name_chars:
        raise SpecLimitError(
            f"a field name of {len(name)} characters ({name[:20]!r}...) is over the"
            f" {limits.max_field_name_chars} character limit",
            hint="put long explanations in the field's description",
        )


def check_spec_limits(schema: Schema, limits: Limits | None = None) -> Schema:
    """Refuse a schema over the spec budgets, a pattern over its length limit and an unknown normaliser."""
    limits = _limits(limits)
    _check_count(len(schema.fields), limits)
    from chatocr.extract.normalize import NORMALIZERS

    for spec in schema.fields:
        _check_name_length(spec.name, limits)
        if spec.pattern is not None and len(spec.pattern) > limits.max_pattern_chars:
            raise SpecLimitError(
                f"field {spec.name!r}: its pattern is {len(spec.pattern)} characters, over the"
                f" {limits.max_pattern_chars} limit",
                hint="raise limits.max_pattern_chars if the schema is trusted",
            )
        if spec.normalize is not None and spec.normalize not in NORMALIZERS:
            raise SpecError(
                f"field {spec.name!r}: unknown normaliser {spec.normalize!r}",
                hint=f"known normalisers: {', '.join(sorted(NORMALIZERS))}",
            )
    return schema


def _flow_depth(text: str) -> int:
    """Deepest nesting of [ and { (JSON, YAML flow style), outside quoted strings; linear, no recursion."""
    depth = deepest = 0
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _check_shape(data: Any, origin: str, limits: Limits) -> None:
    """Depth and node count of parsed data, walked iteratively (a deep document cannot recurse)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > _MAX_SCHEMA_NODES:
            raise SpecLimitError(f"{origin}: the schema holds more than {_MAX_SCHEMA_NODES} values")
        if isinstance(node, dict | list):
            if depth > limits.max_schema_depth:
                raise SpecLimitError(
                    f"{origin}: the schema is nested more than {limits.max_schema_depth} levels deep",
                    hint="a schema is a list of fields, each a flat mapping",
                )
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


def parse_schema_text(text: str, origin: str, *, json_only: bool = False, limits: Limits | None = None) -> Any:
    """Parse a schema document (JSON, or YAML which includes JSON) within the size and depth budgets."""
    limits = _limits(limits)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_schema_kb * 1024:
        raise SpecLimitError(
            f"{origin}: the schema is {size / 1024:.0f} KiB, over the {limits.max_schema_kb:g} KiB limit",
            hint="raise limits.max_schema_kb if the schema is trusted",
        )
    if _flow_depth(text) > limits.max_schema_depth:
        raise SpecLimitError(
            f"{origin}: the schema is nested more than {limits.max_schema_depth} levels deep",
            hint="a schema is a list of fields, each a flat mapping",
        )
    try:
        data = json.loads(text) if json_only else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{origin} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SpecError(f"{origin} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:  # block-style YAML nests by indentation, which the flow scan does not see
        raise SpecLimitError(f"{origin}: the schema is nested too deeply to parse") from None
    _check_shape(data, origin, limits)
    return data


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


def schema_from_data(data: Any, *, origin: str = "schema", limits: Limits | None = None) -> Schema:
    """Validate a parsed schema document (a dict with ``fields``, or a bare list of fields)."""
    limits = _limits(limits)
    if isinstance(data, list):
        data = {"fields": data}
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: expected a mapping with a 'fields' list, got {type(data).__name__}")
    fields = data.get("fields")
    if isinstance(fields, dict | list):
        _check_count(len(fields), limits)  # before any field is validated
    try:
        if isinstance(fields, dict):  # {name: {type: ...}} shorthand
            data = {**data, "fields": [{"name": k, **(v or {})} for k, v in fields.items()]}
        if isinstance(data.get("fields"), list):
            for entry in data["fields"]:
                name = entry if isinstance(entry, str) else entry.get("name") if isinstance(entry, dict) else None
                if isinstance(name, str):
                    _check_name_length(name.strip(), limits)
            # A bare string inside the list is a plain name.
            data = {
                **data,
                "fields": [spec_from_name(f).model_dump() if isinstance(f, str) else f for f in data["fields"]],
            }
        schema = Schema.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"invalid field spec in {origin}: {_readable(exc)}") from None
    except TypeError as exc:  # e.g. a field given as a list where a mapping belongs
        raise SpecError(f"invalid field spec in {origin}: {exc}") from None
    schema = check_spec_limits(schema, limits)
    return schema.model_copy(update={"fields": [_enrich(f) for f in schema.fields]})


def parse_field_list(fields: str | list[str], limits: Limits | None = None) -> Schema:
    limits = _limits(limits)
    names = _SEPARATORS.split(fields) if isinstance(fields, str) else [str(f) for f in fields]
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise SpecError("the field list is empty", hint='e.g. --fields "company,date,total"')
    _check_count(len(names), limits)
    for name in names:
        _check_name_length(name, limits)
    counts: dict[str, int] = {}
    for name in names:  # linear: the quadratic check stalled the server for minutes on 100,000 names
        counts[name] = counts.get(name, 0) + 1
    seen = [name for name, count in counts.items() if count > 1]
    if seen:
        raise SpecError(f"duplicate field names: {', '.join(seen)}")
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


def load_schema_file(path: str | Path, limits: Limits | None = None) -> Schema:
    limits = _limits(limits)
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"schema file not found: {path}")
    try:
        with path.open("rb") as handle:  # bounded read: the size check comes before the parse
            raw = handle.read(int(limits.max_schema_kb * 1024) + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read schema file {path}: {exc}") from None
    data = parse_schema_text(text, f"schema file {path}", json_only=path.suffix.lower() == ".json", limits=limits)
    return schema_from_data(data, origin=str(path), limits=limits)


def load_schema(
    fields: str | list[str] | None = None,
    template: str | None = None,
    schema: str | Path | dict[str, Any] | Schema | None = None,
    limits: Limits | None = None,
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
        return parse_field_list(fields, limits)
    if template:
        return load_template(template)
    if isinstance(schema, Schema):
        return check_spec_limits(schema, limits)
    if isinstance(schema, dict | list):
        return schema_from_data(schema, origin="schema dict", limits=limits)
    if not isinstance(schema, str | Path):
        raise SpecError(f"a schema must be a file path, a dict or a Schema, not {type(schema).__name__}")
    return load_schema_file(schema, limits)

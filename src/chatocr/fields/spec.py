"""Field specs: what the user asks for.

A spec is a plain list of names (``"发票号码,开票日期,total"``), a schema file
(JSON or YAML) or a bundled template (``fields/templates/<name>.yaml``).  All three
become a :class:`Schema`.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from chatocr.fields.patterns import DEFAULT_TIMEOUT_S, check_pattern, fullmatch

# Control (TAB, ESC, NUL), format (zero-width, bidi overrides) and surrogate characters.
_CONTROL_CATEGORIES = ("Cc", "Cf", "Cs")
# The hard ceiling on a pattern's length here; limits.max_pattern_chars (lower by default) is applied by the loader.
_MAX_PATTERN_CHARS = 10_000


class FieldType(StrEnum):
    text = "text"
    date = "date"
    amount = "amount"
    number = "number"
    enum = "enum"
    list = "list"


class Rule(BaseModel):
    """A derivation rule: when the document text contains any of ``if_text_contains``, answer ``then``."""

    model_config = ConfigDict(extra="forbid")

    if_text_contains: list[str] = Field(min_length=1)
    then: str


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    type: FieldType = FieldType.text
    # Printed keys that label this field on documents ("证书编号", "No.", "Total"); they help
    # label-value pairing and are stripped from values.
    aliases: list[str] = Field(default_factory=list)
    # enum fields: the allowed answers; `default` is answered when rules and text give nothing.
    choices: list[str] | None = None
    default: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    # A named normaliser (see chatocr.extract.normalize), e.g. "date_iso", "amount", "upper", "no_spaces".
    normalize: str | None = None
    # An optional regular expression a valid value must match (after normalisation).
    pattern: str | None = None
    # Whether the value may wrap over several lines (经营范围, 住所, addresses): pairing then joins the
    # lines below a value to it. Unset (None): the lexicon decides from the name (lexicon.multiline_of).
    multiline: bool | None = None
    # The printed labels of the part of the document the field sits in (a 购买方 field: 购买方, 购方,
    # 买方, 购货单位): a key under another part's label is not this field's. Unset (None): the lexicon
    # decides from the name (lexicon.section_of); [] for none.
    section: list[str] | None = None
    # An amount's part in the sum a document prints, total = net + tax (Total = Subtotal + Tax; 价税合计 = 金额 +
    # 税额): the reader checks that its answers for the three add up. Unset (None): the lexicon decides from the
    # name (lexicon.sum_role_of).
    sum_role: Literal["total", "net", "tax"] | None = None

    @field_validator("name")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("field name is empty")
        bad = sorted({c for c in v if unicodedata.category(c) in _CONTROL_CATEGORIES})
        if bad:
            codes = ", ".join(f"U+{ord(c):04X}" for c in bad)
            raise ValueError(f"field name {v!r} holds control or format characters ({codes})")
        return v

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            # Raises SpecError (invalid, too long, or exponential backtracking) with the field's name.
            check_pattern(v, str(info.data.get("name", "?")), max_chars=_MAX_PATTERN_CHARS)
        return v

    @field_validator("section")
    @classmethod
    def _check_section(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and any(not label.strip() for label in v):
            raise ValueError("a section label is empty")  # "" would be found on every line
        return v

    @model_validator(mode="after")
    def _check_enum(self) -> FieldSpec:
        if self.type is FieldType.enum and not self.choices:
            raise ValueError(f"enum field {self.name!r} needs 'choices'")
        allowed = set(self.choices or [])
        for value in [r.then for r in self.rules] + ([self.default] if self.default else []):
            if allowed and value not in allowed:
                raise ValueError(f"field {self.name!r}: {value!r} is not one of its choices")
        return self

    def matches(self, value: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
        """Whether ``value`` fits the field's pattern (always, without one), within ``timeout_s``
        (``limits.pattern_timeout_s``): use this rather than ``re.fullmatch(spec.pattern, ...)``."""
        return self.pattern is None or fullmatch(self.pattern, value, timeout_s)

    @property
    def extractive(self) -> bool:
        """Extractive fields must be grounded in the OCR text; enum fields are derived."""
        return self.type is not FieldType.enum


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    description: str = ""
    language: str = Field("auto", description="zh, en or auto: the prompt language")
    fields: list[FieldSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Schema:
        names = [f.name for f in self.fields]
        seen: set[str] = set()
        dupes: set[str] = set()
        for name in names:  # linear: a quadratic check stalled the server on 20,000 names
            (dupes if name in seen else seen).add(name)
        if dupes:
            raise ValueError(f"duplicate field names: {', '.join(sorted(dupes))}")
        return self

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

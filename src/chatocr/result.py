"""The extraction result shared by the library, CLI, server, batch and evaluation.

``ExtractionResult.export()`` is the `chatocr extract --format json` record:
``{"file": str, "fields": {NAME: {"value", "raw", "confidence", "page", "box"}}}``
(plus ``"derived_from"`` for derived fields, when set; ``"items"`` for list fields: every value
found, each with its own evidence, while ``"value"`` stays a string, the items joined by ``"; "``;
``"error"`` when this one field could not be answered, e.g. ``"malformed_reply"``: the field is null
and the rest of the document is still answered).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chatocr.document import Box, Document

NOT_FOUND_ZH = "未找到相关信息"  # what a UI may display for a null value


LIST_JOINER = "; "  # a list field's items in its string ``value`` (CSV cells, matching)


class FieldItem(BaseModel):
    """One value of a list field (every party of a contract), with its own evidence."""

    model_config = ConfigDict(extra="forbid")

    value: str
    raw: str | None = None
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    page: int | None = None
    box: Box | None = None

    def export(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "raw": self.raw,
            "confidence": round(float(self.confidence), 4),
            "page": self.page,
            "box": _export_box(self.box),
        }


def _export_box(box: Box | None) -> list[list[float]] | None:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in box] if box else None


class FieldResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str | None = Field(None, description="normalised value; null when the document does not hold it")
    raw: str | None = Field(None, description="the value as printed (OCR text span)")
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    page: int | None = None
    box: Box | None = None
    derived_from: str | None = Field(None, description="for derived values: the text or rule they came from")
    items: list[FieldItem] | None = Field(None, description="list fields: every value, each with its evidence")
    error: str | None = Field(
        None, description="why this field could not be answered (an error code such as malformed_reply); value null"
    )
    alternatives: list[FieldItem] | None = Field(
        None,
        description="another value the document prints that the reader found nearly as likely (two different "
        "'Total:' lines), with its evidence; its confidence is the reader's score for it",
    )

    def export(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "value": self.value,
            "raw": self.raw,
            "confidence": round(float(self.confidence), 4),
            "page": self.page,
            "box": _export_box(self.box),
        }
        if self.derived_from is not None:
            record["derived_from"] = self.derived_from
        if self.items is not None:
            record["items"] = [item.export() for item in self.items]
        if self.error is not None:
            record["error"] = self.error
        if self.alternatives:
            record["alternatives"] = [item.export() for item in self.alternatives]
        return record


class ExtractionResult(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    file: str | None = None
    fields: dict[str, FieldResult]
    document: Document | None = Field(None, description="the OCR result the answers are grounded in")
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per pipeline stage")

    def export(self) -> dict[str, Any]:
        return {"file": self.file or "", "fields": {k: v.export() for k, v in self.fields.items()}}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.export(), ensure_ascii=False, **kwargs)

    @property
    def field_errors(self) -> dict[str, str]:
        """The fields that failed (each null), by name: the document is answered, but not wholly."""
        return {k: v.error for k, v in self.fields.items() if v.error is not None}

    def values(self) -> dict[str, str | None]:
        return {k: v.value for k, v in self.fields.items()}

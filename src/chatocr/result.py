"""The extraction result shared by the library, CLI, server, batch and evaluation.

``ExtractionResult.export()`` is the `chatocr extract --format json` record:
``{"file": str, "fields": {NAME: {"value", "raw", "confidence", "page", "box"}}}``
(plus ``"derived_from"`` for derived fields, when set).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chatocr.document import Box, Document

NOT_FOUND_ZH = "未找到相关信息"  # what a UI may display for a null value


class FieldResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str | None = Field(None, description="normalised value; null when the document does not hold it")
    raw: str | None = Field(None, description="the value as printed (OCR text span)")
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    page: int | None = None
    box: Box | None = None
    derived_from: str | None = Field(None, description="for derived values: the text or rule they came from")

    def export(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "value": self.value,
            "raw": self.raw,
            "confidence": round(float(self.confidence), 4),
            "page": self.page,
            "box": [[round(float(x), 1), round(float(y), 1)] for x, y in self.box] if self.box else None,
        }
        if self.derived_from is not None:
            record["derived_from"] = self.derived_from
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

    def values(self) -> dict[str, str | None]:
        return {k: v.value for k, v in self.fields.items()}

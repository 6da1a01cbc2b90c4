"""Response bodies of the HTTP API, as pydantic models, so the OpenAPI document describes them.

They are built from the shared result models (:mod:`chatocr.document`,
:mod:`chatocr.result`): an OCR record is the ``Document.export()`` shape, an extraction
record the ``ExtractionResult.export()`` shape.  Routes return those exports as they
are (the same JSON as the CLI); tests validate real responses against these models.
Every error body is :class:`ErrorResponse`, whose ``code`` is one of the codes of
:mod:`chatocr.errors` (listed by ``chatocr errors``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from chatocr.document import Line
from chatocr.errors import ChatOCRError, all_error_classes
from chatocr.result import FieldResult

ERROR_CODES = sorted({cls.code for cls in all_error_classes()})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ------------------------------------------------------------------------------------------
class ErrorDetail(_Body):
    code: str = Field(
        description="stable error code; see `chatocr errors` and docs/errors.md",
        json_schema_extra={"enum": list[JsonValue](ERROR_CODES)},
    )
    message: str = Field(description="what went wrong and, in parentheses, what to do")


class ErrorResponse(_Body):
    error: ErrorDetail


def error_responses(*errors: type[ChatOCRError]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry for these error classes, grouped by HTTP status."""
    by_status: dict[int, list[type[ChatOCRError]]] = {}
    for cls in errors:
        by_status.setdefault(cls.http_status, []).append(cls)
    return {
        status: {
            "model": ErrorResponse,
            "description": "; ".join(f"`{cls.code}`: {cls.summary}" for cls in classes),
        }
        for status, classes in sorted(by_status.items())
    }


# -- OCR and extraction records ----------------------------------------------------------------------
class PageRecord(_Body):
    page: int = Field(ge=1, description="1-based page number")
    width: int = Field(description="page width in pixels (boxes are in these pixels)")
    height: int = Field(description="page height in pixels")
    lines: list[Line] = Field(description="the engine's lines in reading order")


class OcrRecord(_Body):
    """The `chatocr ocr --format json` record."""

    file: str = Field(description="the upload's file name")
    pages: list[PageRecord]


class ExtractionRecord(_Body):
    """The `chatocr extract --format json` record: one entry per requested field, in order."""

    file: str = Field(description="the upload's file name")
    fields: dict[str, FieldResult] = Field(
        description="field name -> answer; `value` is null when the document does not hold the field;"
        " `derived_from` appears only for derived values"
    )


# -- jobs --------------------------------------------------------------------------------------------
class JobCreated(_Body):
    id: str
    status: Literal["queued"]
    url: str = Field(description="poll this URL for status, progress and the result")


class JobRecord(_Body):
    id: str
    kind: Literal["extract", "ocr"]
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0.0, le=1.0)
    stage: str = Field(description="what the job is doing, e.g. 'ocr: page 2 of 5'")
    created_at: float = Field(description="Unix time the job was accepted")
    finished_at: float | None = None
    expires_at: float | None = Field(None, description="Unix time the job and its files are deleted")
    result: ExtractionRecord | OcrRecord | None = Field(
        None, description="when done: the extraction record (kind extract) or the OCR record (kind ocr)"
    )
    error: ErrorDetail | None = Field(None, description="when failed: the error")
    document: OcrRecord | None = Field(None, description="when done: the OCR record the boxes refer to")
    page_images: list[str] | None = Field(None, description="when done: URLs of the upright page images (PNG)")


# -- service -----------------------------------------------------------------------------------------
class QueueStats(_Body):
    running: int = Field(description="requests and jobs running on this process's workers")
    queued: int = Field(description="requests waiting for a worker here, plus queued jobs of the data directory")
    capacity: int = Field(description="workers + queue length; more work gets 503")
    workers: int


class Health(_Body):
    status: Literal["ok"]
    version: str
    queue: QueueStats
    jobs: int = Field(description="jobs in the store (queued, running, or finished and not yet expired)")
    backends: list[str]
    default_backend: str
    max_upload_mb: float
    auth: bool = Field(description="whether /v1 needs an API key")


class TemplateInfo(_Body):
    name: str
    description: str
    fields: list[str]


class Templates(_Body):
    templates: list[TemplateInfo]

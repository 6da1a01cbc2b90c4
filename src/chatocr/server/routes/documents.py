"""Synchronous OCR and extraction of one short document, and the bundled templates."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from chatocr.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    BadRequestError,
    EncryptedPdfError,
    EngineError,
    InputFileError,
    InternalError,
    InvalidRequestError,
    LimitExceededError,
    MalformedReplyError,
    MissingDependencyError,
    OptionsError,
    QueueFullError,
    SpecError,
    UnauthorizedError,
    UnsupportedFormatError,
)
from chatocr.server.routes import ServerState, read_upload, server_state, text_of
from chatocr.server.schemas import ExtractionRecord, OcrRecord, Templates, error_responses
from chatocr.server.service import parse_spec

log = logging.getLogger("chatocr.server")

router = APIRouter(prefix="/v1")

# What any /v1 route may answer, and what reading an upload may answer.
API_ERRORS = (UnauthorizedError, InternalError)
UPLOAD_ERRORS = (
    *API_ERRORS,
    BadRequestError,
    InvalidRequestError,
    OptionsError,
    LimitExceededError,
    UnsupportedFormatError,
    InputFileError,
    QueueFullError,
)
OCR_ERRORS = (*UPLOAD_ERRORS, EncryptedPdfError, EngineError)
EXTRACT_ERRORS = (
    *OCR_ERRORS,
    SpecError,
    MissingDependencyError,
    BackendError,
    BackendUnavailableError,
    BackendTimeoutError,
    MalformedReplyError,
)

State = Annotated[ServerState, Depends(server_state)]


@router.get("/templates", tags=["extract"], response_model=Templates, responses=error_responses(*API_ERRORS))
async def templates() -> Templates:
    """The bundled field templates with their field names."""
    from chatocr.fields import list_templates, load_schema

    return Templates.model_validate(
        {
            "templates": [
                {"name": name, "description": description, "fields": load_schema(template=name).names}
                for name, description in list_templates().items()
            ]
        }
    )


@router.post("/ocr", tags=["ocr"], response_model=OcrRecord, responses=error_responses(*OCR_ERRORS))
async def ocr(
    request: Request, state: State, file: Annotated[UploadFile, File(description="image or PDF")]
) -> JSONResponse:
    """OCR one document: the `chatocr ocr --format json` record."""
    started = time.perf_counter()
    data = await read_upload(request, file, {"file"})
    # Off the event loop, like every check that reads the document (a hostile file must not stall /healthz).
    fmt = await asyncio.to_thread(state.service.check_upload, data, max_pages=state.settings.max_sync_pages)
    backlog = state.jobs.count("queued")
    document = await state.queue.run(state.service.ocr, data, file.filename or "", backlog=backlog)
    log.info(
        "ocr done: %s, %d bytes, %d page(s), %.2fs", fmt, len(data), len(document.pages), time.perf_counter() - started
    )
    return JSONResponse(document.export())


@router.post("/extract", tags=["extract"], response_model=ExtractionRecord, responses=error_responses(*EXTRACT_ERRORS))
async def extract(
    request: Request,
    state: State,
    file: Annotated[UploadFile, File(description="image or PDF")],
    fields: Annotated[str | None, Form(description="comma-separated field names")] = None,
    template: Annotated[str | None, Form(description="bundled template name (GET /v1/templates)")] = None,
    schema_text: Annotated[
        UploadFile | str | None,
        Form(alias="schema", description="schema document as JSON or YAML (text or an uploaded file)"),
    ] = None,
    backend: Annotated[str | None, Form(description="one of the backend profiles this server offers")] = None,
) -> JSONResponse:
    """Answer the requested fields for one document: the `chatocr extract --format json` record."""
    started = time.perf_counter()
    data = await read_upload(request, file, {"file", "fields", "template", "schema", "backend"})
    # Parsing the spec and checking the upload run off the event loop: neither may stall /healthz.
    spec = await asyncio.to_thread(parse_spec, fields, template, await text_of(schema_text))
    profile = state.service.profile(backend)
    fmt = await asyncio.to_thread(state.service.check_upload, data, max_pages=state.settings.max_sync_pages)
    backlog = state.jobs.count("queued")
    result = await state.queue.run(state.service.extract, data, spec, profile, file.filename or "", backlog=backlog)
    found = sum(1 for f in result.fields.values() if f.value is not None)
    log.info(
        "extract done: %s, %d bytes, %d field(s), %d found, backend %s, %.2fs",
        fmt,
        len(data),
        len(result.fields),
        found,
        profile,
        time.perf_counter() - started,
    )
    return JSONResponse(result.export())

"""Jobs: accept a document of any length (202), poll it, fetch its page images, delete it.

A 202 means the upload and the job are on disk (:class:`chatocr.server.jobs.JobStore`):
the job runs even if this process is killed before it starts or while it runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from chatocr.errors import InvalidRequestError, NotFoundError, SpecError
from chatocr.server.routes import ServerState, read_upload, server_state, text_of
from chatocr.server.routes.documents import API_ERRORS, UPLOAD_ERRORS
from chatocr.server.schemas import JobCreated, JobRecord, error_responses
from chatocr.server.service import parse_spec

log = logging.getLogger("chatocr.server")

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

State = Annotated[ServerState, Depends(server_state)]


@router.post(
    "",
    status_code=202,
    response_model=JobCreated,
    responses=error_responses(*UPLOAD_ERRORS, SpecError),
)
async def create_job(
    request: Request,
    state: State,
    file: Annotated[UploadFile, File(description="image or PDF (any number of pages)")],
    kind: Annotated[Literal["extract", "ocr"], Form(description="extract (default) or ocr")] = "extract",
    fields: Annotated[str | None, Form()] = None,
    template: Annotated[str | None, Form()] = None,
    schema_text: Annotated[UploadFile | str | None, Form(alias="schema")] = None,
    backend: Annotated[str | None, Form()] = None,
) -> JobCreated:
    """Start a job; poll `GET /v1/jobs/{id}` for status, progress and the result."""
    data = await read_upload(request, file, {"file", "kind", "fields", "template", "schema", "backend"})
    # Parsing the spec and checking the upload run off the event loop: neither may stall /healthz.
    schema = await text_of(schema_text)
    spec = await asyncio.to_thread(parse_spec, fields, template, schema) if kind == "extract" else None
    profile = state.service.profile(backend)
    fmt = await asyncio.to_thread(state.service.check_upload, data, max_pages=None)
    state.queue.admit(backlog=state.jobs.count("queued"))
    job = await asyncio.to_thread(  # fsyncs, and may wait for another process's write
        state.jobs.create,
        kind,
        data,
        spec=spec.model_dump_json() if spec is not None else None,
        profile=profile,
        name=file.filename or "",
    )
    state.runner.notify()
    log.info("job %s queued: %s, %s, %d bytes", job.id, kind, fmt, len(data))
    return JobCreated(id=job.id, status="queued", url=f"/v1/jobs/{job.id}")


@router.get(
    "/{job_id}", response_model=JobRecord, responses=error_responses(*API_ERRORS, InvalidRequestError, NotFoundError)
)
async def get_job(job_id: str, state: State) -> JSONResponse:
    """Status, progress (0..1) and, when done, the result, the OCR document and the page image URLs."""
    return JSONResponse(state.jobs.get(job_id).public())


@router.get(
    "/{job_id}/pages/{number}.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}, "description": "PNG"},
        **error_responses(*API_ERRORS, InvalidRequestError, NotFoundError),
    },
)
def get_page_image(job_id: str, number: int, state: State) -> Response:
    """The upright page image the job's boxes refer to (scaled to fit 1800 px; boxes use the
    page's own width and height)."""
    job = state.jobs.get(job_id)
    missing = NotFoundError(f"job {job_id} has no page {number}")
    if job.status != "done" or not 1 <= number <= (job.pages or 0):
        raise missing
    try:
        image = state.jobs.page_path(job_id, number).read_bytes()
    except FileNotFoundError:  # deleted or expired a moment ago
        raise missing from None
    return Response(image, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.delete(
    "/{job_id}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "deleted"}, **error_responses(*API_ERRORS, InvalidRequestError, NotFoundError)},
)
def delete_job(job_id: str, state: State) -> Response:
    """Forget a job now: its upload, result and page images."""
    state.jobs.delete(job_id)
    log.info("job %s deleted", job_id)
    return Response(status_code=204)

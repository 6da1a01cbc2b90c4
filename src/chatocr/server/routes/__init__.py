"""The routes, one router per area: service (health, web UI), documents (OCR, extraction,
templates) and jobs.  They reach the server's parts through :func:`server_state`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, UploadFile

from chatocr.errors import OptionsError, SpecError
from chatocr.server.jobs import JobStore
from chatocr.server.runner import JobRunner
from chatocr.server.service import ExtractionService
from chatocr.server.settings import ServerSettings
from chatocr.server.workers import WorkQueue

# Room for the multipart framing and the small form parts on top of the file itself.
FORM_OVERHEAD_BYTES = 256 * 1024


@dataclass
class ServerState:
    settings: ServerSettings
    service: ExtractionService
    queue: WorkQueue
    jobs: JobStore
    runner: JobRunner


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.chatocr
    return state


async def read_upload(request: Request, file: UploadFile, allowed: set[str]) -> bytes:
    """The uploaded file's bytes, after refusing form parts the route does not take."""
    form = await request.form()
    unknown = sorted(set(form.keys()) - allowed)
    if unknown:
        raise OptionsError(
            f"unknown form part(s): {', '.join(unknown)}",
            hint=f"accepted: {', '.join(sorted(allowed))}; backends are fixed when the server starts",
        )
    data = await file.read()
    await file.close()
    return data


async def text_of(part: UploadFile | str | None) -> str | None:
    """A form part given as text or as an uploaded file (e.g. a schema.yaml), as text."""
    if part is None or isinstance(part, str):
        return part
    raw = await part.read(FORM_OVERHEAD_BYTES + 1)
    if len(raw) > FORM_OVERHEAD_BYTES:
        raise SpecError(f"the 'schema' part is over {FORM_OVERHEAD_BYTES // 1024} KiB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError("the 'schema' part is not UTF-8 text") from None

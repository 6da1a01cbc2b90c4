"""The FastAPI application: routes, the one error mapping, start-up and shutdown.

Every error leaves the server as ``{"error": {"code", "message"}}`` with the HTTP
status of its :mod:`chatocr.errors` class, so clients see the same codes as the CLI.
Logs name requests, jobs, sizes and timings only: never a field value, an OCR line
or a file name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from chatocr import __version__
from chatocr.errors import ChatOCRError, OptionsError, QueueFullError, SpecError
from chatocr.fields.spec import Schema
from chatocr.server.jobs import Job, JobStore
from chatocr.server.middleware import ApiKeyMiddleware, BodyLimitMiddleware
from chatocr.server.service import ExtractionService, ExtractorFactory, parse_spec
from chatocr.server.settings import ServerSettings
from chatocr.server.workers import WorkQueue

log = logging.getLogger("chatocr.server")

STATIC_DIR = Path(str(resources.files("chatocr.server") / "static"))
# Room for the multipart framing and the small form parts on top of the file itself.
_FORM_OVERHEAD_BYTES = 256 * 1024
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "limit_exceeded",
}

DESCRIPTION = """Read a document (photo, scan or PDF; Chinese and English) and answer the fields you ask for.

* `POST /v1/extract`: one file plus exactly one of `fields` (comma list), `template` or `schema` (JSON/YAML text).
* `POST /v1/ocr`: the OCR lines with boxes.
* `POST /v1/jobs`: the same work in the background for long PDFs; poll `GET /v1/jobs/{id}`.

When the server has an API key, send it as `Authorization: Bearer KEY` or `X-API-Key: KEY`.
Errors are `{"error": {"code": ..., "message": ...}}` with the status of the error class
(see `chatocr errors`).
"""


def _error_response(error: ChatOCRError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(error, QueueFullError):
        headers["Retry-After"] = str(getattr(error, "retry_after", 1))
    if error.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": error.to_dict()}, status_code=error.http_status, headers=headers)


def create_app(settings: ServerSettings | None = None, *, extractor_factory: ExtractorFactory | None = None) -> FastAPI:
    """Build the app.  ``extractor_factory(options)`` makes the shared extractor for a backend
    profile; the default is :class:`chatocr.extract.Extractor`."""
    settings = settings or ServerSettings.from_env()
    service = ExtractionService(settings, extractor_factory)
    queue = WorkQueue(settings.max_concurrency, settings.max_queue)
    jobs = JobStore(settings.retention_s)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        purger = asyncio.create_task(_purge_loop(jobs))
        if settings.preload:
            await asyncio.get_running_loop().run_in_executor(None, service.warm_up)
        log.info(
            "chatocr server ready: %d workers, queue %d, backends %s",
            queue.max_concurrency,
            queue.capacity - queue.max_concurrency,
            ", ".join(settings.backends),
        )
        try:
            yield
        finally:
            purger.cancel()
            queue.shutdown()

    app = FastAPI(title="chatocr", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.service = service
    app.state.queue = queue
    app.state.jobs = jobs

    # Outermost first: the key is checked before any byte of the body is read.
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.max_upload_bytes + _FORM_OVERHEAD_BYTES,
        upload_limit_mb=settings.max_upload_mb,
    )
    app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)

    @app.exception_handler(ChatOCRError)
    async def _chatocr_error(_request: Request, exc: ChatOCRError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body')}: {err.get('msg', '')}"
            for err in exc.errors()
        )
        return JSONResponse({"error": {"code": "invalid_request", "message": problems}}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", exc.__class__.__name__, exc_info=exc)
        return JSONResponse({"error": {"code": "internal_error", "message": "internal server error"}}, status_code=500)

    # -- pages ----------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict[str, Any]:
        """Liveness and load: always open, even when an API key is set."""
        return {
            "status": "ok",
            "version": __version__,
            "queue": queue.stats(),
            "jobs": len(jobs),
            "backends": list(settings.backends),
            "default_backend": settings.default_backend,
            "max_upload_mb": settings.max_upload_mb,
            "auth": settings.api_key is not None,
        }

    # -- API ------------------------------------------------------------------------------------
    @app.get("/v1/templates", tags=["extract"])
    async def templates() -> dict[str, Any]:
        """The bundled field templates with their field names."""
        from chatocr.fields import list_templates, load_schema

        return {
            "templates": [
                {"name": name, "description": description, "fields": load_schema(template=name).names}
                for name, description in list_templates().items()
            ]
        }

    async def read_upload(request: Request, file: UploadFile, allowed: set[str]) -> bytes:
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

    @app.post("/v1/ocr", tags=["ocr"])
    async def ocr(request: Request, file: Annotated[UploadFile, File(description="image or PDF")]) -> dict[str, Any]:
        """OCR one document: the `chatocr ocr --format json` record."""
        started = time.perf_counter()
        data = await read_upload(request, file, {"file"})
        fmt = service.check_upload(data, max_pages=settings.max_sync_pages)
        document = await queue.run(service.ocr, data, file.filename or "")
        log.info(
            "ocr done: %s, %d bytes, %d page(s), %.2fs",
            fmt,
            len(data),
            len(document.pages),
            time.perf_counter() - started,
        )
        return document.export()

    @app.post("/v1/extract", tags=["extract"])
    async def extract(
        request: Request,
        file: Annotated[UploadFile, File(description="image or PDF")],
        fields: Annotated[str | None, Form(description="comma-separated field names")] = None,
        template: Annotated[str | None, Form(description="bundled template name (GET /v1/templates)")] = None,
        schema_text: Annotated[
            UploadFile | str | None,
            Form(alias="schema", description="schema document as JSON or YAML (text or an uploaded file)"),
        ] = None,
        backend: Annotated[str | None, Form(description="one of the backend profiles this server offers")] = None,
    ) -> dict[str, Any]:
        """Answer the requested fields for one document: the `chatocr extract --format json` record."""
        started = time.perf_counter()
        data = await read_upload(request, file, {"file", "fields", "template", "schema", "backend"})
        spec = parse_spec(fields, template, await _text_of(schema_text))
        profile = service.profile(backend)
        fmt = service.check_upload(data, max_pages=settings.max_sync_pages)
        result = await queue.run(service.extract, data, spec, profile, file.filename or "")
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
        return result.export()

    @app.post("/v1/jobs", status_code=202, tags=["jobs"])
    async def create_job(
        request: Request,
        file: Annotated[UploadFile, File(description="image or PDF (any number of pages)")],
        kind: Annotated[Literal["extract", "ocr"], Form(description="extract (default) or ocr")] = "extract",
        fields: Annotated[str | None, Form()] = None,
        template: Annotated[str | None, Form()] = None,
        schema_text: Annotated[UploadFile | str | None, Form(alias="schema")] = None,
        backend: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        """Start a job; poll `GET /v1/jobs/{id}` for status, progress and the result."""
        data = await read_upload(request, file, {"file", "kind", "fields", "template", "schema", "backend"})
        spec = parse_spec(fields, template, await _text_of(schema_text)) if kind == "extract" else None
        profile = service.profile(backend)
        fmt = service.check_upload(data, max_pages=None)
        job = jobs.create(kind)
        try:
            job.future = queue.submit(_run_job, service, jobs, job, data, spec, profile, file.filename or "")
        except QueueFullError:
            jobs.delete(job.id)
            raise
        log.info("job %s queued: %s, %s, %d bytes", job.id, kind, fmt, len(data))
        return {"id": job.id, "status": job.status, "url": f"/v1/jobs/{job.id}"}

    @app.get("/v1/jobs/{job_id}", tags=["jobs"])
    async def get_job(job_id: str) -> dict[str, Any]:
        """Status, progress (0..1) and, when done, the result, the OCR document and the page image URLs."""
        return jobs.get(job_id).public()

    @app.get("/v1/jobs/{job_id}/pages/{number}.png", tags=["jobs"], response_class=Response)
    async def get_page_image(job_id: str, number: int) -> Response:
        """The upright page image the job's boxes refer to (scaled to fit 1800 px; boxes use the
        page's own width and height)."""
        job = jobs.get(job_id)
        if job.status != "done" or not 1 <= number <= len(job.page_images):
            raise StarletteHTTPException(404, f"job {job_id} has no page {number}")
        return Response(job.page_images[number - 1], media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.delete("/v1/jobs/{job_id}", status_code=204, tags=["jobs"], response_class=Response)
    async def delete_job(job_id: str) -> Response:
        """Forget a job now: its upload, result and page images."""
        jobs.delete(job_id)
        log.info("job %s deleted", job_id)
        return Response(status_code=204)

    def openapi_with_key() -> dict[str, Any]:
        """OpenAPI plus the two ways to send the key, so /docs can try the /v1 routes on a keyed server."""
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            for path, operations in schema["paths"].items():
                if path.startswith("/v1/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}, {"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi_with_key  # type: ignore[method-assign]
    return app


def _run_job(
    service: ExtractionService, jobs: JobStore, job: Job, data: bytes, spec: Schema | None, profile: str, name: str
) -> None:
    """Worker-thread body of a job; failures are recorded on the job, never raised."""
    if job.deleted:
        return
    started = time.perf_counter()
    jobs.update(job, status="running", stage="reading", progress=0.05)

    def progress(fraction: float, stage: str) -> None:
        jobs.update(job, progress=0.05 + 0.85 * max(0.0, min(1.0, fraction)), stage=stage)

    try:
        if job.kind == "extract":
            assert spec is not None
            jobs.update(job, stage="extracting", progress=0.1)
            result = service.extract(data, spec, profile, name, progress=progress)
            document = result.document or service.ocr(data, name)
            answer: dict[str, Any] = result.export()
        else:
            jobs.update(job, stage="ocr", progress=0.1)
            document = service.ocr(data, name, progress=progress)
            answer = document.export()
        jobs.update(job, stage="rendering pages", progress=0.92)
        images = service.page_images(data, document)
        jobs.finish(
            job,
            status="done",
            stage="done",
            progress=1.0,
            result=answer,
            document=document.export(),
            page_images=images,
            pages=len(document.pages),
        )
        log.info("job %s done: %d page(s), %.2fs", job.id, len(document.pages), time.perf_counter() - started)
    except ChatOCRError as exc:
        jobs.finish(job, status="failed", stage="failed", error=exc.to_dict())
        log.info("job %s failed: %s", job.id, exc.code)
    except Exception as exc:
        jobs.finish(
            job, status="failed", stage="failed", error={"code": "internal_error", "message": "internal server error"}
        )
        log.error("job %s failed: %s", job.id, exc.__class__.__name__, exc_info=exc)


async def _text_of(part: UploadFile | str | None) -> str | None:
    """A form part given as text or as an uploaded file (e.g. a schema.yaml), as text."""
    if part is None or isinstance(part, str):
        return part
    raw = await part.read(_FORM_OVERHEAD_BYTES + 1)
    if len(raw) > _FORM_OVERHEAD_BYTES:
        raise SpecError(f"the 'schema' part is over {_FORM_OVERHEAD_BYTES // 1024} KiB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError("the 'schema' part is not UTF-8 text") from None


async def _purge_loop(jobs: JobStore) -> None:
    interval = min(30.0, max(0.25, jobs.retention_s / 4))
    while True:
        await asyncio.sleep(interval)
        purged = jobs.purge_expired()
        if purged:
            log.info("purged %d expired job(s)", purged)

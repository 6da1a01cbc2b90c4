"""The FastAPI application: the parts, the routers, start-up and shutdown.

Every error leaves the server as ``{"error": {"code", "message"}}`` with the HTTP
status of its :mod:`chatocr.errors` class (:mod:`chatocr.server.handlers`), so
clients see the same codes as the CLI.  Logs name requests, jobs, sizes and timings
only: never a field value, an OCR line or a file name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from chatocr import __version__
from chatocr.server import handlers
from chatocr.server.jobs import JobStore
from chatocr.server.middleware import (
    ApiKeyMiddleware,
    BodyLimitMiddleware,
    RequestGuardMiddleware,
    SecurityHeadersMiddleware,
)
from chatocr.server.routes import FORM_OVERHEAD_BYTES, ServerState
from chatocr.server.routes import documents as documents_routes
from chatocr.server.routes import jobs as jobs_routes
from chatocr.server.routes import service as service_routes
from chatocr.server.runner import JobRunner
from chatocr.server.service import ExtractionService, ExtractorFactory
from chatocr.server.settings import ServerSettings
from chatocr.server.workers import WorkQueue

log = logging.getLogger("chatocr.server")

DESCRIPTION = """Read a document (photo, scan or PDF; Chinese and English) and answer the fields you ask for.

* `POST /v1/extract`: one file plus exactly one of `fields` (comma list), `template` or `schema` (JSON/YAML text).
* `POST /v1/ocr`: the OCR lines with boxes.
* `POST /v1/jobs`: the same work in the background for long PDFs; poll `GET /v1/jobs/{id}`.
  An accepted job (202) is on disk: it runs even if the server restarts before it finishes.

When the server has an API key, send it as `Authorization: Bearer KEY` or `X-API-Key: KEY`.
Errors are `{"error": {"code": ..., "message": ...}}` with the status of the error class
(see `chatocr errors`).
"""


def create_app(
    settings: ServerSettings | None = None,
    *,
    extractor_factory: ExtractorFactory | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """Build the app.  ``extractor_factory(options)`` makes the shared extractor for a backend
    profile (default :class:`chatocr.extract.extractor.Extractor`); ``clock`` gives the time
    that job retention is measured in (tests pass a fake one)."""
    settings = settings or ServerSettings.from_env()
    service = ExtractionService(settings, extractor_factory)
    temporary_dir = None if settings.data_dir is not None else tempfile.mkdtemp(prefix="chatocr-jobs-")
    jobs = JobStore(
        settings.data_dir or temporary_dir or "",
        settings.retention_s,
        clock=clock,
        lease_s=settings.lease_s,
        max_attempts=settings.max_attempts,
    )
    queue = WorkQueue(settings.max_concurrency, settings.max_queue)
    runner = JobRunner(jobs, queue, service, poll_s=settings.poll_s, grace_s=settings.grace_s)
    queue.on_idle = runner.notify
    state = ServerState(settings=settings, service=service, queue=queue, jobs=jobs, runner=runner)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        if settings.preload:
            await loop.run_in_executor(None, service.warm_up)
        runner.start()
        purger = asyncio.create_task(_purge_loop(jobs))
        log.info(
            "chatocr server ready: %d workers, queue %d, backends %s, jobs in %s",
            queue.max_concurrency,
            queue.capacity - queue.max_concurrency,
            ", ".join(settings.backends),
            "a temporary directory" if temporary_dir else jobs.data_dir,
        )
        try:
            yield
        finally:
            purger.cancel()
            await loop.run_in_executor(None, runner.stop)
            queue.shutdown()
            if not runner.running:  # a job past its grace period may still write (and be ignored)
                jobs.close()
                if temporary_dir:
                    shutil.rmtree(temporary_dir, ignore_errors=True)

    app = FastAPI(title="chatocr", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.chatocr = state
    app.state.settings = settings
    app.state.jobs = jobs

    # Outermost first: the key is checked before any byte of the body is read.
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.max_upload_bytes + FORM_OVERHEAD_BYTES,
        upload_limit_mb=settings.max_upload_mb,
    )
    app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)
    app.add_middleware(RequestGuardMiddleware, idle_s=settings.upload_idle_s, total_s=settings.upload_timeout_s)
    app.add_middleware(SecurityHeadersMiddleware)
    handlers.install(app)

    app.include_router(service_routes.router)
    app.include_router(documents_routes.router)
    app.include_router(jobs_routes.router)
    app.mount("/static", StaticFiles(directory=service_routes.STATIC_DIR), name="static")

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


async def _purge_loop(jobs: JobStore) -> None:
    interval = min(30.0, max(0.25, jobs.retention_s / 4))
    while True:
        await asyncio.sleep(interval)
        try:
            purged = await asyncio.to_thread(jobs.purge_expired)
        except Exception as exc:  # a busy database: the next round purges
            log.warning("purging expired jobs failed: %s", exc)
            continue
        if purged:
            log.info("purged %d expired job(s)", purged)

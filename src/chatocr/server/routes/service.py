"""Health and the web UI's page (static assets are mounted by the app)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from chatocr import __version__
from chatocr.errors import InternalError
from chatocr.server.routes import ServerState, server_state
from chatocr.server.schemas import Health, error_responses

STATIC_DIR = Path(str(resources.files("chatocr.server") / "static"))

router = APIRouter()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.get("/healthz", tags=["service"], response_model=Health, responses=error_responses(InternalError))
async def healthz(state: Annotated[ServerState, Depends(server_state)]) -> Health:
    """Liveness and load: always open, even when an API key is set."""
    settings = state.settings
    return Health.model_validate(
        {
            "status": "ok",
            "version": __version__,
            "queue": state.queue.stats(backlog=state.jobs.count("queued")),
            "jobs": len(state.jobs),
            "backends": list(settings.backends),
            "default_backend": settings.default_backend,
            "max_upload_mb": settings.max_upload_mb,
            "auth": settings.api_key is not None,
        }
    )

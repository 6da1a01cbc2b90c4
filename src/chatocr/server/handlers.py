"""The one error mapping: every error leaves the server as ``{"error": {"code", "message"}}``.

The code and status always come from a :mod:`chatocr.errors` class, so clients see the
same codes as the CLI, and ``chatocr errors`` lists every code the server can send:
chatocr's own errors as raised, the framework's HTTP errors by status
(:data:`HTTP_STATUS_ERRORS`), malformed requests as ``invalid_request`` and anything
unexpected as ``internal_error``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chatocr.errors import (
    BadRequestError,
    ChatOCRError,
    InternalError,
    InvalidRequestError,
    LimitExceededError,
    MethodNotAllowedError,
    NotFoundError,
    QueueFullError,
    UnauthorizedError,
)

log = logging.getLogger("chatocr.server")

# Statuses the framework raises on its own (unknown route, wrong method, bad multipart, ...).
HTTP_STATUS_ERRORS: dict[int, type[ChatOCRError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: LimitExceededError,
    422: InvalidRequestError,
}


def error_for_status(status: int) -> type[ChatOCRError]:
    """The error class for an HTTP status the framework raised (a 4xx it does not name is a bad request)."""
    if status in HTTP_STATUS_ERRORS:
        return HTTP_STATUS_ERRORS[status]
    return BadRequestError if 400 <= status < 500 else InternalError


def error_response(
    error: ChatOCRError, *, status: int | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = dict(headers or {})
    if isinstance(error, QueueFullError):
        headers["Retry-After"] = str(getattr(error, "retry_after", 1))
    if isinstance(error, UnauthorizedError):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": error.to_dict()}, status_code=status or error.http_status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ChatOCRError)
    async def _chatocr_error(_request: Request, exc: ChatOCRError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = error_for_status(exc.status_code)(str(exc.detail))
        # The framework's status stands (e.g. a 4xx it has no class of its own for); the code is ours.
        return error_response(error, status=exc.status_code, headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body')}: {err.get('msg', '')}"
            for err in exc.errors()
        )
        return error_response(InvalidRequestError(problems))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", exc.__class__.__name__, exc_info=exc)
        return error_response(InternalError("internal server error"))

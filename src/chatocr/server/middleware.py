"""ASGI middleware that runs before any body is read: the API key and the upload size.

Both are plain ASGI (not FastAPI dependencies) on purpose: FastAPI parses a
multipart body before it resolves dependencies, so a dependency would only refuse a
request after the whole upload had been received.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatocr.errors import ChatOCRError, LimitExceededError, UnauthorizedError


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode("utf-8")


async def send_error(send: Send, error: ChatOCRError, headers: dict[str, str] | None = None) -> None:
    body = error_body(error.code, str(error))
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": error.http_status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class ApiKeyMiddleware:
    """Requests under /v1 need the key (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``) when one is set."""

    def __init__(self, app: ASGIApp, api_key: str | None, protected_prefix: str = "/v1") -> None:
        self.app = app
        self.api_key = api_key.encode("utf-8") if api_key else None
        self.prefix = protected_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.api_key is None or scope["type"] != "http" or not _under(scope["path"], self.prefix):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        error = UnauthorizedError(
            "this server needs an API key", hint="send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
        )
        await send_error(send, error, {"WWW-Authenticate": "Bearer"})

    def _authorized(self, scope: Scope) -> bool:
        assert self.api_key is not None
        presented: list[bytes] = []
        for name, value in scope["headers"]:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                presented.append(value[7:].strip())
            elif name == b"x-api-key":
                presented.append(value.strip())
        # Compare every presented key in constant time; never short-circuit on a prefix.
        ok = False
        for key in presented:
            ok |= hmac.compare_digest(key, self.api_key)
        return ok


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class BodyTooLarge(HTTPException):
    def __init__(self, upload_limit_mb: float) -> None:
        super().__init__(status_code=413, detail=f"the upload is over the server's {upload_limit_mb:g} MB limit")


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes without reading them: by Content-Length up front,
    and by counting while the body streams in for chunked uploads."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit_mb: float) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit_mb = upload_limit_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await send_error(
                send, LimitExceededError(BodyTooLarge(self.upload_limit_mb).detail), {"Connection": "close"}
            )
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.upload_limit_mb)
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    headers: Any = scope["headers"]
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

"""ASGI middleware that runs before any body is read: the API key, the upload size, the
upload's pace, cancellation when the client leaves, and the security headers.

Both are plain ASGI (not FastAPI dependencies) on purpose: FastAPI parses a
multipart body before it resolves dependencies, so a dependency would only refuse a
request after the whole upload had been received.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatocr.errors import ChatOCRError, LimitExceededError, RequestTimeoutError, UnauthorizedError
from chatocr.server.cancel import new_request_event

log = logging.getLogger("chatocr.server")


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


class RequestGuardMiddleware:
    """Bounds how long a client may take to send its body, and stops the work of a client that left.

    * Slow uploads: every body piece must arrive within ``idle_s`` of the previous one and
      the whole body within ``total_s``; otherwise the request ends with 408 and the
      connection is closed (a slow-loris upload holds no worker and no memory for long).
    * Abandoned requests: once the body is in, the guard listens for the client's
      disconnect.  If it comes before the response started, the request's event is set (a
      worker running its OCR stops at the next page or stage, see :mod:`chatocr.server.cancel`)
      and the route's task is cancelled (work still queued is dropped).
    """

    def __init__(self, app: ASGIApp, idle_s: float, total_s: float) -> None:
        self.app = app
        self.idle_s = idle_s
        self.total_s = total_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cancelled = new_request_event()  # set in this task's context; the route's task copies it
        deadline = time.monotonic() + self.total_s
        body_done = asyncio.Event()
        disconnected = asyncio.Event()
        state = {"response_started": False, "timed_out": False}

        async def guarded_receive() -> Message:
            if body_done.is_set():
                # The body is in: the watcher owns the socket's receive; a disconnect is what is left.
                await disconnected.wait()
                return {"type": "http.disconnect"}
            wait = min(self.idle_s, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, wait))
            except TimeoutError:
                state["timed_out"] = True
                raise asyncio.CancelledError from None
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_done.set()
            elif message["type"] == "http.disconnect":
                disconnected.set()
                body_done.set()
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["response_started"] = True
            await send(message)

        async def run_app() -> None:
            await self.app(scope, guarded_receive, tracking_send)

        task = asyncio.create_task(run_app())

        async def watch() -> None:
            await body_done.wait()
            if disconnected.is_set():
                message: Message = {"type": "http.disconnect"}
            else:
                message = await receive()
            if message["type"] == "http.disconnect":
                disconnected.set()
                if not state["response_started"]:
                    cancelled.set()
                    task.cancel()

        watcher = asyncio.create_task(watch())
        try:
            await task
        except asyncio.CancelledError:
            if state["timed_out"]:
                log.info("request %s %s: upload too slow, closed", scope["method"], scope["path"])
                if not state["response_started"]:
                    error = RequestTimeoutError(
                        f"the upload did not arrive in time (no data for {self.idle_s:g} s, or longer than"
                        f" {self.total_s:g} s in all)",
                        hint="check the connection and retry",
                    )
                    await send_error(send, error, {"Connection": "close"})
            elif cancelled.is_set():
                log.info("request %s %s: the client went away; its work was stopped", scope["method"], scope["path"])
            else:
                raise
        finally:
            watcher.cancel()


# The web UI loads its script, style and icon from /static and page images as blob: URLs; nothing
# inline, nothing from elsewhere, never inside a frame.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load their viewer from a CDN and start it with an inline
# script; they get the hashes of exactly those scripts, never 'unsafe-inline'.
_DOC_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
_DOC_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def _doc_policy(body: bytes) -> str:
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return (
        f"default-src 'self'; script-src 'self' {_DOC_CDN} {hashes}; style-src 'self' {_DOC_CDN} 'unsafe-inline'; "
        f"img-src 'self' data: {_DOC_CDN} https://fastapi.tiangolo.com; worker-src blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no inline script, no framing), nosniff and friends on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in _DOC_PATHS:
            await self._docs(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(message, _CSP)
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the (small) documentation page to hash its inline scripts into its policy."""
        start: Message | None = None
        body = b""

        async def hold(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                body += message.get("body", b"")
                if message.get("more_body", False):
                    return
                _add_headers(start, _doc_policy(body))
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, hold)


def _add_headers(message: Message, policy: str) -> None:
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
    headers.append((b"content-security-policy", policy.encode("ascii")))
    present = {k.lower() for k, _ in headers}
    headers += [(k, v) for k, v in _SECURITY_HEADERS if k not in present]
    message["headers"] = headers

"""A tiny scripted OpenAI-compatible server for testing failure modes without a model.

Usage::

    with FakeOpenAIServer() as server:
        server.enqueue(content="not json")                 # first chat call
        server.enqueue(content='{"total": "9.00"}')        # second chat call
        backend = OpenAIBackend(BackendOptions(name="openai", base_url=server.url))
        ...
        assert len(server.chat_requests) == 2

Each ``POST /v1/chat/completions`` consumes the next scripted :class:`FakeReply`;
when the queue is empty the last reply is repeated (or, with none ever queued, an
empty JSON object is answered).  ``GET /v1/models`` lists one model, ``fake-model``.
Set ``responder`` (request JSON -> reply content) to compute every reply instead, after
``responder_delay_s`` (a stand-in for a model's decoding time; concurrent requests wait side
by side, as on a batching GPU server).  Set ``reject_formats`` to answer 400 to requests whose
``response_format`` type is in it, like servers that lack structured output.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "fake-model"


@dataclass
class FakeReply:
    content: str | None = "{}"
    status: int = 200
    delay_s: float = 0.0
    error_message: str = "scripted error"
    # Send these bytes verbatim instead of an OpenAI-shaped body.
    raw_body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.replies: deque[FakeReply] = deque()
        self.last_reply = FakeReply()
        self.requests: list[dict[str, Any]] = []  # every request: {"method", "path", "headers", "json"}
        self.reject_formats: set[str] = set()
        self.responder: Callable[[dict[str, Any]], str | None] | None = None
        self.responder_delay_s = 0.0
        self.record_requests = True  # off for throughput runs: thousands of requests need not be kept
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -------------------------------------------------------------------
    def enqueue(self, content: str | None = "{}", **kwargs: Any) -> FakeReply:
        reply = FakeReply(content=content, **kwargs)
        with self._lock:
            self.replies.append(reply)
        return reply

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def _next_reply(self) -> FakeReply:
        with self._lock:
            if self.replies:
                self.last_reply = self.replies.popleft()
            return self.last_reply

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def _record(self, payload: Any) -> None:
                if not server.record_requests:
                    return
                with server._lock:
                    server.requests.append(
                        {"method": self.command, "path": self.path, "headers": dict(self.headers), "json": payload}
                    )

            def do_GET(self) -> None:
                self._record(None)
                if self.path.rstrip("/").endswith("/models"):
                    body = {"object": "list", "data": [{"id": MODEL_ID, "object": "model"}]}
                    self._send(200, json.dumps(body).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    payload = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._send(400, b'{"error": {"message": "body is not JSON"}}')
                    return
                self._record(payload)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                kind = (payload.get("response_format") or {}).get("type")
                if kind in server.reject_formats:
                    message = f"response_format type {kind!r} is not supported by this server"
                    self._send(400, json.dumps({"error": {"message": message}}).encode())
                    return
                if server.responder is not None:
                    if server.responder_delay_s:
                        time.sleep(server.responder_delay_s)
                    reply = FakeReply(content=server.responder(payload))
                else:
                    reply = server._next_reply()
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.raw_body is not None:
                    self._send(reply.status, reply.raw_body, reply.headers)
                elif reply.status >= 400:
                    body = {"error": {"message": reply.error_message, "type": "fake"}}
                    self._send(reply.status, json.dumps(body).encode(), reply.headers)
                else:
                    body = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "model": payload.get("model", MODEL_ID),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                    self._send(200, json.dumps(body, ensure_ascii=False).encode(), reply.headers)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

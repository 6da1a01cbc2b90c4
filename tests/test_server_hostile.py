"""Hostile requests against a real server (uvicorn on a loopback socket): /healthz keeps
answering in under a second while they run, slow uploads time out, abandoned requests stop
their work, the sync page limit counts TIFF frames, and every response has the security headers."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest
from PIL import Image

pytest.importorskip("uvicorn")

from chatocr.errors import ChatOCRError
from chatocr.fields.spec import Schema
from chatocr.options import BackendOptions
from chatocr.result import ExtractionResult
from chatocr.server import ServerSettings, create_app
from live_server import serve_in_thread
from test_server_api import QuickExtractor, receipt_png


class SlowExtractor(QuickExtractor):
    """A document named ``slow`` takes 10 s, reporting progress every 20 ms; how it ended is recorded."""

    outcome: ClassVar[dict[str, Any]] = {}

    def run(self, source: bytes, schema: Schema, name: str | None = None, progress: Any = None) -> ExtractionResult:
        if name != "slow":
            return super().run(source, schema, name, progress)
        started = time.perf_counter()
        SlowExtractor.outcome.update(started=started, stopped=None, reason=None)
        try:
            for step in range(500):
                time.sleep(0.02)
                if progress is not None:
                    progress(step / 500, "slow")
        except ChatOCRError as exc:
            SlowExtractor.outcome.update(stopped=time.perf_counter(), reason=exc.code)
            raise
        SlowExtractor.outcome.update(stopped=time.perf_counter(), reason="finished")
        return super().run(source, schema, name, progress)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    settings = ServerSettings(
        max_upload_mb=2.0,
        max_sync_pages=4,
        upload_idle_s=0.5,
        upload_timeout_s=5.0,
        backends={"fake": BackendOptions(name="schema-first")},
    )
    app = create_app(settings, extractor_factory=SlowExtractor)
    with serve_in_thread(app) as url:
        yield url


def _health_latencies(base_url: str, busy: threading.Thread) -> list[float]:
    """/healthz round trips, measured until ``busy`` ends (at least a few)."""
    latencies: list[float] = []
    with httpx.Client(timeout=30) as client:
        while busy.is_alive() or len(latencies) < 3:
            started = time.perf_counter()
            assert client.get(f"{base_url}/healthz").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
    return latencies


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        box["response"] = fn()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, box


def test_healthz_answers_while_hostile_specs_are_refused(base_url: str) -> None:
    names = ",".join(f"f{i}" for i in range(100_000))  # 590 KB, under the 1 MiB part limit
    # A big (still under 256 KiB) schema whose YAML parse takes a while: it must not run on the event loop.
    fields = "".join(f"- name: f{i}\n  description: {'word ' * 220}\n" for i in range(200))
    requests = [
        {"fields": names},
        {"schema": fields},
        {"schema": "[" * 100_000 + "]" * 100_000},
        {"schema": "fields:\n  - name: n\n    pattern: '(a+)+$'\n"},
        {"schema": "fields:\n  - name: n\n    pattern: '(['\n"},
    ]

    def hostile() -> list[httpx.Response]:
        with httpx.Client(timeout=60) as client:
            return [
                client.post(f"{base_url}/v1/extract", files={"file": ("r.png", receipt_png())}, data=form)
                for form in requests
            ]

    thread, box = _in_thread(hostile)
    latencies = _health_latencies(base_url, thread)
    thread.join()
    answers = [
        (r.status_code, r.json()["error"]["code"]) if r.status_code != 200 else (200, "") for r in box["response"]
    ]
    assert answers[0] == (413, "spec_too_large")
    assert answers[1][0] in (200, 413)  # answered, either way, without holding the loop
    assert answers[2] == (413, "spec_too_large")
    assert answers[3] == (422, "bad_field_spec") and answers[4] == (422, "bad_field_spec")
    assert max(latencies) < 1.0, f"/healthz took {max(latencies):.2f}s"


def _tiff(frames: int) -> bytes:
    page = Image.new("L", (300, 200), 255)
    buffer = io.BytesIO()
    page.save(buffer, format="TIFF", save_all=True, append_images=[page] * (frames - 1))
    return buffer.getvalue()


def test_the_sync_page_limit_counts_tiff_frames(base_url: str) -> None:
    response = httpx.post(f"{base_url}/v1/ocr", files={"file": ("six.tif", _tiff(6))}, timeout=30)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "limit_exceeded"
    assert "more than 4 pages" in response.json()["error"]["message"]


def test_security_headers_on_every_response(base_url: str) -> None:
    for path in ("/", "/healthz", "/v1/templates", "/static/app.js", "/no-such-page"):
        headers = httpx.get(f"{base_url}{path}").headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy, path
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0], path
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY", path
    docs = httpx.get(f"{base_url}/docs")
    assert docs.status_code == 200
    script_src = docs.headers["content-security-policy"].split("script-src", 1)[1].split(";", 1)[0]
    assert "'sha256-" in script_src and "unsafe-inline" not in script_src
    assert "<script" not in httpx.get(f"{base_url}/").text.replace('<script src="/static/app.js"></script>', "")


def _raw_request(base_url: str, body: bytes, boundary: str, *, send_body: bytes | None = None) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = (
        f"POST /v1/extract HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + (body if send_body is None else send_body))
    return sock


def _multipart(boundary: str, filename: str, data: bytes, fields: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + data
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="fields"\r\n\r\n{fields}\r\n'.encode()
        + f"--{boundary}--\r\n".encode()
    )


def test_a_stalled_upload_gets_408_and_the_connection_closed(base_url: str) -> None:
    body = _multipart("stall", "r.png", receipt_png(), "total")
    started = time.perf_counter()
    sock = _raw_request(base_url, body, "stall", send_body=body[:100])  # then nothing more
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    elapsed = time.perf_counter() - started
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b'"request_timeout"' in reply and b"content-security-policy" in reply.lower()
    assert elapsed < 3.0


def test_an_abandoned_request_stops_its_work(base_url: str) -> None:
    SlowExtractor.outcome.clear()
    body = _multipart("gone", "slow", receipt_png(), "total")
    sock = _raw_request(base_url, body, "gone")
    deadline = time.time() + 10
    while "started" not in SlowExtractor.outcome and time.time() < deadline:
        time.sleep(0.02)
    assert "started" in SlowExtractor.outcome, "the slow work never started"
    latency = time.perf_counter()
    assert httpx.get(f"{base_url}/healthz").status_code == 200
    assert time.perf_counter() - latency < 1.0
    sock.close()  # the client leaves without its answer
    closed = time.perf_counter()
    while SlowExtractor.outcome.get("stopped") is None and time.time() < deadline:
        time.sleep(0.02)
    assert SlowExtractor.outcome["reason"] == "cancelled", SlowExtractor.outcome
    assert SlowExtractor.outcome["stopped"] - closed < 1.0  # not the 10 s the work would have taken
    for _ in range(50):
        if httpx.get(f"{base_url}/healthz").json()["queue"]["running"] == 0:
            break
        time.sleep(0.05)
    assert httpx.get(f"{base_url}/healthz").json()["queue"]["running"] == 0

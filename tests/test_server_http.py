"""The server over a real loopback socket (uvicorn in a thread): upload limits are
enforced while the body streams in, with Content-Length and with chunked uploads."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

pytest.importorskip("uvicorn")

from chatocr.options import BackendOptions
from chatocr.server import ServerSettings, create_app
from live_server import serve_in_thread
from test_server_api import QuickExtractor, receipt_png


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    settings = ServerSettings(max_upload_mb=1.0, backends={"fake": BackendOptions(name="schema-first")})
    app = create_app(settings, extractor_factory=QuickExtractor)
    with serve_in_thread(app) as url:
        yield url


def test_small_upload_is_served(base_url: str) -> None:
    response = httpx.post(f"{base_url}/v1/extract", files={"file": ("r.png", receipt_png())}, data={"fields": "total"})
    assert response.status_code == 200
    assert response.json()["fields"]["total"]["value"] == "quick"


def test_413_by_content_length_over_a_socket(base_url: str) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (3 * 1024 * 1024)
    response = httpx.post(f"{base_url}/v1/extract", files={"file": ("big.png", big)}, data={"fields": "total"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "limit_exceeded"


def test_413_for_a_chunked_upload_without_content_length(base_url: str) -> None:
    boundary = "limitcheck"

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'.encode()
            + b"\x89PNG\r\n\x1a\n"
        )
        for _ in range(64):  # up to 4 MiB, well over the 1 MB limit
            yield b"0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    try:
        response = httpx.post(f"{base_url}/v1/ocr", content=body(), headers=headers, timeout=30)
    except httpx.TransportError:
        # The server may close the connection before the client has finished sending.
        pytest.fail("the server closed the connection without answering 413")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "limit_exceeded"
    # Still healthy afterwards.
    assert httpx.get(f"{base_url}/healthz").json()["status"] == "ok"

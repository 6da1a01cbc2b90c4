"""The web UI in a real browser: `chatocr serve` on a free loopback port, Debian's chromium
driven by playwright-core (tests/browser/ui.spec.mjs).

The server runs the real OCR and Extractor with the deterministic ``schema-first`` backend
(tests/schema_first_backend.py, loaded through CHATOCR_PLUGINS) and an API key, so the
page's authenticated fetches and image loading are exercised too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from test_server_api import receipt_png

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "browser" / "ui.spec.mjs"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
API_KEY = "ui-test-key"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing_tools() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"chromium is not installed at {CHROMIUM}"
    if not (ROOT / "node_modules" / "playwright-core").exists():
        return "playwright-core is not installed (run `npm ci` in the repository root)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the server did not answer /healthz within {timeout} s")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _missing_tools()
    if reason:
        pytest.skip(reason)
    port = free_port()
    env = {
        **os.environ,
        "CHATOCR_PLUGINS": "schema_first_backend",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
        "CHATOCR_API_KEY": API_KEY,
    }
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    command = [
        sys.executable, "-c", "from chatocr.cli import main; main()", "serve",
        "--port", str(port), "--backend", "fake=schema-first", "--max-concurrency", "1", "--no-preload",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_ui_upload_highlight_edit_and_download(server_url: str, tmp_path: Path) -> None:
    image = tmp_path / "receipt.png"
    image.write_bytes(receipt_png())
    env = {
        **os.environ,
        "CHATOCR_URL": server_url,
        "CHATOCR_UI_IMAGE": str(image),
        "CHATOCR_API_KEY": API_KEY,
        "CHROMIUM": CHROMIUM,
        "CHATOCR_UI_ARTIFACTS": str(tmp_path / "artifacts"),
    }
    result = subprocess.run(
        ["node", str(SPEC)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "not ok" not in output
    for check in ["upload processed", "highlights its box", "JSON download", "CSV download"]:
        assert check in output, output
    assert (tmp_path / "artifacts" / "receipt.json").exists()

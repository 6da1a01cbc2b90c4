"""The public API is plain typed functions: ``chatocr.extract(...)`` and ``chatocr.ocr(...)``,
while the extraction package stays importable by name; its extractor cache is thread-safe."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from chatocr import api
from chatocr.result import ExtractionResult

REPO = Path(__file__).resolve().parents[1]


def test_extract_and_ocr_are_functions_and_the_package_still_imports() -> None:
    import chatocr.extract.extractor
    from chatocr.extract import Extractor
    from chatocr.extract.extractor import Extractor as SameExtractor

    assert Extractor is SameExtractor
    assert inspect.isfunction(chatocr.extract) and chatocr.extract is api.extract
    assert inspect.isfunction(chatocr.ocr) and chatocr.ocr is api.ocr
    assert inspect.signature(chatocr.extract).return_annotation in (ExtractionResult, "ExtractionResult")


def test_importing_a_submodule_first_keeps_the_function() -> None:
    """The import order a user's program may have: the submodule before the package's attribute."""
    code = (
        "import chatocr.extract.candidates, inspect, chatocr\n"
        "from chatocr.extract.extractor import Extractor\n"
        "assert inspect.isfunction(chatocr.extract), chatocr.extract\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


class _CountingExtractor:
    created = 0

    def __init__(self, options: Any) -> None:
        type(self).created += 1
        self.running = 0

    def run(self, source: Any, schema: Any, name: str | None = None) -> str:
        self.running += 1
        concurrent = self.running
        threading.Event().wait(0.01)
        self.running -= 1
        assert concurrent == 1, "an in-process model was called from two threads at once"
        return "ok"


def test_the_extractor_cache_is_thread_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatocr.extract import extractor as extractor_module

    monkeypatch.setattr(extractor_module, "Extractor", _CountingExtractor)
    monkeypatch.setattr(api, "_EXTRACTORS", {})
    _CountingExtractor.created = 0
    start = threading.Barrier(8)
    results: list[Any] = []
    errors: list[BaseException] = []

    def call() -> None:
        start.wait()
        try:
            results.append(api.extract(b"x", fields="total"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert results == ["ok"] * 8
    assert _CountingExtractor.created == 1, "one extractor (one loaded model) for one set of options"


@pytest.mark.slow
def test_a_users_mypy_strict_accepts_the_calls(tmp_path: Path) -> None:
    """mypy --strict on a user's program: the calls type-check and their results are typed."""
    pytest.importorskip("mypy")
    program = tmp_path / "user.py"
    program.write_text(
        "import chatocr\n"
        "from chatocr.extract import Extractor\n"
        "result = chatocr.extract('receipt.jpg', template='receipt')\n"
        "reveal_type(result)\n"
        "document = chatocr.ocr(b'...')\n"
        "reveal_type(document)\n"
        "total: str | None = result.fields['total'].value\n"
        "print(Extractor, document.to_text(), total)\n",
        encoding="utf-8",
    )
    env = {**os.environ, "MYPYPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--config-file", os.devnull]
    command += ["--cache-dir", str(tmp_path / "cache"), str(program)]
    checked = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert 'Revealed type is "chatocr.result.ExtractionResult"' in checked.stdout
    assert 'Revealed type is "chatocr.document.Document"' in checked.stdout

"""Jobs: submit, poll, page images, delete, expiry and failure."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

import schema_first_backend  # noqa: F401  (registers the "schema-first" backend)
from chatocr.document import Line, box_from_rect
from chatocr.engines import ENGINES, OcrEngine, clear_engine_cache, orientation
from chatocr.options import BackendOptions, OcrOptions
from chatocr.server import ServerSettings, create_app
from chatocr.server.jobs import JobStore
from test_server_api import BlockingExtractor, QuickExtractor, pdf_bytes, receipt_png, wait_for_job


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = ServerSettings(retention_s=60, backends={"fake": BackendOptions(name="schema-first")})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def page_image(c: TestClient, url: str) -> Image.Image:
    response = c.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


@pytest.mark.slow
def test_job_life_cycle_of_a_multi_page_pdf(client: TestClient) -> None:
    created = client.post("/v1/jobs", files={"file": ("two.pdf", pdf_bytes(2))}, data={"fields": "page"})
    assert created.status_code == 202
    job_id = created.json()["id"]
    assert created.json()["url"] == f"/v1/jobs/{job_id}"
    first = client.get(f"/v1/jobs/{job_id}").json()
    assert first["status"] in ("queued", "running", "done")
    assert 0.0 <= first["progress"] <= 1.0

    job = wait_for_job(client, job_id)
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    assert job["expires_at"] > job["finished_at"]
    assert list(job["result"]["fields"]) == ["page"]
    pages = job["document"]["pages"]
    assert [p["page"] for p in pages] == [1, 2]
    assert "PAGE 2" in " ".join(line["text"] for line in pages[1]["lines"]).upper()
    assert len(job["page_images"]) == 2
    for page, url in zip(pages, job["page_images"], strict=True):
        image = page_image(client, url)
        # Boxes are in page pixels; the served image has the same shape (possibly scaled).
        assert abs(image.width / image.height - page["width"] / page["height"]) < 0.01
    assert client.get(f"/v1/jobs/{job_id}/pages/3.png").status_code == 404

    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404
    assert client.get(job["page_images"][0]).status_code == 404
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 404


@pytest.mark.slow
def test_ocr_job_returns_the_ocr_record(client: TestClient) -> None:
    job_id = client.post("/v1/jobs", files={"file": ("r.png", receipt_png())}, data={"kind": "ocr"}).json()["id"]
    job = wait_for_job(client, job_id)
    assert job["status"] == "done"
    assert job["result"] == job["document"]
    assert any("TOTAL" in line["text"] for line in job["result"]["pages"][0]["lines"])


def test_a_failed_job_reports_the_error(client: TestClient) -> None:
    truncated = receipt_png()[:400]
    job_id = client.post("/v1/jobs", files={"file": ("t.png", truncated)}, data={"fields": "total"}).json()["id"]
    job = wait_for_job(client, job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "input_file"
    assert job["result"] is None


def test_job_submission_checks_the_upload_and_spec_first(client: TestClient) -> None:
    assert client.post("/v1/jobs", files={"file": ("x.pdf", b"plain text")}, data={"fields": "a"}).status_code == 415
    assert client.post("/v1/jobs", files={"file": ("r.png", receipt_png())}).status_code == 422
    bad_kind = client.post("/v1/jobs", files={"file": ("r.png", receipt_png())}, data={"kind": "translate"})
    assert bad_kind.status_code == 422


class FakeClock:
    """The time job retention is measured in, moved by the test instead of by sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def quick_client(clock: FakeClock | None = None, **settings: Any) -> TestClient:
    backends = {"fake": BackendOptions(name="schema-first")}
    app = create_app(
        ServerSettings(backends=backends, **settings), extractor_factory=QuickExtractor, clock=clock or FakeClock()
    )
    return TestClient(app)


def test_finished_jobs_expire_after_the_retention_time() -> None:
    clock = FakeClock()
    with quick_client(clock, retention_s=60) as c:
        job_id = c.post("/v1/jobs", files={"file": ("r.png", receipt_png())}, data={"fields": "total"}).json()["id"]
        job = wait_for_job(c, job_id)
        assert job["status"] == "done"
        assert job["expires_at"] == job["finished_at"] + 60
        assert c.get(job["page_images"][0]).status_code == 200
        clock.advance(59.9)
        assert c.get(f"/v1/jobs/{job_id}").status_code == 200, "kept until its retention ends"
        clock.advance(0.2)
        assert c.get(f"/v1/jobs/{job_id}").status_code == 404
        assert c.get(job["page_images"][0]).status_code == 404
        assert c.get("/healthz").json()["jobs"] == 0


def test_expired_jobs_are_deleted_with_their_files() -> None:
    clock = FakeClock()
    with quick_client(clock, retention_s=1) as c:
        ids = [
            c.post("/v1/jobs", files={"file": ("r.png", receipt_png())}, data={"fields": "t"}).json()["id"]
            for _ in range(3)
        ]
        for job_id in ids:
            assert wait_for_job(c, job_id)["status"] == "done"
        store: JobStore = c.app.state.jobs  # type: ignore[attr-defined]
        assert [p.name for p in sorted(store.job_dir(ids[0]).iterdir())] == ["page-1.png"], "the upload is dropped"
        assert {p.name for p in store.files_dir.iterdir()} == set(ids)
        clock.advance(1.5)
        deadline = time.time() + 30
        while any(store.job_dir(i).exists() for i in ids) and time.time() < deadline:
            time.sleep(0.05)  # no request touches the store: only the background purge can delete
        assert not any(store.job_dir(i).exists() for i in ids)
        assert store.count() == 0


def test_deleting_a_queued_job_means_it_never_runs() -> None:
    BlockingExtractor.release.clear()
    settings = ServerSettings(max_concurrency=1, max_queue=2, backends={"fake": BackendOptions(name="schema-first")})
    with TestClient(create_app(settings, extractor_factory=BlockingExtractor)) as c:
        running = c.post("/v1/jobs", files={"file": ("a.png", receipt_png())}, data={"fields": "t"}).json()["id"]
        queued = c.post("/v1/jobs", files={"file": ("b.png", receipt_png())}, data={"fields": "t"}).json()["id"]
        assert c.get(f"/v1/jobs/{queued}").json()["status"] == "queued"
        assert c.delete(f"/v1/jobs/{queued}").status_code == 204
        BlockingExtractor.release.set()
        assert wait_for_job(c, running)["status"] == "done"
        assert c.get(f"/v1/jobs/{queued}").status_code == 404
        assert c.get("/healthz").json()["queue"]["queued"] == 0


@pytest.mark.slow
def test_page_images_are_the_upright_pages_the_boxes_refer_to(client: TestClient) -> None:
    """A receipt photographed sideways: the served page image is turned upright like the
    page the OCR worked on, so its shape matches the page's width and height."""
    sideways = Image.open(io.BytesIO(receipt_png())).rotate(90, expand=True)
    buffer = io.BytesIO()
    sideways.save(buffer, format="PNG")
    job_id = client.post("/v1/jobs", files={"file": ("side.png", buffer.getvalue())}, data={"kind": "ocr"}).json()["id"]
    job = wait_for_job(client, job_id)
    assert job["status"] == "done"
    (page,) = job["document"]["pages"]
    image = page_image(client, job["page_images"][0])
    assert abs(image.width / image.height - page["width"] / page["height"]) < 0.01
    if orientation.available():  # the page was turned upright, and so is the image served for it
        assert page["width"] > page["height"] and image.width > image.height
        assert any("TOTAL 42.80" in line["text"] for line in page["lines"])


class _PageEngine(OcrEngine):
    """One line per page, instantly: the test is about progress, not recognition."""

    name = "one-line"

    def __init__(self, options: OcrOptions | None = None) -> None:
        pass

    def recognize(self, image: np.ndarray) -> list[Line]:
        return [Line(text="PAGE", box=box_from_rect(0, 0, 10, 10), confidence=0.9)]


def test_a_pdf_job_reports_progress_page_by_page(monkeypatch: pytest.MonkeyPatch) -> None:
    ENGINES.register("one-line", "test engine")(_PageEngine)
    clear_engine_cache()
    history: list[tuple[float, str]] = []
    original_update = JobStore.update

    def recording_update(self: JobStore, job_id: str, *, progress: float, stage: str) -> bool:
        history.append((progress, stage))
        return original_update(self, job_id, progress=progress, stage=stage)

    monkeypatch.setattr(JobStore, "update", recording_update)
    settings = ServerSettings(ocr=OcrOptions(engine="one-line"), backends={"fake": BackendOptions(name="schema-first")})
    try:
        with TestClient(create_app(settings)) as c:
            job_id = c.post("/v1/jobs", files={"file": ("three.pdf", pdf_bytes(3))}, data={"kind": "ocr"}).json()["id"]
            job = wait_for_job(c, job_id)
    finally:
        ENGINES.unregister("one-line")
        clear_engine_cache()
    assert job["status"] == "done" and len(job["document"]["pages"]) == 3
    stages = [stage for _, stage in history]
    assert stages[stages.index("ocr") + 1 :][:3] == ["ocr: page 1 of 3", "ocr: page 2 of 3", "ocr: page 3 of 3"]
    fractions = [fraction for fraction, _ in history]
    assert fractions == sorted(fractions) and fractions[-1] < 1.0  # 1.0 only once the job is done


# ------------------------------------------------------------------------- the store on its own


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _set_owner_pid(store: JobStore, job_id: str, pid: int) -> None:
    with sqlite3.connect(store.data_dir / "jobs.sqlite3") as db:
        db.execute("UPDATE jobs SET owner_pid = ? WHERE id = ?", (pid, job_id))


def test_claims_are_exclusive_between_stores_sharing_a_directory(tmp_path: Path) -> None:
    stores = [JobStore(tmp_path, 60) for _ in range(2)]
    ids = {stores[0].create("ocr", b"x", spec=None, profile="p", name="").id for _ in range(20)}
    claimed: list[str] = []
    lock = threading.Lock()

    def drain(store: JobStore) -> None:
        while (job := store.claim()) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=drain, args=(s,)) for s in stores for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids), "every job claimed exactly once"


def test_a_job_interrupted_too_often_fails_with_job_interrupted(tmp_path: Path) -> None:
    survivor = JobStore(tmp_path, 60, max_attempts=2)
    job_id = survivor.create("ocr", b"x", spec=None, profile="p", name="").id
    for attempt in (1, 2):
        crashed = JobStore(tmp_path, 60, max_attempts=2)
        job = crashed.claim()
        assert job is not None and job.id == job_id and job.attempts == attempt
        _set_owner_pid(crashed, job_id, _dead_pid())  # its process died mid-run
        expected = (1, 0) if attempt == 1 else (0, 1)
        assert survivor.recover() == expected
    job = survivor.get(job_id)
    assert job.status == "failed" and job.error is not None and job.error["code"] == "job_interrupted"
    assert job.expires_at is not None and not survivor.upload_path(job_id).exists()


def test_a_claim_left_by_an_earlier_process_with_the_same_pid_is_recovered(tmp_path: Path) -> None:
    """In a container the restarted server often gets the pid of the one that died (pid 1)."""
    old = JobStore(tmp_path, 60)
    job_id = old.create("ocr", b"x", spec=None, profile="p", name="").id
    assert old.claim() is not None
    new = JobStore(tmp_path, 60)
    assert new.recover() == (0, 0), "the old store is still open in this process: its claim stands"
    old.close()  # what a restart amounts to: the same pid, another owner token
    assert new.recover() == (1, 0)
    assert new.get(job_id).status == "queued"


def test_a_finished_job_is_recorded_only_by_its_owner(tmp_path: Path) -> None:
    first, second = JobStore(tmp_path, 60), JobStore(tmp_path, 60)
    job_id = first.create("ocr", b"x", spec=None, profile="p", name="").id
    assert first.claim() is not None
    assert not second.finish(job_id, result={}, document={}, pages=0), "not its job"
    assert first.release(job_id), "handed back on shutdown"
    assert not first.finish(job_id, result={}, document={}, pages=0), "a job handed back is not finished later"
    assert first.get(job_id).status == "queued"


def test_the_default_data_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from chatocr.server.settings import default_data_dir

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "chatocr"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the XDG spec: relative paths are invalid
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "chatocr"

"""Jobs: submit, poll, page images, delete, expiry and failure."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
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

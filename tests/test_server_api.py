"""HTTP API: every status code, the API key, the error body shape and the logs.

The main app uses the real Extractor and OCR engine with a deterministic LLM backend
(``tests/schema_first_backend.py``); tests about queueing and backend failures inject a
small extractor whose behaviour the test controls.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageDraw

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

import schema_first_backend  # noqa: F401  (registers the "schema-first" backend)
from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.errors import BackendTimeoutError, BackendUnavailableError, OptionsError
from chatocr.fields.spec import Schema
from chatocr.io import load_pages
from chatocr.options import BackendOptions
from chatocr.result import ExtractionResult, FieldResult
from chatocr.server import ServerSettings, create_app, parse_backend_profile
from drawing import text_font


def receipt_png(lines: list[str] | None = None) -> bytes:
    lines = lines or ["SUNRISE MART", "DATE 2024-03-15", "TOTAL 42.80"]
    img = Image.new("RGB", (640, 80 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((30, 40 + 70 * i), text, fill="black", font=text_font(34))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes(pages: int) -> bytes:
    images = [Image.new("RGB", (400, 300), "white") for _ in range(pages)]
    for i, img in enumerate(images):
        ImageDraw.Draw(img).text((40, 120), f"PAGE {i + 1}", fill="black", font=text_font(40))
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


class QuickExtractor:
    """Decodes the upload exactly like the pipeline (so bad files fail the same way) but
    skips OCR: one fake line per page, and every field answered from it."""

    def __init__(self, options: Any) -> None:
        self.options = options

    def run(self, source: bytes, schema: Schema, name: str | None = None, progress: Any = None) -> ExtractionResult:
        pages = load_pages(source, self.options.ocr.limits)
        box = box_from_rect(10, 10, 60, 30)
        document = Document(
            file=name,
            pages=[
                Page(page=p.number, width=p.width, height=p.height, lines=[Line(text="quick", box=box, confidence=1)])
                for p in pages
            ],
        )
        fields = {n: FieldResult(value="quick", page=1, box=box, confidence=0.5) for n in schema.names}
        return ExtractionResult(file=name, fields=fields, document=document)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = ServerSettings(
        max_upload_mb=1.0,
        max_sync_pages=2,
        backends={"fake": BackendOptions(name="schema-first"), "other": BackendOptions(name="schema-first")},
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def png() -> bytes:
    return receipt_png()


def error_of(response: Any) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    return dict(body["error"])


# ----------------------------------------------------------------------------------- happy paths


def test_healthz_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["backends"] == ["fake", "other"]
    assert health["queue"]["capacity"] == 2 + 8
    paths = client.get("/openapi.json").json()["paths"]
    for path in ["/v1/extract", "/v1/ocr", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/templates", "/healthz"]:
        assert path in paths
    assert client.get("/docs").status_code == 200


def test_templates_lists_the_bundled_templates(client: TestClient) -> None:
    templates = {t["name"]: t for t in client.get("/v1/templates").json()["templates"]}
    assert templates["receipt"]["fields"] == ["company", "date", "address", "total"]
    assert "证书编号" in templates["certificate"]["fields"]


@pytest.mark.slow
def test_ocr_returns_lines_with_boxes(client: TestClient, png: bytes) -> None:
    response = client.post("/v1/ocr", files={"file": ("scan.png", png, "image/png")})
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["file"] == "scan.png"
    (page,) = record["pages"]
    text = " ".join(line["text"] for line in page["lines"])
    assert "TOTAL" in text and "42.80" in text
    for line in page["lines"]:
        assert len(line["box"]) == 4
        assert all(0 <= x <= page["width"] and 0 <= y <= page["height"] for x, y in line["box"])


@pytest.mark.slow
def test_extract_returns_grounded_fields(client: TestClient, png: bytes) -> None:
    response = client.post(
        "/v1/extract", files={"file": ("r.png", png, "image/png")}, data={"fields": "total,date", "backend": "other"}
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["file"] == "r.png"
    assert list(record["fields"]) == ["total", "date"]
    for field in record["fields"].values():
        assert set(field) >= {"value", "raw", "confidence", "page", "box"}
        if field["value"] is not None:
            assert field["page"] == 1 and len(field["box"]) == 4


# ---------------------------------------------------------------------------------- 4xx statuses


def test_415_for_bytes_of_no_supported_format_whatever_the_name(client: TestClient) -> None:
    for name, data in [("photo.png", b"just some text, not an image"), ("doc.pdf", b"\x00\x01\x02" * 100)]:
        response = client.post("/v1/extract", files={"file": (name, data, "image/png")}, data={"fields": "total"})
        assert response.status_code == 415, response.text
        assert error_of(response)["code"] == "unsupported_format"
        assert client.post("/v1/ocr", files={"file": (name, data)}).status_code == 415


def test_422_for_a_supported_file_that_fails_to_decode(client: TestClient, png: bytes) -> None:
    truncated = client.post("/v1/ocr", files={"file": ("t.png", png[:300])})
    assert truncated.status_code == 422
    assert error_of(truncated)["code"] == "input_file"
    broken_pdf = client.post("/v1/extract", files={"file": ("b.pdf", b"%PDF-1.4\n garbage")}, data={"fields": "x"})
    assert broken_pdf.status_code == 422
    assert error_of(broken_pdf)["code"] == "input_file"


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({}, "exactly one"),
        ({"fields": "total", "template": "receipt"}, "exactly one"),
        ({"template": "no-such-template"}, "no-such-template"),
        ({"schema": "{not: [valid"}, "schema"),
        ({"schema": '{"fields": [{"name": "a", "type": "colour"}]}'}, "type"),
        ({"fields": " , "}, "empty"),
    ],
)
def test_422_for_a_bad_spec(client: TestClient, png: bytes, data: dict[str, str], needle: str) -> None:
    response = client.post("/v1/extract", files={"file": ("r.png", png)}, data=data)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "bad_field_spec"
    assert needle in error["message"]


def test_clients_cannot_choose_where_the_model_runs(client: TestClient, png: bytes) -> None:
    for extra in [{"base_url": "http://attacker.example/v1"}, {"model": "other-model"}]:
        response = client.post("/v1/extract", files={"file": ("r.png", png)}, data={"fields": "total", **extra})
        assert response.status_code == 422
        assert error_of(response)["code"] == "bad_options"
    unknown = client.post("/v1/extract", files={"file": ("r.png", png)}, data={"fields": "total", "backend": "gpt"})
    assert unknown.status_code == 422
    assert "fake, other" in error_of(unknown)["message"]


def test_413_by_content_length_before_reading_the_body(client: TestClient) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024)
    response = client.post("/v1/extract", files={"file": ("big.png", big)}, data={"fields": "total"})
    assert response.status_code == 413
    assert error_of(response)["code"] == "limit_exceeded"


def test_413_while_streaming_a_body_without_content_length(client: TestClient) -> None:
    boundary = "chatocrboundary"
    chunks_sent = 0

    def body() -> Iterator[bytes]:
        nonlocal chunks_sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        for _ in range(40):  # 40 x 64 KiB = 2.5 MiB, over the 1 MB limit
            chunks_sent += 1
            yield b"0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/v1/ocr", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "limit_exceeded"


def test_413_for_a_file_just_over_the_limit(client: TestClient) -> None:
    over = b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024)
    response = client.post("/v1/ocr", files={"file": ("over.png", over)})
    assert response.status_code == 413
    assert "1 MB" in error_of(response)["message"]


def test_413_for_long_pdfs_on_the_synchronous_endpoints(client: TestClient) -> None:
    response = client.post("/v1/extract", files={"file": ("long.pdf", pdf_bytes(3))}, data={"fields": "total"})
    assert response.status_code == 413
    assert "/v1/jobs" in error_of(response)["message"]


def test_unknown_routes_and_methods_use_the_same_error_shape(client: TestClient) -> None:
    assert error_of(client.get("/v1/nothing-here"))["code"] == "not_found"
    assert error_of(client.get("/v1/extract"))["code"] == "method_not_allowed"
    missing_file = client.post("/v1/extract", data={"fields": "total"})
    assert missing_file.status_code == 422
    assert error_of(missing_file)["code"] == "invalid_request"


# ------------------------------------------------------------------------------------- API key


def test_api_key_guards_v1_but_not_health_ui_or_static(png: bytes) -> None:
    settings = ServerSettings(api_key="s3cret-key", backends={"fake": BackendOptions(name="schema-first")})
    with TestClient(create_app(settings, extractor_factory=QuickExtractor)) as c:
        for headers in [
            {},
            {"Authorization": "Bearer wrong"},
            {"X-API-Key": "s3cret"},
            {"Authorization": "s3cret-key"},
        ]:
            response = c.get("/v1/templates", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert error_of(response)["code"] == "unauthorized"
        # Refused before the upload is read: even a bad upload gets 401, not 415.
        refused = c.post("/v1/extract", files={"file": ("x.png", b"not an image")}, data={"fields": "a"})
        assert refused.status_code == 401
        assert c.get("/v1/templates", headers={"Authorization": "Bearer s3cret-key"}).status_code == 200
        assert c.get("/v1/templates", headers={"X-API-Key": "s3cret-key"}).status_code == 200
        ok = c.post(
            "/v1/extract", files={"file": ("r.png", png)}, data={"fields": "total"}, headers={"X-API-Key": "s3cret-key"}
        )
        assert ok.status_code == 200
        assert c.get("/healthz").status_code == 200
        assert c.get("/").status_code == 200 and "<html" in c.get("/").text
        assert c.get("/static/app.js").status_code == 200
        assert c.get("/static/style.css").status_code == 200


def test_api_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATOCR_API_KEY", "from-env")
    assert ServerSettings.from_env().api_key == "from-env"
    monkeypatch.delenv("CHATOCR_API_KEY")
    assert ServerSettings.from_env().api_key is None


# ------------------------------------------------------------------------- 503 and backend errors


class BlockingExtractor(QuickExtractor):
    release = threading.Event()

    def run(self, source: bytes, schema: Schema, name: str | None = None, progress: Any = None) -> ExtractionResult:
        assert self.release.wait(30), "the test never released the worker"
        return super().run(source, schema, name)


def test_503_with_retry_after_when_the_queue_is_full(png: bytes) -> None:
    settings = ServerSettings(max_concurrency=1, max_queue=1, backends={"fake": BackendOptions(name="schema-first")})
    BlockingExtractor.release.clear()
    with TestClient(create_app(settings, extractor_factory=BlockingExtractor)) as c:
        first = c.post("/v1/jobs", files={"file": ("a.png", png)}, data={"fields": "total"})
        second = c.post("/v1/jobs", files={"file": ("b.png", png)}, data={"fields": "total"})
        assert first.status_code == second.status_code == 202
        deadline = time.time() + 10
        while c.get("/healthz").json()["queue"]["running"] != 1 and time.time() < deadline:
            time.sleep(0.05)
        full = c.post("/v1/extract", files={"file": ("c.png", png)}, data={"fields": "total"})
        assert full.status_code == 503
        assert error_of(full)["code"] == "queue_full"
        assert int(full.headers["Retry-After"]) >= 1
        assert c.post("/v1/jobs", files={"file": ("d.png", png)}, data={"fields": "total"}).status_code == 503
        BlockingExtractor.release.set()
        for job in (first.json()["id"], second.json()["id"]):
            assert wait_for_job(c, job)["status"] == "done"
        # Capacity is back once the work is done.
        assert c.post("/v1/extract", files={"file": ("e.png", png)}, data={"fields": "total"}).status_code == 200


class FailingExtractor(QuickExtractor):
    def run(self, source: bytes, schema: Schema, name: str | None = None, progress: Any = None) -> ExtractionResult:
        if self.options.backend.base_url == "http://unreachable:1/v1":
            raise BackendUnavailableError("could not connect to the language-model server")
        raise BackendTimeoutError("the language-model server did not answer within 1 s")


@pytest.mark.parametrize(
    ("profile", "status", "code"), [("down", 502, "backend_unavailable"), ("slow", 504, "backend_timeout")]
)
def test_backend_failures_map_to_502_and_504(png: bytes, profile: str, status: int, code: str) -> None:
    backends = dict(
        parse_backend_profile(spec)
        for spec in ["down=openai,base_url=http://unreachable:1/v1", "slow=openai,base_url=http://slow:1/v1"]
    )
    with TestClient(create_app(ServerSettings(backends=backends), extractor_factory=FailingExtractor)) as c:
        response = c.post("/v1/extract", files={"file": ("a.png", png)}, data={"fields": "total", "backend": profile})
        assert response.status_code == status
        assert error_of(response)["code"] == code


def test_backend_profiles_parse_and_reject_unknown_keys() -> None:
    name, options = parse_backend_profile("big=openai,model=qwen2.5-7b,base_url=http://10.0.0.5:8000/v1,timeout_s=30")
    assert (name, options.name, options.model, options.base_url, options.timeout_s) == (
        "big",
        "openai",
        "qwen2.5-7b",
        "http://10.0.0.5:8000/v1",
        30.0,
    )
    assert parse_backend_profile("local")[0] == "local"
    with pytest.raises(OptionsError):
        parse_backend_profile("x=openai,api_key=sk-123")
    with pytest.raises(OptionsError):
        ServerSettings(max_concurrency=0)


# -------------------------------------------------------------------------------------- logging


def wait_for_job(c: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = c.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.mark.slow
def test_logs_never_hold_field_values_or_document_text(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    secret_lines = ["ZEPHYR QUARTZ LTD", "INVOICE NO 77341", "TOTAL 913.47"]
    document = receipt_png(secret_lines)
    with caplog.at_level(logging.DEBUG):
        sync = client.post(
            "/v1/extract", files={"file": ("secret.png", document)}, data={"fields": "company,invoice no,total"}
        )
        job_id = client.post("/v1/jobs", files={"file": ("secret.png", document)}, data={"template": "receipt"}).json()[
            "id"
        ]
        job = wait_for_job(client, job_id)
    assert sync.status_code == 200 and job["status"] == "done"
    ocr_text = [line["text"] for page in job["document"]["pages"] for line in page["lines"]]
    values = [f["value"] for f in sync.json()["fields"].values() if f["value"]]
    values += [f["value"] for f in job["result"]["fields"].values() if f["value"]]
    assert any("913" in text for text in ocr_text), ocr_text  # the document was really read
    assert job_id in caplog.text  # and the server did log the request
    for secret in [*ocr_text, *values, "ZEPHYR", "77341", "913.47", "secret.png"]:
        assert secret not in caplog.text, f"{secret!r} leaked into the logs"


def test_models_load_once_per_backend_profile(png: bytes) -> None:
    created: list[str | None] = []

    def factory(options: Any) -> QuickExtractor:
        created.append(options.backend.model)
        return QuickExtractor(options)

    backends = dict(parse_backend_profile(s) for s in ["a=schema-first,model=m1", "b=schema-first,model=m2"])
    with TestClient(create_app(ServerSettings(backends=backends), extractor_factory=factory)) as c:
        for profile in ["a", "a", "b", "a", "b", ""]:
            data = {"fields": "total", "backend": profile}
            assert c.post("/v1/extract", files={"file": ("r.png", png)}, data=data).status_code == 200
        job = c.post("/v1/jobs", files={"file": ("r.png", png)}, data={"fields": "total", "backend": "b"}).json()
        assert wait_for_job(c, job["id"])["status"] == "done"
    assert created == ["m1", "m2"]


def test_schema_as_text_or_as_an_uploaded_file(png: bytes) -> None:
    schema = "fields:\n  - name: total\n    type: amount\n  - name: 开票日期\n    type: date\n"
    with TestClient(create_app(ServerSettings(), extractor_factory=QuickExtractor)) as c:
        as_text = c.post("/v1/extract", files={"file": ("r.png", png)}, data={"schema": schema})
        as_file = c.post("/v1/extract", files={"file": ("r.png", png), "schema": ("s.yaml", schema.encode())})
        as_json = c.post(
            "/v1/extract", files={"file": ("r.png", png)}, data={"schema": '{"fields": [{"name": "total"}]}'}
        )
    assert as_text.status_code == as_file.status_code == as_json.status_code == 200
    assert list(as_text.json()["fields"]) == list(as_file.json()["fields"]) == ["total", "开票日期"]
    assert list(as_json.json()["fields"]) == ["total"]


def test_openapi_documents_the_api_key(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert spec["paths"]["/v1/extract"]["post"]["security"] == [{"bearer": []}, {"apiKey": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_an_unknown_backend_fails_at_start_up() -> None:
    with pytest.raises(OptionsError, match="nosuch"):
        create_app(ServerSettings(backends=dict([parse_backend_profile("x=nosuch")])))

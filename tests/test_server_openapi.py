"""The OpenAPI document describes every response, and every error code the server sends is
one of chatocr.errors' codes, listed by `chatocr errors`."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import schema_first_backend  # noqa: F401  (registers the "schema-first" backend)
from chatocr.cli import _load_commands
from chatocr.cli.app import app as cli_app
from chatocr.document import Line, box_from_rect
from chatocr.engines import ENGINES, OcrEngine, clear_engine_cache
from chatocr.errors import all_error_classes
from chatocr.fields.spec import Schema
from chatocr.options import BackendOptions, OcrOptions
from chatocr.result import ExtractionResult
from chatocr.server import ServerSettings, create_app
from chatocr.server.handlers import HTTP_STATUS_ERRORS
from chatocr.server.schemas import ERROR_CODES, ErrorResponse, ExtractionRecord, Health, JobRecord, OcrRecord, Templates
from test_server_api import BlockingExtractor, QuickExtractor, pdf_bytes, receipt_png, wait_for_job

SERVER_SRC = Path(__file__).resolve().parents[1] / "src" / "chatocr" / "server"


class _OneLineEngine(OcrEngine):
    name = "one-line-openapi"

    def __init__(self, options: OcrOptions | None = None) -> None:
        pass

    def recognize(self, image: np.ndarray) -> list[Line]:
        return [Line(text="PAGE", box=box_from_rect(0, 0, 10, 10), confidence=0.9)]


@pytest.fixture(scope="module")
def client() -> Any:
    ENGINES.register("one-line-openapi", "test engine")(_OneLineEngine)
    clear_engine_cache()
    settings = ServerSettings(
        max_upload_mb=1.0,
        ocr=OcrOptions(engine="one-line-openapi", orientation=False),
        backends={"fake": BackendOptions(name="schema-first")},
    )
    try:
        with TestClient(create_app(settings, extractor_factory=QuickExtractor)) as test_client:
            yield test_client
    finally:
        ENGINES.unregister("one-line-openapi")
        clear_engine_cache()


def test_every_route_and_status_has_a_response_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]
    assert len(operations) == 8
    for path, method, operation in operations:
        statuses = set(operation["responses"])
        assert "500" in statuses, (path, method)
        if path.startswith("/v1/"):
            assert "401" in statuses, (path, method)
        for status, response in operation["responses"].items():
            if status == "204":
                assert "content" not in response
                continue
            content = response.get("content")
            assert content, f"{method.upper()} {path} {status} has no body schema"
            (media,) = content.values()
            schema = media["schema"]
            assert schema.get("$ref") or schema.get("type"), f"{method.upper()} {path} {status}: {schema}"
            if status.startswith(("4", "5")):
                assert schema["$ref"] == "#/components/schemas/ErrorResponse", (path, method, status)


def test_the_success_bodies_name_their_models(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    def model(path: str, method: str, status: str) -> str:
        schema = paths[path][method]["responses"][status]["content"]["application/json"]["schema"]
        return str(schema["$ref"]).rsplit("/", 1)[-1]

    assert model("/healthz", "get", "200") == "Health"
    assert model("/v1/templates", "get", "200") == "Templates"
    assert model("/v1/ocr", "post", "200") == "OcrRecord"
    assert model("/v1/extract", "post", "200") == "ExtractionRecord"
    assert model("/v1/jobs", "post", "202") == "JobCreated"
    assert model("/v1/jobs/{job_id}", "get", "200") == "JobRecord"
    png = paths["/v1/jobs/{job_id}/pages/{number}.png"]["get"]["responses"]["200"]["content"]
    assert set(png) == {"image/png"}


def test_the_error_schema_lists_exactly_the_codes_of_chatocr_errors(client: TestClient) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    assert sorted(components["ErrorDetail"]["properties"]["code"]["enum"]) == sorted(
        {cls.code for cls in all_error_classes()}
    )


def test_real_bodies_match_their_models(client: TestClient) -> None:
    Health.model_validate(client.get("/healthz").json())
    Templates.model_validate(client.get("/v1/templates").json())
    OcrRecord.model_validate(client.post("/v1/ocr", files={"file": ("a.pdf", pdf_bytes(2))}).json())
    extracted = client.post("/v1/extract", files={"file": ("r.png", receipt_png())}, data={"fields": "total,date"})
    assert list(ExtractionRecord.model_validate(extracted.json()).fields) == ["total", "date"]
    for data in ({"fields": "total"}, {"kind": "ocr"}):
        job_id = client.post("/v1/jobs", files={"file": ("r.png", receipt_png())}, data=data).json()["id"]
        record = JobRecord.model_validate(wait_for_job(client, job_id))
        assert record.status == "done" and record.page_images
    failed = client.post("/v1/jobs", files={"file": ("t.png", receipt_png()[:400])}, data={"fields": "t"}).json()
    record = JobRecord.model_validate(wait_for_job(client, failed["id"]))
    assert record.status == "failed" and record.error is not None and record.error.code == "input_file"
    ErrorResponse.model_validate(client.get("/v1/jobs/nope").json())


class _BrokenExtractor(QuickExtractor):
    def run(self, source: bytes, schema: Schema, name: str | None = None, progress: Any = None) -> ExtractionResult:
        raise RuntimeError("a bug")


def test_every_code_the_server_sends_is_in_chatocr_errors(client: TestClient) -> None:
    png = receipt_png()
    sent: dict[str, int] = {}

    def record(response: Any) -> None:
        body = ErrorResponse.model_validate(response.json())
        sent[body.error.code] = response.status_code

    record(client.get("/v1/no-such-route"))  # 404
    record(client.get("/v1/extract"))  # 405
    record(client.post("/v1/extract", data={"fields": "total"}))  # 422: no file part
    record(client.post("/v1/ocr", content=b"garbage", headers={"Content-Type": "multipart/form-data; boundary=x"}))
    record(client.post("/v1/ocr", files={"file": ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 2_000_000)}))  # 413
    record(client.post("/v1/ocr", files={"file": ("x.png", b"not an image")}))  # 415
    record(client.post("/v1/extract", files={"file": ("r.png", png)}, data={}))  # spec
    record(client.post("/v1/extract", files={"file": ("r.png", png)}, data={"fields": "t", "model": "m"}))  # options
    record(client.get("/v1/jobs/no-such-job/pages/1.png"))
    settings = ServerSettings(
        api_key="k", max_concurrency=1, max_queue=0, backends={"f": BackendOptions(name="schema-first")}
    )
    with TestClient(create_app(settings, extractor_factory=_BrokenExtractor), raise_server_exceptions=False) as keyed:
        record(keyed.get("/v1/templates"))  # 401
        record(
            keyed.post("/v1/extract", files={"file": ("r.png", png)}, data={"fields": "t"}, headers={"X-API-Key": "k"})
        )
    BlockingExtractor.release.clear()
    busy = ServerSettings(max_concurrency=1, max_queue=0, backends={"f": BackendOptions(name="schema-first")})
    with TestClient(create_app(busy, extractor_factory=BlockingExtractor)) as c:
        first = threading.Thread(
            target=lambda: c.post("/v1/extract", files={"file": ("r.png", png)}, data={"fields": "t"})
        )
        first.start()
        wait = 0
        while c.get("/healthz").json()["queue"]["running"] != 1 and wait < 600:
            threading.Event().wait(0.05)
            wait += 1
        record(c.post("/v1/jobs", files={"file": ("r.png", png)}, data={"fields": "t"}))  # 503
        BlockingExtractor.release.set()
        first.join()

    assert {"not_found", "method_not_allowed", "invalid_request", "bad_request", "limit_exceeded"} <= set(sent)
    assert {"unsupported_format", "bad_field_spec", "bad_options", "unauthorized", "internal_error"} <= set(sent)
    assert sent["queue_full"] == 503 and sent["internal_error"] == 500 and sent["bad_request"] == 400
    _load_commands()
    table = CliRunner().invoke(cli_app, ["errors"]).stdout
    for code in sent:
        assert f"`{code}`" in table, f"{code} is not in `chatocr errors`"
    for cls in HTTP_STATUS_ERRORS.values():
        assert cls in all_error_classes() and cls.code in ERROR_CODES


def test_no_error_code_is_written_as_a_literal_in_the_server() -> None:
    """Codes come from the error classes (``error.to_dict()``); a literal would bypass the table."""
    literal = re.compile(r"""["']code["']\s*:\s*["'][a-z_]+["']""")
    for source in SERVER_SRC.rglob("*.py"):
        assert not literal.search(source.read_text(encoding="utf-8")), f"{source.name} writes an error code literally"

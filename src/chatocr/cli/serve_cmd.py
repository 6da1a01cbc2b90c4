"""`chatocr serve`: the HTTP API and the web UI."""

from __future__ import annotations

from typing import Annotated

import typer

from chatocr.cli.app import app, fail, stderr
from chatocr.errors import ChatOCRError, MissingDependencyError, OptionsError


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="address to listen on (keep 127.0.0.1 unless behind a proxy)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    max_concurrency: Annotated[int, typer.Option(help="worker threads doing OCR and inference")] = 2,
    max_queue: Annotated[int, typer.Option(help="requests that may wait for a worker; more get 503")] = 8,
    max_upload_mb: Annotated[float, typer.Option(help="largest upload; larger ones get 413")] = 20.0,
    retention_s: Annotated[float, typer.Option(help="seconds a finished job's upload and result are kept")] = 900.0,
    max_sync_pages: Annotated[int, typer.Option(help="most pages for /v1/extract and /v1/ocr; longer: /v1/jobs")] = 4,
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend",
            help="allowed backend profile [NAME=]BACKEND[,model=M][,base_url=U]; repeat for more; the first is the"
            " default. Clients may only pick one of these names.",
        ),
    ] = None,
    engine: Annotated[str, typer.Option(help="OCR engine (see `chatocr engines`)")] = "rapidocr",
    preload: Annotated[bool, typer.Option("--preload/--no-preload", help="load the models before serving")] = True,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the HTTP API (/v1, OpenAPI docs at /docs) and the web UI (/).

    Set CHATOCR_API_KEY to require `Authorization: Bearer KEY` (or `X-API-Key`) on /v1.
    """
    try:
        import uvicorn

        from chatocr.options import OcrOptions
        from chatocr.server import ServerSettings, create_app, parse_backend_profile
    except ImportError as exc:
        raise fail(
            MissingDependencyError("the server needs the 'serve' extra", hint="pip install 'chatocr[serve]'")
        ) from exc

    try:
        profiles = dict(parse_backend_profile(spec) for spec in (backend or ["local"]))
        settings = ServerSettings.from_env(
            host=host,
            port=port,
            max_concurrency=max_concurrency,
            max_queue=max_queue,
            max_upload_mb=max_upload_mb,
            retention_s=retention_s,
            max_sync_pages=max_sync_pages,
            backends=profiles,
            ocr=OcrOptions.model_validate({"engine": engine}),
            preload=preload,
        )
        application = create_app(settings)
    except ChatOCRError as exc:
        raise fail(exc) from None
    except ValueError as exc:  # pydantic: a bad option value
        raise fail(OptionsError(str(exc))) from None
    stderr.print(
        f"chatocr serving on http://{host}:{port}/ (API docs /docs; key {'required' if settings.api_key else 'off'})"
    )
    uvicorn.run(application, host=host, port=port, log_level=log_level)

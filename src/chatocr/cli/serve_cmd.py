"""`chatocr serve`: the HTTP API and the web UI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="where jobs and their uploads are kept (SQLite + files); default: $XDG_DATA_HOME/chatocr or"
            " ~/.local/share/chatocr. Several servers on one machine may share it.",
        ),
    ] = None,
    grace_s: Annotated[
        float, typer.Option(help="on SIGTERM, seconds running jobs may take to finish before they are requeued")
    ] = 30.0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the HTTP API (/v1, OpenAPI docs at /docs) and the web UI (/).

    Set CHATOCR_API_KEY to require `Authorization: Bearer KEY` (or `X-API-Key`) on /v1.
    Accepted jobs are kept in --data-dir: after a crash or a restart, queued and interrupted
    jobs run again. SIGTERM stops taking work and waits --grace-s for running jobs.
    """
    try:
        import uvicorn

        from chatocr.options import OcrOptions
        from chatocr.server import ServerSettings, create_app, parse_backend_profile
        from chatocr.server.settings import default_data_dir
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
            data_dir=data_dir or default_data_dir(),
            grace_s=grace_s,
        )
        application = create_app(settings)
    except ChatOCRError as exc:
        raise fail(exc) from None
    except ValueError as exc:  # pydantic: a bad option value
        raise fail(OptionsError(str(exc))) from None
    stderr.print(
        f"chatocr serving on http://{host}:{port}/ (API docs /docs; key {'required' if settings.api_key else 'off'};"
        f" jobs in {settings.data_dir})"
    )
    runner = application.state.chatocr.runner

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            runner.stop_claiming()  # at once: the grace period is for jobs already running
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        application, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=int(grace_s) or None
    )
    Server(config).run()

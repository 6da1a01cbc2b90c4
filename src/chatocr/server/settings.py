"""Server settings, fixed when the server starts.

Clients never choose where the language model runs: the server starts with an
allow-list of named backend profiles (``--backend``) and a request may only pick
one of those names.  A profile is written ``[NAME=]BACKEND[,model=M][,base_url=U][,timeout_s=S]``,
for example ``local`` or ``big=openai,model=qwen2.5-7b,base_url=http://10.0.0.5:8000/v1``.
The first profile is the default.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatocr.errors import OptionsError
from chatocr.options import BackendOptions, ExtractOptions, OcrOptions

API_KEY_ENV = "CHATOCR_API_KEY"

# Backend option keys a profile may set (everything else stays at the defaults).
_PROFILE_KEYS = {"model", "base_url", "api_key_env", "timeout_s", "max_retries", "n_threads"}


def default_data_dir() -> Path:
    """Where `chatocr serve` keeps its jobs unless told: the user's data directory.

    ``$XDG_DATA_HOME/chatocr`` (default ``~/.local/share/chatocr``); ``%LOCALAPPDATA%\\chatocr``
    on Windows; ``~/Library/Application Support/chatocr`` on macOS.
    """
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "chatocr"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "chatocr"
    base = os.environ.get("XDG_DATA_HOME") or ""
    return (Path(base) if Path(base).is_absolute() else Path.home() / ".local" / "share") / "chatocr"


def parse_backend_profile(spec: str) -> tuple[str, BackendOptions]:
    """``"big=openai,model=m,base_url=http://h/v1"`` -> ("big", BackendOptions(name="openai", ...))."""
    spec = spec.strip()
    if not spec:
        raise OptionsError("empty --backend profile")
    head, *pairs = [part.strip() for part in spec.split(",")]
    profile, _, backend = head.partition("=")
    if not backend:
        profile, backend = head, head
    values: dict[str, Any] = {"name": backend.strip()}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in _PROFILE_KEYS:
            raise OptionsError(
                f"bad --backend profile {spec!r}: {pair!r}",
                hint=f"use key=value with keys {', '.join(sorted(_PROFILE_KEYS))}",
            )
        values[key] = value.strip()
    try:
        options = BackendOptions.model_validate(values)
    except Exception as exc:  # pydantic's message names the bad key
        raise OptionsError(f"bad --backend profile {spec!r}: {exc}") from None
    return profile.strip(), options


@dataclass
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    # Worker threads doing CPU work (OCR, local inference); requests beyond them wait in the queue.
    max_concurrency: int = 2
    # Requests (and jobs) allowed to wait for a worker; one more gets 503 + Retry-After.
    max_queue: int = 8
    max_upload_mb: float = 20.0
    # Seconds a finished job (its upload, page images and result) is kept before it is purged.
    retention_s: float = 900.0
    # Synchronous /v1/extract and /v1/ocr accept at most this many pages; longer PDFs go through /v1/jobs.
    max_sync_pages: int = 4
    # Named backend profiles clients may choose from; the first is the default.
    backends: dict[str, BackendOptions] = field(default_factory=lambda: {"local": BackendOptions.model_validate({})})
    ocr: OcrOptions = field(default_factory=lambda: OcrOptions.model_validate({}))
    extract: ExtractOptions = field(default_factory=lambda: ExtractOptions.model_validate({}))
    api_key: str | None = None
    # Load the OCR engine and the default backend's model at start-up rather than on the first request.
    preload: bool = False
    # The job store (SQLite) and the uploads.  None: a temporary directory removed at shutdown,
    # so jobs do not outlive the process (tests, embedding); `chatocr serve` passes default_data_dir().
    data_dir: Path | None = None
    # On shutdown (SIGTERM): seconds running jobs may take to finish before they go back to the queue.
    grace_s: float = 30.0
    # How often each process looks for jobs queued by other processes or left by a dead one.
    poll_s: float = 0.5
    # A claim not renewed for this long is taken back (its process hung or died on another pid namespace).
    lease_s: float = 30.0
    # A job whose runs were all interrupted (the server died each time) fails after this many.
    max_attempts: int = 3
    # An upload that sends nothing for upload_idle_s, or takes longer than upload_timeout_s in all, ends with 408.
    upload_idle_s: float = 15.0
    upload_timeout_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise OptionsError("--max-concurrency must be at least 1")
        if self.max_queue < 0:
            raise OptionsError("--max-queue must be 0 or more")
        if self.max_upload_mb <= 0:
            raise OptionsError("--max-upload-mb must be positive")
        if self.retention_s <= 0:
            raise OptionsError("--retention-s must be positive")
        if self.upload_idle_s <= 0 or self.upload_timeout_s <= 0:
            raise OptionsError("upload_idle_s and upload_timeout_s must be positive")
        if not self.backends:
            raise OptionsError("at least one --backend profile is needed")
        if self.grace_s < 0:
            raise OptionsError("--grace-s must be 0 or more")
        if self.poll_s <= 0 or self.lease_s <= 0 or self.max_attempts < 1:
            raise OptionsError("poll_s and lease_s must be positive and max_attempts at least 1")
        if self.data_dir is not None:
            self.data_dir = Path(self.data_dir).expanduser()

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def default_backend(self) -> str:
        return next(iter(self.backends))

    @classmethod
    def from_env(cls, **kwargs: Any) -> ServerSettings:
        """Settings with the API key taken from ``CHATOCR_API_KEY`` unless given."""
        kwargs.setdefault("api_key", os.environ.get(API_KEY_ENV) or None)
        return cls(**kwargs)

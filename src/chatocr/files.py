"""Durable file writes shared by every layer that must lose nothing when killed.

- ``atomic_write_bytes`` / ``atomic_write_text``: write a temporary file beside the target
  and rename it over the target, so a reader never sees half a file.
- ``append_jsonl`` / ``trim_partial_line``: append-only JSON Lines records (batch results,
  evaluation predictions).  Each record is one ``write`` on an ``O_APPEND`` descriptor,
  fsynced; a run killed mid-write leaves at most one partial last line, which the next
  run trims before appending.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

# Lone surrogates: how Python holds the undecodable bytes of a file name (b"r\xff.jpg" -> "r\udcff.jpg").
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_line(record: Any) -> str:
    """One JSON object as one line of valid UTF-8 text, whatever its strings hold.

    Non-ASCII text stays readable; a file name's undecodable bytes (surrogate-escaped by
    Python) are written as ``\\udcXX`` escapes, which ``json.loads`` turns back into the same
    name, instead of invalid UTF-8 or a UnicodeEncodeError.
    """
    text = json.dumps(record, ensure_ascii=False)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def display_name(name: str) -> str:
    """A file name for messages and CSV cells: undecodable bytes shown as \\xNN."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file-name byte makes
        return name.encode("utf-8", "backslashreplace").decode("ascii")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; outputs are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """Append one record as one line in a single write, flushed to disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json_line(record) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def trim_partial_line(path: str | Path) -> None:
    """Cut a last line left half-written by a killed run, so appends start on a fresh line."""
    path = Path(path)
    if not path.is_file():
        return
    with path.open("rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)

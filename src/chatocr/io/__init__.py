"""Loading: any supported input (path or bytes) -> upright-ready page inputs.

One API, :func:`load_pages`, used by every entry point (library, CLI, server, batch).
"""

from __future__ import annotations

from chatocr.io.loader import PageInput, detect_format, load_pages

__all__ = ["PageInput", "detect_format", "load_pages"]

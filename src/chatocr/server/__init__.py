"""The HTTP API and the web UI (`chatocr serve`).

Web UI choice: the page at ``/`` is plain HTML, CSS and JavaScript in
``server/static/``, served by this same FastAPI app; there is no Gradio and no build
step.  Reasons: it adds no dependency (Gradio alone pulls in a large stack with its
own pinned FastAPI and front-end bundle), it works fully offline with no CDN, it uses
exactly the public JSON API (``/v1/jobs``, page images, templates) and the same API
key as any other client, so testing the UI also tests the API, and drawing the OCR
boxes and highlighting a field's box is a few lines of SVG over the page image,
which a generic component library does not do out of the box.
"""

from __future__ import annotations

from chatocr.server.app import create_app
from chatocr.server.settings import ServerSettings, parse_backend_profile

__all__ = ["ServerSettings", "create_app", "parse_backend_profile"]

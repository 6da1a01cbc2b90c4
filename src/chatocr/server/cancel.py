"""Cooperative cancellation of the work behind one HTTP request.

The request guard (:class:`chatocr.server.middleware.RequestGuardMiddleware`) gives every
request a :class:`threading.Event` in a context variable and sets it when the client goes
away before its answer was sent.  :meth:`WorkQueue.run` runs the request's work in a copy of
the request's context, so the worker thread sees the same event; the service checks it
between pages and stages (:func:`check_cancelled`) and stops with
:class:`~chatocr.errors.CancelledError`.  Work that has not started yet is dropped from the
queue when the request's task is cancelled.  Jobs are not tied to a connection: they run
in the job runner's own context, where no event is set.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar

from chatocr.errors import CancelledError

_EVENT: ContextVar[threading.Event | None] = ContextVar("chatocr_request_cancelled", default=None)


def new_request_event() -> threading.Event:
    """A fresh event for the current request's context (set when its client leaves)."""
    event = threading.Event()
    _EVENT.set(event)
    return event


def check_cancelled() -> None:
    """Raise CancelledError when the client of the request this work belongs to went away."""
    event = _EVENT.get()
    if event is not None and event.is_set():
        raise CancelledError("the client closed the connection; its request's work was stopped")

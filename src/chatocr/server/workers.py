"""A bounded pool for CPU work: ``max_concurrency`` threads plus a queue of ``max_queue``.

OCR (onnxruntime) and llama.cpp release the GIL, so threads overlap real work while
sharing one copy of each loaded model.  When every worker is busy and the queue is
full, :meth:`WorkQueue.submit` refuses at once with :class:`QueueFullError` carrying a
``retry_after`` estimate instead of letting requests pile up without bound.

The queued jobs of the job store count against the same capacity (``backlog``), so a
client is refused with 503 whether it asks for a synchronous answer or a job.  The
threads are daemon threads: a shutdown that has waited its grace period for a running
job is not held up by it (the job goes back to the store's queue instead).
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from chatocr.errors import QueueFullError

T = TypeVar("T")

_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class WorkQueue:
    def __init__(self, max_concurrency: int, max_queue: int, *, on_idle: Callable[[], None] | None = None) -> None:
        self.max_concurrency = max_concurrency
        self.capacity = max_concurrency + max_queue
        self.on_idle = on_idle
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0
        self._running = 0
        # Exponential moving average of task duration, for the Retry-After estimate.
        self._avg_seconds = 2.0
        self._threads = [
            threading.Thread(target=self._work, name=f"chatocr-worker-{i}", daemon=True) for i in range(max_concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def stats(self, backlog: int = 0) -> dict[str, int]:
        with self._lock:
            return {
                "running": self._running,
                "queued": self._pending - self._running + backlog,
                "capacity": self.capacity,
                "workers": self.max_concurrency,
            }

    def idle_workers(self) -> int:
        with self._lock:
            return max(0, self.max_concurrency - self._pending)

    def retry_after_s(self, backlog: int = 0) -> int:
        with self._lock:
            waves = max(1, math.ceil((self._pending + backlog) / self.max_concurrency))
            return max(1, math.ceil(waves * self._avg_seconds))

    def admit(self, backlog: int = 0) -> None:
        """Raise QueueFullError unless one more piece of work fits beside ``backlog`` queued jobs."""
        with self._lock:
            full = self._pending + backlog >= self.capacity
        if full:
            error = QueueFullError(
                f"the server is busy ({self.capacity} requests and jobs running or queued)",
                hint="retry after a few seconds",
            )
            error.retry_after = self.retry_after_s(backlog)  # type: ignore[attr-defined]
            raise error

    def submit(self, fn: Callable[..., T], *args: Any, backlog: int = 0, force: bool = False) -> Future[T]:
        """Queue ``fn(*args)``; raise QueueFullError when the queue is full (unless ``force``)."""
        with self._lock:
            if force or self._pending + backlog < self.capacity:
                self._pending += 1
                accepted = True
            else:
                accepted = False
        if not accepted:
            self.admit(backlog)  # raises with the Retry-After estimate
        future: Future[T] = Future()
        self._tasks.put((future, fn, args))
        return future

    async def run(self, fn: Callable[..., T], *args: Any, backlog: int = 0) -> T:
        """Run ``fn(*args)`` on a worker and await its result.  The work runs in a copy of the
        caller's context, so it sees the request's cancellation event (server/cancel.py)."""
        context = contextvars.copy_context()
        return await asyncio.wrap_future(self.submit(context.run, fn, *args, backlog=backlog))

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            future, fn, args = task
            started = time.perf_counter()
            if future.set_running_or_notify_cancel():
                with self._lock:
                    self._running += 1
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:
                    future.set_exception(exc)
                finally:
                    with self._lock:
                        self._running -= 1
                        self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * (time.perf_counter() - started)
            with self._lock:
                self._pending -= 1
            if self.on_idle is not None:
                self.on_idle()

    def shutdown(self) -> None:
        """Cancel what has not started and let the threads end after their current task."""
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
                with self._lock:
                    self._pending -= 1
        for _ in self._threads:
            self._tasks.put(None)

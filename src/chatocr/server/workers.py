"""A bounded pool for CPU work: ``max_concurrency`` threads plus a queue of ``max_queue``.

OCR (onnxruntime) and llama.cpp release the GIL, so threads overlap real work while
sharing one copy of each loaded model.  When every worker is busy and the queue is
full, :meth:`WorkQueue.submit` refuses at once with :class:`QueueFullError` carrying a
``retry_after`` estimate instead of letting requests pile up without bound.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from chatocr.errors import QueueFullError

T = TypeVar("T")


class WorkQueue:
    def __init__(self, max_concurrency: int, max_queue: int) -> None:
        self.max_concurrency = max_concurrency
        self.capacity = max_concurrency + max_queue
        self._executor = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="chatocr-worker")
        self._lock = threading.Lock()
        self._pending = 0
        self._running = 0
        # Exponential moving average of task duration, for the Retry-After estimate.
        self._avg_seconds = 2.0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "running": self._running,
                "queued": self._pending - self._running,
                "capacity": self.capacity,
                "workers": self.max_concurrency,
            }

    def retry_after_s(self) -> int:
        with self._lock:
            waves = max(1, math.ceil(self._pending / self.max_concurrency))
            return max(1, math.ceil(waves * self._avg_seconds))

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``fn(*args)`` or raise QueueFullError when the queue is full."""
        with self._lock:
            full = self._pending >= self.capacity
            if not full:
                self._pending += 1
        if full:
            error = QueueFullError(
                f"the server is busy ({self.capacity} requests running or queued)", hint="retry after a few seconds"
            )
            error.retry_after = self.retry_after_s()  # type: ignore[attr-defined]
            raise error

        def task() -> T:
            started = time.perf_counter()
            with self._lock:
                self._running += 1
            try:
                return fn(*args)
            finally:
                elapsed = time.perf_counter() - started
                with self._lock:
                    self._running -= 1
                    self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * elapsed

        future = self._executor.submit(task)
        future.add_done_callback(self._release)
        return future

    def _release(self, _future: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on a worker and await its result."""
        return await asyncio.wrap_future(self.submit(fn, *args))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

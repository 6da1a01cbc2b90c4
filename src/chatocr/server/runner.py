"""The job runner: claims queued jobs from the store when a worker is free and runs them.

One dispatcher thread per process.  It wakes when a job is created here, when a worker
becomes idle, and every ``poll_s`` (to see jobs created by other processes sharing the
data directory and jobs left behind by a process that died).  Each maintenance round
renews this process's claims (heartbeat) and requeues the claims of dead processes.

Shutdown (SIGTERM): :meth:`stop_claiming` at once, then :meth:`stop` waits up to the
grace period for the running jobs and hands the unfinished ones back to the queue, where
the next process on the same directory (or this one, restarted) picks them up.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from typing import Any

from chatocr.errors import ChatOCRError, InternalError, OptionsError
from chatocr.fields.spec import Schema
from chatocr.server.jobs import Job, JobStore
from chatocr.server.service import ExtractionService
from chatocr.server.workers import WorkQueue

log = logging.getLogger("chatocr.server")


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        queue: WorkQueue,
        service: ExtractionService,
        *,
        poll_s: float = 0.5,
        grace_s: float = 30.0,
    ) -> None:
        self.store = store
        self.queue = queue
        self.service = service
        self.poll_s = poll_s
        self.grace_s = grace_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._stop_requested_at: float | None = None
        self._active: dict[str, Future[None]] = {}
        self._active_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------------------------------
    def start(self) -> None:
        requeued, failed = self.store.recover()
        if requeued or failed:
            log.info("recovered %d interrupted job(s); %d given up after too many attempts", requeued, failed)
        self._thread = threading.Thread(target=self._loop, name="chatocr-jobs", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop_claiming(self) -> None:
        """Take no more jobs from the queue (the first thing a SIGTERM does)."""
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self._stopping.set()
        self._wake.set()

    def stop(self) -> None:
        """Stop claiming, wait for running jobs until the grace period ends, requeue the rest."""
        self.stop_claiming()
        if self._thread is not None:
            self._thread.join()
        with self._active_lock:
            active = dict(self._active)
        if active:
            assert self._stop_requested_at is not None
            remaining = max(0.0, self._stop_requested_at + self.grace_s - time.monotonic())
            log.info("waiting up to %.0fs for %d running job(s)", remaining, len(active))
            wait_futures(list(active.values()), timeout=remaining)
        with self._active_lock:
            unfinished = list(self._active)
        for job_id in unfinished:
            if self.store.release(job_id):
                log.info("job %s not finished within the grace period: back in the queue", job_id)

    @property
    def running(self) -> int:
        with self._active_lock:
            return len(self._active)

    # -- the dispatcher ----------------------------------------------------------------------------
    def _loop(self) -> None:
        next_maintenance = time.monotonic() + self.poll_s
        heartbeat_every = self.store.lease_s / 3
        next_heartbeat = time.monotonic() + heartbeat_every
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                now = time.monotonic()
                if now >= next_heartbeat:
                    self.store.heartbeat()
                    next_heartbeat = now + heartbeat_every
                if now >= next_maintenance:
                    requeued, failed = self.store.recover()
                    if requeued or failed:
                        log.info("requeued %d job(s) of a stopped process; %d given up", requeued, failed)
                    next_maintenance = now + self.poll_s
                while not self._stopping.is_set() and self.queue.idle_workers() > 0:
                    job = self.store.claim()
                    if job is None:
                        break
                    future = self.queue.submit(self._run, job, force=True)
                    with self._active_lock:
                        self._active[job.id] = future
                    future.add_done_callback(functools.partial(self._forget, job.id))
            except sqlite3.Error as exc:  # a locked or busy database: try again on the next round
                log.warning("job store: %s", exc)
            self._wake.wait(self.poll_s)

    def _forget(self, job_id: str, _future: object = None) -> None:
        with self._active_lock:
            self._active.pop(job_id, None)

    # -- one job (on a worker thread) --------------------------------------------------------------
    def _run(self, job: Job) -> None:
        """Run a claimed job; failures are recorded on the job, never raised."""
        started = time.perf_counter()
        try:
            data = self.store.upload_path(job.id).read_bytes()
        except FileNotFoundError:
            self.store.finish(job.id, error=InternalError("the job's upload is missing").to_dict())
            return
        store = self.store

        def progress(fraction: float, stage: str) -> None:
            store.update(job.id, progress=0.05 + 0.85 * max(0.0, min(1.0, fraction)), stage=stage)

        try:
            store.update(job.id, progress=0.05, stage="reading")
            profile = self.service.profile(job.profile)
            answer: dict[str, Any]
            if job.kind == "extract":
                if job.spec is None:
                    raise OptionsError("an extract job needs a field spec")
                spec = Schema.model_validate_json(job.spec)
                store.update(job.id, progress=0.1, stage="extracting")
                result = self.service.extract(data, spec, profile, job.name, progress=progress)
                document = result.document or self.service.ocr(data, job.name)
                answer = result.export()
            else:
                store.update(job.id, progress=0.1, stage="ocr")
                document = self.service.ocr(data, job.name, progress=progress)
                answer = document.export()
            store.update(job.id, progress=0.92, stage="rendering pages")
            store.save_page_images(job.id, self.service.page_images(data, document))
            if store.finish(job.id, result=answer, document=document.export(), pages=len(document.pages)):
                log.info("job %s done: %d page(s), %.2fs", job.id, len(document.pages), time.perf_counter() - started)
            else:
                log.info("job %s finished after it was deleted or handed back: result dropped", job.id)
        except ChatOCRError as exc:
            store.finish(job.id, error=exc.to_dict())
            log.info("job %s failed: %s", job.id, exc.code)
        except Exception as exc:
            store.finish(job.id, error=InternalError("internal server error").to_dict())
            log.error("job %s failed: %s", job.id, exc.__class__.__name__, exc_info=exc)

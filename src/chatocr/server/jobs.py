"""Jobs: long documents processed in the background, polled by id, purged after retention.

A job holds its upload only until a worker has read it; the result and the page
images stay until ``retention_s`` after the job finished, or until the client
deletes it.  Everything lives in this process's memory: a restart forgets all jobs,
which is what a retention policy wants anyway.
"""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

from chatocr.errors import NotFoundError

JobStatus = Literal["queued", "running", "done", "failed"]


@dataclass
class Job:
    id: str
    kind: Literal["extract", "ocr"]
    created_at: float
    status: JobStatus = "queued"
    progress: float = 0.0
    stage: str = "queued"
    pages: int | None = None
    finished_at: float | None = None
    expires_at: float | None = None
    result: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    page_images: list[bytes] = field(default_factory=list)
    deleted: bool = False
    future: Future[Any] | None = None

    def public(self, *, base_url: str = "") -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 3),
            "stage": self.stage,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "expires_at": self.expires_at,
            "result": self.result,
            "error": self.error,
        }
        if self.status == "done":
            record["document"] = self.document
            record["page_images"] = [
                f"{base_url}/v1/jobs/{self.id}/pages/{n}.png" for n in range(1, len(self.page_images) + 1)
            ]
        return record


class JobStore:
    def __init__(self, retention_s: float) -> None:
        self.retention_s = retention_s
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def create(self, kind: Literal["extract", "ocr"]) -> Job:
        job = Job(id=secrets.token_urlsafe(12), kind=kind, created_at=time.time())
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job:
        self.purge_expired()
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.deleted:
            raise NotFoundError(f"no job {job_id!r}", hint="jobs are kept for a limited time after they finish")
        return job

    def delete(self, job_id: str) -> None:
        job = self.get(job_id)
        with self._lock:
            job.deleted = True
            self._jobs.pop(job_id, None)
        if job.future is not None:
            job.future.cancel()  # a queued job never starts; a running one finishes and is dropped
        self._forget(job)

    def update(self, job: Job, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)

    def finish(self, job: Job, **changes: Any) -> None:
        now = time.time()
        with self._lock:
            if job.deleted:
                return
            for key, value in changes.items():
                setattr(job, key, value)
            job.finished_at = now
            job.expires_at = now + self.retention_s

    def purge_expired(self) -> int:
        now = time.time()
        with self._lock:
            expired = [j for j in self._jobs.values() if j.expires_at is not None and j.expires_at <= now]
            for job in expired:
                del self._jobs[job.id]
        for job in expired:
            self._forget(job)
        return len(expired)

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)

    @staticmethod
    def _forget(job: Job) -> None:
        job.result = job.document = None
        job.page_images = []
        job.future = None

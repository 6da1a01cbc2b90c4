"""Jobs that outlive the process: a SQLite job store (WAL) and the uploads on disk.

The data directory holds::

    jobs.sqlite3            one row per job: status, progress, spec, result and document (JSON)
    jobs/<id>/upload        the uploaded document, written atomically before the job is accepted
    jobs/<id>/page-<n>.png  the page images of a finished job

A job goes queued -> running -> done | failed.  A process *claims* the oldest queued
job in one write transaction (``BEGIN IMMEDIATE``), so when several server processes
share a directory each job runs in one of them only.  The claim records the process's
owner token and pid and is renewed by a heartbeat; a job left ``running`` by a process
that is gone (its pid no longer exists, or it stopped renewing for ``lease_s``) goes
back to the queue and runs again, up to ``max_attempts`` times (then it fails with
``job_interrupted``, so a document that crashes the server cannot crash it forever).
Every write by a worker is conditional on still owning the job: a job deleted, or
handed back on shutdown, while it runs is dropped, never half-written.

Finished jobs stay until ``expires_at`` (finish + ``retention_s``), then they are
deleted with their files.  Times for retention come from ``clock`` (injectable for
tests); claims and heartbeats use the wall clock, which all processes share.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from chatocr.errors import JobInterruptedError, NotFoundError
from chatocr.files import atomic_write_bytes

JobKind = Literal["extract", "ocr"]
JobStatus = Literal["queued", "running", "done", "failed"]

DB_NAME = "jobs.sqlite3"

# Append-only: each entry moves the schema from version i to i + 1 (PRAGMA user_version).
_MIGRATIONS = [
    """
    CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        stage TEXT NOT NULL,
        progress REAL NOT NULL DEFAULT 0,
        spec TEXT,
        profile TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        expires_at REAL,
        owner TEXT,
        owner_pid INTEGER,
        heartbeat_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0,
        pages INTEGER,
        result TEXT,
        document TEXT,
        error TEXT
    );
    CREATE INDEX jobs_status ON jobs (status, seq);
    CREATE INDEX jobs_expires ON jobs (expires_at);
    """,
]

# Owner tokens of the stores open in this process: a claim by this pid under another token
# is a previous process's (pids are reused, e.g. pid 1 in a container) unless listed here.
_LIVE_OWNERS: set[str] = set()


@dataclass
class Job:
    id: str
    kind: JobKind
    status: JobStatus
    stage: str
    progress: float
    created_at: float
    profile: str
    name: str
    spec: str | None = None
    finished_at: float | None = None
    expires_at: float | None = None
    attempts: int = 0
    pages: int | None = None
    result: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    error: dict[str, str] | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(
            id=row["id"],
            kind=row["kind"],
            status=row["status"],
            stage=row["stage"],
            progress=row["progress"],
            created_at=row["created_at"],
            profile=row["profile"],
            name=row["name"],
            spec=row["spec"],
            finished_at=row["finished_at"],
            expires_at=row["expires_at"],
            attempts=row["attempts"],
            pages=row["pages"],
            result=json.loads(row["result"]) if row["result"] else None,
            document=json.loads(row["document"]) if row["document"] else None,
            error=json.loads(row["error"]) if row["error"] else None,
        )

    def public(self, *, base_url: str = "") -> dict[str, Any]:
        """The body of ``GET /v1/jobs/{id}`` (schema: :class:`chatocr.server.schemas.JobRecord`)."""
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
                f"{base_url}/v1/jobs/{self.id}/pages/{n}.png" for n in range(1, (self.pages or 0) + 1)
            ]
        return record


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


class JobStore:
    """The jobs of one data directory; safe to use from many threads and many processes."""

    def __init__(
        self,
        data_dir: str | Path,
        retention_s: float,
        *,
        clock: Callable[[], float] = time.time,
        lease_s: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.retention_s = retention_s
        self.clock = clock
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.owner = secrets.token_hex(8)
        self.files_dir = self.data_dir / "jobs"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        # Two connections in autocommit mode: writes take the database's write lock up front
        # (BEGIN IMMEDIATE) and wait up to 30 s for another process's write; reads never wait
        # for writers (WAL), so a poll answers at once whatever the workers are writing.
        self._lock = threading.Lock()
        self._db = self._connect()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._migrate()
        self._read_lock = threading.Lock()
        self._reader = self._connect()
        _LIVE_OWNERS.add(self.owner)

    # -- plumbing --------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.data_dir / DB_NAME, timeout=30.0, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=FULL")  # a 202 is a promise: the commit is on disk
        return db

    def _migrate(self) -> None:
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not durable:
                self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            finally:
                if not durable:
                    self._db.execute("PRAGMA synchronous=FULL")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def job_dir(self, job_id: str) -> Path:
        return self.files_dir / job_id

    def upload_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "upload"

    def page_path(self, job_id: str, number: int) -> Path:
        return self.job_dir(job_id) / f"page-{number}.png"

    def close(self) -> None:
        _LIVE_OWNERS.discard(self.owner)
        with self._lock, self._read_lock:
            self._db.close()
            self._reader.close()

    # -- the API's side --------------------------------------------------------------------------
    def create(self, kind: JobKind, upload: bytes, *, spec: str | None, profile: str, name: str) -> Job:
        """Write the upload, then the row: once this returns, the job survives a crash."""
        job_id = secrets.token_urlsafe(12)
        atomic_write_bytes(self.upload_path(job_id), upload)
        now = self.clock()
        with self._write() as db:
            db.execute(
                "INSERT INTO jobs (id, kind, status, stage, spec, profile, name, created_at)"
                " VALUES (?, ?, 'queued', 'queued', ?, ?, ?, ?)",
                (job_id, kind, spec, profile, name, now),
            )
        return Job(id=job_id, kind=kind, status="queued", stage="queued", progress=0.0, created_at=now,
                   profile=profile, name=name, spec=spec)  # fmt: skip

    def get(self, job_id: str) -> Job:
        rows = self._read(
            "SELECT * FROM jobs WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)", (job_id, self.clock())
        )
        if not rows:
            raise NotFoundError(f"no job {job_id!r}", hint="jobs are kept for a limited time after they finish")
        return Job.from_row(rows[0])

    def delete(self, job_id: str) -> None:
        """Forget a job now; a queued one never runs, a running one is dropped when it ends."""
        self.get(job_id)
        with self._write() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def count(self, status: JobStatus | None = None) -> int:
        if status is None:
            sql, params = "SELECT COUNT(*) FROM jobs WHERE expires_at IS NULL OR expires_at > ?", (self.clock(),)
            return int(self._read(sql, params)[0][0])
        return int(self._read("SELECT COUNT(*) FROM jobs WHERE status = ?", (status,))[0][0])

    def __len__(self) -> int:
        return self.count()

    # -- the workers' side -----------------------------------------------------------------------
    def claim(self) -> Job | None:
        """Take the oldest queued job for this process, or None when the queue is empty."""
        if not self._read("SELECT 1 FROM jobs WHERE status = 'queued' LIMIT 1"):
            return None  # the common idle case costs a read, not the write lock
        with self._write() as db:
            row = db.execute(
                "UPDATE jobs SET status = 'running', stage = 'starting', progress = 0, owner = ?, owner_pid = ?,"
                " heartbeat_at = ?, started_at = ?, attempts = attempts + 1"
                " WHERE seq = (SELECT seq FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1) RETURNING *",
                (self.owner, os.getpid(), time.time(), self.clock()),
            ).fetchone()
        return Job.from_row(row) if row is not None else None

    def update(self, job_id: str, *, progress: float, stage: str) -> bool:
        """Progress of a running job.  Committed without waiting for the disk (a crash loses at most
        a progress figure, never a job): in WAL mode the next full commit syncs it along."""
        with self._write(durable=False) as db:
            cursor = db.execute(
                "UPDATE jobs SET progress = ?, stage = ? WHERE id = ? AND owner = ? AND status = 'running'",
                (progress, stage, job_id, self.owner),
            )
        return cursor.rowcount == 1

    def save_page_images(self, job_id: str, images: list[bytes]) -> None:
        for number, data in enumerate(images, start=1):
            atomic_write_bytes(self.page_path(job_id, number), data)

    def finish(
        self,
        job_id: str,
        *,
        result: dict[str, Any] | None = None,
        document: dict[str, Any] | None = None,
        pages: int | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        """Record the outcome if this process still owns the job; drop the upload.  False: dropped."""
        now = self.clock()
        status = "failed" if error is not None else "done"
        with self._write() as db:
            cursor = db.execute(
                "UPDATE jobs SET status = ?, stage = ?, progress = ?, result = ?, document = ?, pages = ?,"
                " error = ?, finished_at = ?, expires_at = ?, owner = NULL, owner_pid = NULL"
                " WHERE id = ? AND owner = ? AND status = 'running'",
                (
                    status,
                    status,
                    1.0 if error is None else 0.0,
                    json.dumps(result, ensure_ascii=False) if result is not None else None,
                    json.dumps(document, ensure_ascii=False) if document is not None else None,
                    pages,
                    json.dumps(error, ensure_ascii=False) if error is not None else None,
                    now,
                    now + self.retention_s,
                    job_id,
                    self.owner,
                ),
            )
        if cursor.rowcount == 1:
            self.upload_path(job_id).unlink(missing_ok=True)
            return True
        if not self._read("SELECT 1 FROM jobs WHERE id = ?", (job_id,)):
            shutil.rmtree(self.job_dir(job_id), ignore_errors=True)  # deleted while it ran
        return False

    def release(self, job_id: str) -> bool:
        """Hand a job this process could not finish back to the queue (shutdown)."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE jobs SET status = 'queued', stage = 'queued', progress = 0, owner = NULL,"
                " owner_pid = NULL, heartbeat_at = NULL, attempts = MAX(0, attempts - 1)"
                " WHERE id = ? AND owner = ? AND status = 'running'",
                (job_id, self.owner),
            )
        return cursor.rowcount == 1

    def heartbeat(self) -> None:
        with self._write(durable=False) as db:
            db.execute(
                "UPDATE jobs SET heartbeat_at = ? WHERE owner = ? AND status = 'running'", (time.time(), self.owner)
            )

    def recover(self) -> tuple[int, int]:
        """Requeue jobs whose owner is gone; fail those interrupted ``max_attempts`` times.

        Returns (requeued, given up)."""
        now = time.time()
        rows = self._read(
            "SELECT id, owner, owner_pid, heartbeat_at, attempts FROM jobs WHERE status = 'running' AND owner != ?",
            (self.owner,),
        )
        requeued = failed = 0
        for row in rows:
            pid, owner = row["owner_pid"], row["owner"]
            gone = (
                pid is None
                or not _pid_alive(pid)
                or (pid == os.getpid() and owner not in _LIVE_OWNERS)
                or (row["heartbeat_at"] or 0.0) < now - self.lease_s
            )
            if not gone:
                continue
            if row["attempts"] >= self.max_attempts:
                error = JobInterruptedError(
                    f"the server stopped while running this job {row['attempts']} time(s)",
                    hint="the document may be too large for the server's memory; try a smaller one",
                ).to_dict()
                finished = self.clock()
                with self._write() as db:
                    cursor = db.execute(
                        "UPDATE jobs SET status = 'failed', stage = 'failed', progress = 0, error = ?,"
                        " finished_at = ?, expires_at = ?, owner = NULL, owner_pid = NULL"
                        " WHERE id = ? AND owner = ? AND status = 'running'",
                        (json.dumps(error), finished, finished + self.retention_s, row["id"], owner),
                    )
                if cursor.rowcount == 1:
                    failed += 1
                    self.upload_path(row["id"]).unlink(missing_ok=True)
                continue
            with self._write() as db:
                cursor = db.execute(
                    "UPDATE jobs SET status = 'queued', stage = 'queued (interrupted, runs again)', progress = 0,"
                    " owner = NULL, owner_pid = NULL, heartbeat_at = NULL"
                    " WHERE id = ? AND owner = ? AND status = 'running'",
                    (row["id"], owner),
                )
            requeued += cursor.rowcount
        return requeued, failed

    def purge_expired(self, *, orphan_age_s: float = 3600.0) -> int:
        """Delete expired jobs with their files, and files no job owns (left by a crash mid-upload)."""
        with self._write() as db:
            expired = [
                row[0] for row in db.execute("DELETE FROM jobs WHERE expires_at <= ? RETURNING id", (self.clock(),))
            ]
        for job_id in expired:
            shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        known = {row[0] for row in self._read("SELECT id FROM jobs")}
        cutoff = time.time() - orphan_age_s
        for folder in self.files_dir.iterdir():
            try:
                orphan = folder.name not in known and folder.stat().st_mtime < cutoff
            except FileNotFoundError:
                continue
            if orphan:
                shutil.rmtree(folder, ignore_errors=True)
        return len(expired)

"""Durable jobs with real server processes (`chatocr serve --data-dir`): SIGKILL mid-run and
restart, SIGTERM with a grace period, two processes sharing one data directory.

The OCR engine is ``tests/gated_engine.py``: each page logs ``start``/``end`` to a run log
and waits for a gate file, so every kill and stop lands at a known point (a job running, the
others queued) instead of after a sleep.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

pytest.importorskip("uvicorn")

from gated_engine import read_runlog

REPO = Path(__file__).resolve().parents[1]
# A clean stop: uvicorn shuts down, then re-raises the signal it caught, as servers conventionally do.
STOPPED = (0, -signal.SIGTERM)
pytestmark = pytest.mark.slow  # server processes: a few seconds each; not in the fast tier


def document(key: int) -> bytes:
    """A blank page whose longest side is ``key`` pixels: the gated engine logs it by that."""
    buffer = io.BytesIO()
    Image.new("RGB", (key, 120), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def submit(self, key: int) -> str:
        response = httpx.post(
            f"{self.url}/v1/jobs", files={"file": (f"{key}.png", document(key))}, data={"kind": "ocr"}, timeout=30
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def job(self, job_id: str) -> dict[str, object]:
        response = httpx.get(f"{self.url}/v1/jobs/{job_id}", timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.data_dir = tmp_path / "data"
        self.runlog = tmp_path / "runlog.txt"
        self.gate = tmp_path / "gate"
        self.tmp_path = tmp_path
        self.servers: list[Server] = []

    def start(self, *extra: str) -> Server:
        port = free_port()
        env = dict(os.environ)
        env.pop("CHATOCR_API_KEY", None)
        env["CHATOCR_PLUGINS"] = "gated_engine,schema_first_backend"
        env["PYTHONPATH"] = os.pathsep.join([str(REPO / "tests"), env.get("PYTHONPATH", "")])
        env["CHATOCR_TEST_RUNLOG"] = str(self.runlog)
        env["CHATOCR_TEST_GATE"] = str(self.gate)
        command = [sys.executable, "-m", "chatocr", "serve", "--port", str(port), "--data-dir", str(self.data_dir)]
        command += ["--engine", "gated", "--backend", "schema-first", "--no-preload", "--max-concurrency", "1"]
        command += ["--log-level", "warning", *extra]
        log = self.tmp_path / f"server-{len(self.servers)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp_path)
        server = Server(process, f"http://127.0.0.1:{port}", log)
        self.servers.append(server)
        deadline = time.time() + 120
        while time.time() < deadline:
            assert process.poll() is None, f"the server exited: {server.output()}"
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not start: {server.output()}")

    def open_gate(self) -> None:
        self.gate.touch()

    def runs(self) -> list[tuple[str, int, int]]:
        return read_runlog(self.runlog)

    def statuses(self) -> dict[str, str]:
        """Job id -> status, read from the store's database itself."""
        with sqlite3.connect(self.data_dir / "jobs.sqlite3") as db:
            return dict(db.execute("SELECT id, status FROM jobs").fetchall())

    def close(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    try:
        yield h
    finally:
        h.close()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_done(server: Server, job_ids: list[str], timeout: float = 120) -> dict[str, dict[str, object]]:
    jobs: dict[str, dict[str, object]] = {}

    def all_done() -> bool:
        for job_id in job_ids:
            jobs[job_id] = server.job(job_id)
        return all(job["status"] in ("done", "failed") for job in jobs.values())

    wait_until(all_done, "every job to finish", timeout)
    return jobs


def test_jobs_survive_sigkill_mid_run_and_finish_after_a_restart(harness: Harness) -> None:
    first = harness.start()
    keys = [301, 302, 303, 304]
    ids = [first.submit(key) for key in keys]
    wait_until(lambda: any(event == "start" for event, _, _ in harness.runs()), "a job to be running")
    (running_key,) = [key for event, _, key in harness.runs() if event == "start"]
    assert sorted(harness.statuses().values()) == ["queued", "queued", "queued", "running"]

    first.process.send_signal(signal.SIGKILL)  # mid-run: the job is inside the OCR engine
    first.process.wait()
    assert sorted(harness.statuses().values()) == ["queued", "queued", "queued", "running"], "nothing was lost"

    harness.open_gate()
    second = harness.start()
    jobs = wait_done(second, ids)
    for key, job_id in zip(keys, ids, strict=True):
        job = jobs[job_id]
        assert job["status"] == "done", job
        assert job["result"] == job["document"]
        assert f"PAGE {key}" in str(job["result"]), "each job's own document"
        image = httpx.get(f"{second.url}{job['page_images'][0]}", timeout=30)  # type: ignore[index]
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    ends = Counter(key for event, _, key in harness.runs() if event == "end")
    assert ends == Counter(keys), "every job finished exactly once"
    starts = Counter(key for event, _, key in harness.runs() if event == "start")
    assert starts[running_key] == 2, "the interrupted job ran again from the start"
    # The uploads are gone once the jobs are done; the page images stay until retention ends.
    for job_id in ids:
        assert sorted(p.name for p in (harness.data_dir / "jobs" / job_id).iterdir()) == ["page-1.png"]


def test_sigterm_finishes_the_running_job_and_leaves_the_rest_queued(harness: Harness) -> None:
    server = harness.start("--grace-s", "60")
    ids = [server.submit(key) for key in (401, 402, 403)]
    wait_until(lambda: len(harness.runs()) == 1, "the first job to be running")

    server.process.send_signal(signal.SIGTERM)

    def refusing() -> bool:
        try:
            httpx.get(f"{server.url}/healthz", timeout=2)
        except httpx.TransportError:
            return True
        return False

    wait_until(refusing, "the server to stop taking requests")
    assert server.process.poll() is None, "still running: the job has its grace period"
    harness.open_gate()
    assert server.process.wait(timeout=60) in STOPPED, server.output()
    statuses = harness.statuses()
    assert [statuses[i] for i in ids] == ["done", "queued", "queued"], "no new work was taken after SIGTERM"
    assert [key for event, _, key in harness.runs()] == [401, 401], "only the running job ran"

    again = harness.start()
    jobs = wait_done(again, ids)
    assert all(job["status"] == "done" for job in jobs.values())
    assert Counter(key for event, _, key in harness.runs() if event == "end") == Counter([401, 402, 403])


def test_a_job_still_running_when_the_grace_period_ends_goes_back_to_the_queue(harness: Harness) -> None:
    server = harness.start("--grace-s", "1")
    (job_id,) = [server.submit(501)]
    wait_until(lambda: len(harness.runs()) == 1, "the job to be running")
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) in STOPPED, server.output()
    assert harness.statuses() == {job_id: "queued"}

    harness.open_gate()
    again = harness.start()
    assert wait_done(again, [job_id])[job_id]["status"] == "done"


def test_two_processes_sharing_a_data_directory_run_each_job_exactly_once(harness: Harness) -> None:
    servers = [harness.start(), harness.start()]
    keys = list(range(601, 609))
    ids = [servers[i % 2].submit(key) for i, key in enumerate(keys)]

    def both_busy() -> bool:
        return len({pid for event, pid, _ in harness.runs() if event == "start"}) == 2

    wait_until(both_busy, "each process to be running a job")
    harness.open_gate()
    jobs = wait_done(servers[0], ids)
    assert all(job["status"] == "done" for job in jobs.values())
    for key, job_id in zip(keys, ids, strict=True):
        assert f"PAGE {key}" in str(jobs[job_id]["result"])
    runs = harness.runs()
    assert Counter(key for event, _, key in runs if event == "start") == Counter(keys), "each job claimed once"
    assert Counter(key for event, _, key in runs if event == "end") == Counter(keys), "each job done once"
    pids = {pid for _, pid, _ in runs}
    assert pids == {s.process.pid for s in servers}, "both processes did work"

"""Load test of the HTTP API on loopback, bounded in requests and in time.

Starts ``chatocr serve`` on a free 127.0.0.1 port (jobs in a fresh temporary
``--data-dir``), then N concurrent clients post SROIE receipt images (template
``receipt``) until the fixed number of requests is done or the time budget runs out:
to ``POST /v1/extract`` (``--via extract``, the default), or as jobs to ``POST /v1/jobs``
polled until done (``--via jobs``: every request goes through the durable job store).  Reports throughput,
p50/p95 latency, errors by status, and the server's peak resident memory (VmHWM of
the server process, read from /proc).  Writes benchmarks/results/load.md and .json.

    .venv/bin/python benchmarks/load.py --clients 4 --requests 24 --max-seconds 600

``--backend`` is passed to ``chatocr serve`` (default: its embedded local model);
``--plugins`` sets CHATOCR_PLUGINS for the server, e.g. a test backend.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA = Path(os.environ.get("CHATOCR_BENCHMARKS", "/work/shared/benchmarks")) / "sroie" / "images"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int, key: str) -> int:
    """VmRSS / VmHWM of a process in KiB (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemoryWatcher(threading.Thread):
    """Samples the server's resident memory; VmHWM already keeps the kernel's own peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kib = max(self.peak_kib, rss_kib(self.pid, "VmHWM"), rss_kib(self.pid, "VmRSS"))
            self.stop.wait(0.2)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def client_loop(
    client: httpx.AsyncClient,
    images: list[Path],
    counter: list[int],
    total: int,
    deadline: float,
    template: str,
    records: list[dict[str, Any]],
    via: str = "extract",
) -> None:
    while time.monotonic() < deadline:
        if counter[0] >= total:
            return
        index = counter[0]
        counter[0] += 1
        image = images[index % len(images)]
        started = time.perf_counter()
        status: int | str
        try:
            response = await client.post(
                "/v1/extract" if via == "extract" else "/v1/jobs",
                files={"file": (image.name, image.read_bytes(), "image/jpeg")},
                data={"template": template},
                timeout=max(1.0, deadline - time.monotonic()),
            )
            status = response.status_code
            body = response.json()
            if via == "jobs" and status == 202:
                body, status = await poll_job(client, body["url"], deadline)
            found = sum(1 for f in body.get("fields", {}).values() if f.get("value")) if status == 200 else 0
        except (httpx.HTTPError, ValueError) as exc:
            status, found = exc.__class__.__name__, 0
        records.append(
            {"image": image.name, "status": status, "seconds": time.perf_counter() - started, "found": found}
        )


async def poll_job(client: httpx.AsyncClient, url: str, deadline: float) -> tuple[dict[str, Any], int | str]:
    """Poll a job every 0.1 s until it is done (its result, 200) or failed (its error code)."""
    while time.monotonic() < deadline:
        job = (await client.get(url, timeout=max(1.0, deadline - time.monotonic()))).json()
        if job["status"] == "done":
            return job["result"], 200
        if job["status"] == "failed":
            return {}, f"job failed: {job['error']['code']}"
        await asyncio.sleep(0.1)
    return {}, "job not done in time"


async def drive(
    url: str, images: list[Path], clients: int, total: int, max_seconds: float, template: str, via: str = "extract"
) -> dict:
    records: list[dict[str, Any]] = []
    counter = [0]
    deadline = time.monotonic() + max_seconds
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(client_loop(client, images, counter, total, deadline, template, records, via) for _ in range(clients))
        )
        wall = time.perf_counter() - started
    ok = [r for r in records if r["status"] == 200]
    latencies = [r["seconds"] for r in ok]
    errors: dict[str, int] = {}
    for r in records:
        if r["status"] != 200:
            errors[str(r["status"])] = errors.get(str(r["status"]), 0) + 1
    return {
        "requests_sent": len(records),
        "requests_ok": len(ok),
        "errors": errors,
        "wall_s": round(wall, 2),
        "throughput_rpm": round(len(ok) / wall * 60, 2) if wall else 0.0,
        "latency_p50_s": round(percentile(latencies, 50), 2),
        "latency_p95_s": round(percentile(latencies, 95), 2),
        "latency_max_s": round(max(latencies), 2) if latencies else None,
        "fields_found_per_doc": round(statistics.mean(r["found"] for r in ok), 2) if ok else 0.0,
        "timed_out": len(records) < total,
    }


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not come up within {timeout} s")


def write_report(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    r = result["results"]
    errors = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "none"
    header = [
        "clients", "requests ok / sent", "errors", "wall (s)", "throughput (req/min)",
        "p50 latency (s)", "p95 latency (s)", "max (s)", "server peak RSS (MiB)",
    ]  # fmt: skip
    row = [
        result["clients"], f"{r['requests_ok']} / {r['requests_sent']}", errors, r["wall_s"], r["throughput_rpm"],
        r["latency_p50_s"], r["latency_p95_s"], r["latency_max_s"], result["server_peak_rss_mib"],
    ]  # fmt: skip
    table = "\n".join(["| " + " | ".join(map(str, cells)) + " |" for cells in (header, ["---"] * len(header), row)])
    budget = " The time budget ran out before all requests were sent." if r["timed_out"] else ""
    route = (
        "submitted as jobs to `POST /v1/jobs` (the durable job store) and polled every 0.1 s until done,"
        " latency from submission to done,"
        if result.get("via") == "jobs"
        else "posted to `POST /v1/extract`"
    )
    md = f"""## HTTP API under load

Command: `{result["command"]}`

Data: the first {result["images"]} SROIE receipt images (`sroie/images`, sorted by name), {route}
with `template=receipt`; {result["clients"]} concurrent clients, {result["requests"]} requests
in all (images reused round-robin when there are more requests than images), stopped after at most
{result["max_seconds"]:g} s.
Server: `{result["server_command"]}` on 127.0.0.1 (loopback; client and server share the machine).
Machine: {result["machine"]}, no GPU. Date: {result["date"]}.
Backend: {result["backend_note"]}.

{table}

Server start-up until `/healthz` answered (models preloaded): {result["startup_s"]} s. Latency is per request as
the client sees it, including time queued behind the other clients' requests (the server runs
{result["max_concurrency"]} worker(s); the rest wait in its queue), so it grows with the number of clients while
throughput is bounded by the cores.{budget}
The machine's 1-minute load average was {result["loadavg_1m"][0]} before and {result["loadavg_1m"][1]} after the run
({os.cpu_count()} cores): anything above the core count means other processes were competing for the CPU.
"""
    (out / "load.md").write_text(md, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--images", type=int, default=8, help="distinct images used (the first N by name)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop sending after this long")
    parser.add_argument("--max-concurrency", type=int, default=1, help="server worker threads")
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument("--template", default="receipt")
    parser.add_argument("--via", choices=["extract", "jobs"], default="extract", help="synchronous calls or jobs")
    parser.add_argument("--backend", default=None, help="server --backend profile; default: the local model")
    parser.add_argument("--plugins", default=None, help="CHATOCR_PLUGINS for the server (test backends)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()

    if not args.data.is_dir():
        raise SystemExit(f"no SROIE images at {args.data}")
    images = sorted(p for p in args.data.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})[: args.images]
    if not images:
        raise SystemExit(f"no images in {args.data}")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = [
        "chatocr", "serve", "--port", str(port), "--max-concurrency", str(args.max_concurrency),
        "--max-queue", str(max(args.max_queue, args.clients)), "--preload", "--log-level", "warning",
        "--data-dir", "DATA_DIR",
    ]  # fmt: skip
    if args.backend:
        serve += ["--backend", args.backend]
    env = {**os.environ}
    env.pop("CHATOCR_API_KEY", None)
    if args.plugins:
        env["CHATOCR_PLUGINS"] = args.plugins
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    data_dir = tempfile.mkdtemp(prefix="chatocr-load-data-")
    command = [sys.executable, "-c", "from chatocr.cli import main; main()", *serve[1:-1], data_dir]
    server_log = tempfile.NamedTemporaryFile(prefix="chatocr-load-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT)
    watcher = MemoryWatcher(process.pid)
    watcher.start()
    try:
        try:
            startup = wait_until_up(url, process, timeout=300)
        except SystemExit:
            print(Path(server_log.name).read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        load_before = os.getloadavg()[0]
        results = asyncio.run(
            drive(url, images, args.clients, args.requests, args.max_seconds, args.template, args.via)
        )
        load_after = os.getloadavg()[0]
        health = httpx.get(f"{url}/healthz", timeout=5).json()
    finally:
        watcher.stop.set()
        watcher.join()
        peak = max(watcher.peak_kib, rss_kib(process.pid, "VmHWM"))
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)

    backend_note = (
        f"`--backend {args.backend}`" + (f" (plugin `{args.plugins}`)" if args.plugins else "")
        if args.backend
        else "the server default: `local` (embedded SmolLM2-135M via llama.cpp) with extract.strategy=auto,"
        " which ranks candidates without consulting the model"
    )
    if args.plugins and "schema_first" in args.plugins:
        backend_note += (
            ": a deterministic test backend that answers instantly, so these figures measure the server, OCR"
            " and candidate extraction, not language-model inference"
        )
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}, {platform.system()})",
        "command": "python benchmarks/load.py " + shlex.join(sys.argv[1:]),
        "server_command": shlex.join(serve).replace("DATA_DIR", "<a fresh temporary directory>"),
        "via": args.via,
        "backend_note": backend_note,
        "images": len(images),
        "clients": args.clients,
        "requests": args.requests,
        "max_seconds": args.max_seconds,
        "max_concurrency": args.max_concurrency,
        "startup_s": round(startup, 1),
        "server_peak_rss_mib": round(peak / 1024, 1),
        "server_queue_after": health.get("queue"),
        # Other work on the machine slows every figure; the 1-minute load average says how busy it was.
        "loadavg_1m": [round(load_before, 2), round(load_after, 2)],
        "results": results,
    }
    write_report(result, args.out)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

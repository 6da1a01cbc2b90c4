"""Resumable batch extraction over folders of documents.

The JSON Lines output file is the single record of progress: every line is exactly
an ``extract --format json`` record (``{"file", "fields"}`` or ``{"file", "error"}``)
and only the parent process writes it, one whole line per ``write`` on an
``O_APPEND`` descriptor, flushed and fsynced.  A killed run leaves at most one
partial last line, which the next run trims before it resumes, so no document is
lost and none is written twice.

Runners:
- ``local``: N worker processes (``ProcessPoolExecutor``) that share nothing but the
  input list; each loads its own OCR engine and LLM backend once and gets
  ``cores // N`` threads.
- ``ray``: the same worker function on Ray Data actors, for users with a cluster.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from chatocr.errors import ChatOCRError, InputFileError, OptionsError, OutputFileError, error_class_for_code
from chatocr.fields.spec import Schema
from chatocr.files import append_jsonl, atomic_write_text, display_name, json_line, trim_partial_line
from chatocr.options import Options

SUPPORTED_SUFFIXES = {".pdf", ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}

Record = dict[str, Any]


def find_inputs(spec: str) -> list[str]:
    """A folder (searched recursively for supported files) or a glob, as a sorted list."""
    path = Path(spec)
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES]
    elif path.is_file():
        found = [path]
    else:
        found = [Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file()]
    if not found:
        raise InputFileError(f"{spec}: no documents found", hint="give a folder, a file or a quoted glob")
    return sorted(str(p) for p in found)


# ---------------------------------------------------------------------------------------------
# The results file: append-only, trimmed on resume.


class ResultsFile:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def repair(self) -> None:
        """Drop a partial last line left by a killed run."""
        trim_partial_line(self.path)

    def records(self) -> Iterator[Record]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputFileError(
                        f"{self.path}:{number}: not a JSON line ({exc.msg})",
                        hint="this file is the batch's resume record; fix or move it",
                    ) from None
                if isinstance(record, dict) and "file" in record:
                    yield record

    def done(self, *, retry_failed: bool) -> set[str]:
        """Files already answered; with ``retry_failed`` the failed ones are removed from the file."""
        self.repair()
        records = list(self.records())
        if retry_failed and any("error" in r for r in records):
            self._rewrite([r for r in records if "error" not in r])
            records = [r for r in records if "error" not in r]
        return {r["file"] for r in records}

    def _rewrite(self, records: list[Record]) -> None:
        atomic_write_text(self.path, "".join(json_line(r) + "\n" for r in records))

    def check_writable(self) -> None:
        """Refuse, before any document is read, a results file that cannot be appended to."""
        check_writable(self.path)

    def append(self, record: Record) -> None:
        append_jsonl(self.path, record)


def check_writable(path: str | Path) -> None:
    """Create (or open for appending) ``path`` now, so a read-only folder fails before the work, not after."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.close(fd)
        # The CSV and a --retry-failed rewrite go through a temporary file beside the target.
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise OutputFileError(
            f"{display_name(str(path))}: cannot write the results here ({exc.strerror or exc})",
            hint="choose a writable --out",
        ) from None


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading = + - @ (a formula) gets a ' prefix."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(records: Iterable[Record], field_names: list[str], path: str | Path) -> None:
    """One row per document (value columns), written atomically beside the JSON Lines file.

    Cells are data, never formulas (see :func:`csv_cell`); file names are shown with their
    undecodable bytes as \\xNN.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(c) for c in ["file", *field_names, "error"]])
    for record in records:
        fields = record.get("fields") or {}
        values = [(fields.get(name) or {}).get("value") for name in field_names]
        error = (record.get("error") or {}).get("code", "")
        writer.writerow([csv_cell(display_name(record["file"])), *[csv_cell(v) for v in values], csv_cell(error)])
    # utf-8-sig: a byte-order mark so spreadsheet programs read Chinese values correctly.
    atomic_write_text(path, buffer.getvalue(), encoding="utf-8-sig")


# ---------------------------------------------------------------------------------------------
# Workers: one Extractor per process, created lazily by the initializer.

_worker_extractor: Any = None
_worker_schema: Schema | None = None


def _init_worker(options_json: str, schema_json: str, threads: int) -> None:
    global _worker_extractor, _worker_schema
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    from chatocr.extract import Extractor

    options = Options.model_validate_json(options_json)
    if options.backend.n_threads is None:
        options = Options.create(options, **{"backend.n_threads": threads})
    if options.ocr.threads is None:
        options = Options.create(options, **{"ocr.threads": threads})
    _worker_extractor = Extractor(options)
    _worker_schema = Schema.model_validate_json(schema_json)


def extract_record(path: str) -> Record:
    """Extract one document in a worker; user errors become error records, never exceptions."""
    assert _worker_extractor is not None and _worker_schema is not None, "worker not initialised"
    try:
        result = _worker_extractor.run(path, _worker_schema, name=path)
    except ChatOCRError as exc:
        return {"file": path, "error": exc.to_dict()}
    except Exception as exc:  # a bug in one document must not stop the batch; it is recorded
        return {"file": path, "error": {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}}
    record: Record = result.export()
    record["file"] = path
    return record


# ---------------------------------------------------------------------------------------------


@dataclass
class BatchSummary:
    total: int
    skipped: int
    succeeded: int = 0
    failed_now: int = 0
    # Every failure among the inputs, from this run and from earlier runs of the same batch.
    failed: list[Record] = field(default_factory=list)
    # Fields answered null because their reply failed (generate strategy), in documents extracted in this run.
    field_errors: int = 0
    first_field_error: str | None = None

    @property
    def exit_code(self) -> int:
        """0, or the exit code of the first failure's error class (as `ocr` and `extract` do)."""
        if not self.failed:
            return error_class_for_code(self.first_field_error).exit_code if self.first_field_error else 0
        return error_class_for_code(self.failed[0]["error"]["code"]).exit_code


ProgressHook = Callable[[Record], None]


def _threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


# Peak resident memory of one one-thread worker, rounded up: measured 0.98 GB with rules and
# 1.19 GB with the embedded model consulted (hybrid), on SROIE receipts.
WORKER_MEMORY_BYTES = 1_300 * 1024 * 1024


def _available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux); None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def parse_workers(value: str) -> int:
    """``--workers``: a count, or ``auto``: one one-thread worker per core, as many as memory holds.

    One-thread workers side by side gave the most documents per minute on every strategy
    measured (benchmarks/results/batch.md); memory is the limit on machines with many cores.
    """
    value = value.strip()
    if value.isdigit():
        count = int(value)
        if count < 1:
            raise OptionsError("--workers must be at least 1")
        return count
    if value.lower() != "auto":
        raise OptionsError(f"--workers {value!r}: give a number of worker processes or 'auto'")
    cores = os.cpu_count() or 1
    available = _available_memory_bytes()
    by_memory = cores if available is None else max(1, available // WORKER_MEMORY_BYTES)
    return max(1, min(cores, by_memory))


def run_batch(
    inputs: list[str],
    out: str | Path,
    schema: Schema,
    options: Options | None = None,
    *,
    workers: int = 1,
    runner: Literal["local", "ray"] = "local",
    retry_failed: bool = False,
    csv_path: str | Path | None = None,
    on_start: Callable[[int], None] | None = None,
    on_record: ProgressHook | None = None,
) -> BatchSummary:
    """Extract every input not yet in ``out``; returns counts and the failures of this run."""
    if workers < 1:
        raise OptionsError("--workers must be at least 1")
    options = options or Options()
    results = ResultsFile(out)
    results.check_writable()
    if csv_path:
        check_writable(csv_path)
    done = results.done(retry_failed=retry_failed)
    pending = [p for p in dict.fromkeys(inputs) if p not in done]
    summary = BatchSummary(total=len(inputs), skipped=len(inputs) - len(pending))
    if on_start:
        on_start(len(pending))

    def collect(record: Record) -> None:
        results.append(record)
        if "error" in record:
            summary.failed_now += 1
        else:
            summary.succeeded += 1
            codes = [f["error"] for f in record.get("fields", {}).values() if isinstance(f, dict) and f.get("error")]
            summary.field_errors += len(codes)
            summary.first_field_error = summary.first_field_error or (codes[0] if codes else None)
        if on_record:
            on_record(record)

    if pending:
        run = _run_ray if runner == "ray" else _run_local
        run(pending, options, schema, workers, collect)
    wanted = set(inputs)
    summary.failed = [r for r in results.records() if r["file"] in wanted and "error" in r]
    if csv_path:
        write_csv((r for r in results.records() if r["file"] in wanted), schema.names, csv_path)
    return summary


def _run_local(pending: list[str], options: Options, schema: Schema, workers: int, collect: ProgressHook) -> None:
    init_args = (options.model_dump_json(), schema.model_dump_json(), _threads_per_worker(workers))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=init_args) as pool:
        # Keep a bounded window in flight so a kill loses at most `workers * 2` documents' work.
        queue = iter(pending)
        in_flight: set[Future[Record]] = set()
        for path in queue:
            in_flight.add(pool.submit(extract_record, path))
            if len(in_flight) >= workers * 2:
                break
        while in_flight:
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                collect(future.result())
                next_path = next(queue, None)
                if next_path is not None:
                    in_flight.add(pool.submit(extract_record, next_path))


class _RayExtractor:
    """A Ray Data actor: one Extractor per actor, like one per local worker process."""

    def __init__(self, options_json: str, schema_json: str, threads: int) -> None:
        _init_worker(options_json, schema_json, threads)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        records = [extract_record(str(path)) for path in batch["path"]]
        return {"record": [json.dumps(r, ensure_ascii=False) for r in records]}


def _run_ray(pending: list[str], options: Options, schema: Schema, workers: int, collect: ProgressHook) -> None:
    try:
        import ray
    except ImportError as exc:
        from chatocr.errors import MissingDependencyError

        raise MissingDependencyError("--runner ray needs Ray Data", hint="pip install 'chatocr[cluster]'") from exc
    if not ray.is_initialized():
        # Joins RAY_ADDRESS when set (a cluster); otherwise starts a local instance.
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    threads = max(1, cpus // workers)
    dataset = ray.data.from_items([{"path": p} for p in pending])
    mapped = dataset.map_batches(
        _RayExtractor,
        fn_constructor_args=(options.model_dump_json(), schema.model_dump_json(), threads),
        batch_size=1,
        concurrency=workers,
        num_cpus=threads,
    )
    # Results stream back to the driver, which alone appends to the results file.
    for row in mapped.iter_rows():
        collect(json.loads(row["record"]))

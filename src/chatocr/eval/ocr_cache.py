"""OCR results cached per image, for benchmarks and reader training.

OCR is by far the slowest stage; evaluation runs and training re-read the same images many
times.  A cache entry is ``<root>/<dataset>-<fingerprint>/<id>.json`` (a Document export plus
the seconds it took), where the fingerprint hashes the OCR settings that change the output, so
results made under other settings are never reused, and each entry keeps the SHA-1 of the image it
was made from, so an image regenerated under the same id is read again.  Entries are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from chatocr.document import Document
from chatocr.files import atomic_write_text
from chatocr.options import OcrOptions

DEFAULT_ROOT = Path(".cache") / "ocr"


def ocr_fingerprint(options: OcrOptions | None = None) -> str:
    """A short hash of the OCR settings that change its output (not threads, arena or limits)."""
    settings = (options or OcrOptions()).model_dump(exclude={"threads", "memory_arena", "limits"})
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]


def cache_dir(dataset: str, root: Path = DEFAULT_ROOT, options: OcrOptions | None = None) -> Path:
    return root / f"{dataset.replace(':', '_').replace('/', '_')}-{ocr_fingerprint(options)}"


def cache_path(dataset: str, doc_id: str, root: Path = DEFAULT_ROOT, options: OcrOptions | None = None) -> Path:
    return cache_dir(dataset, root, options) / f"{doc_id}.json"


def cached_ocr(
    dataset: str, doc_id: str, image: Path, options: OcrOptions | None = None, root: Path = DEFAULT_ROOT
) -> tuple[Document, float]:
    """The document's OCR and the seconds it took when it was first run (run now when not cached)."""
    path = cache_path(dataset, doc_id, root, options)
    digest = hashlib.sha1(image.read_bytes()).hexdigest()
    if path.is_file():
        record = json.loads(path.read_text(encoding="utf-8"))
        seconds = float(record.pop("seconds", 0.0))
        # A regenerated synthetic image keeps its id: an entry made from other bytes is read again.
        # (Entries written before the digest was kept carry none and are trusted.)
        if record.pop("image_sha1", digest) == digest:
            return Document.model_validate(record), seconds
    from chatocr.pipeline import run_ocr

    started = time.perf_counter()
    doc = run_ocr(str(image), options or OcrOptions(), name=image.name)
    seconds = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    record = doc.export()
    atomic_write_text(path, json.dumps({**record, "seconds": seconds, "image_sha1": digest}, ensure_ascii=False))
    # The document as the cache holds it (boxes and confidences rounded): the first read is what every later
    # read returns, so a model trained from nothing equals one trained from a warm cache.
    return Document.model_validate(record), seconds

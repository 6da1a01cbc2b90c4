"""Plan and render synthetic documents: one seed in, identical image and labels out."""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from chatocr.data.synth import degrade as degrade_mod
from chatocr.data.synth.fonts import font_book
from chatocr.data.synth.kinds import DocKind, RenderRequest, all_kinds
from chatocr.errors import OptionsError

GENERATOR_VERSION = 16  # bump when the same seed would give different documents
LAYOUT_SPLITS = ("train", "heldout", "all")
LANGS = ("zh", "en", "all")


@dataclass(frozen=True)
class PlannedDoc:
    id: str
    kind: str
    layout: str
    lang: str
    seed: int


@dataclass
class SynthDocument:
    id: str
    image: Image.Image
    jpeg_quality: int
    labels: dict[str, str]
    absent: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def jpeg_bytes(self) -> bytes:
        buffer = io.BytesIO()
        # Fixed encoder settings so the same seed gives the same bytes.
        self.image.save(buffer, format="JPEG", quality=self.jpeg_quality, optimize=False, subsampling=2)
        return buffer.getvalue()


def kinds() -> dict[str, DocKind]:
    return all_kinds()


def document_seed(seed: int, index: int) -> int:
    """A per-document seed that depends only on the run seed and the index (resumable, order-free)."""
    digest = hashlib.sha256(f"chatocr-synth/{seed}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def resolve_kinds(names: str | list[str] | None, lang: str = "all") -> list[DocKind]:
    """Parse ``--kinds`` ("all" or a comma list) into kinds that have a layout for ``lang``."""
    if lang not in LANGS:
        raise OptionsError(f"unknown --lang {lang!r}", hint="use zh, en or all")
    available = kinds()
    if names is None or names == "all" or names == ["all"]:
        wanted = list(available)
    else:
        parts = names.split(",") if isinstance(names, str) else names
        wanted = [p.strip() for p in parts if p.strip()]
        unknown = [w for w in wanted if w not in available]
        if unknown or not wanted:
            raise OptionsError(
                f"unknown document kind(s): {', '.join(unknown) or '(none given)'}",
                hint=f"choose from {', '.join(available)} or all",
            )
    selected = [available[w] for w in wanted if lang == "all" or lang in available[w].languages]
    if not selected:
        raise OptionsError(
            f"none of the kinds {', '.join(wanted)} has {lang!r} documents",
            hint="receipts and kv_form come in en and zh, english_invoice and till_receipt in en; the rest in zh",
        )
    return selected


def layouts_for(kind: DocKind, split: str) -> tuple[str, ...]:
    if split == "train":
        return kind.train_layouts
    if split == "heldout":
        return kind.heldout_layouts
    if split == "all":
        return kind.layouts
    raise OptionsError(f"unknown --layouts {split!r}", hint="use train, heldout or all")


def plan(
    n: int, seed: int, kind_names: str | list[str] | None = "all", layouts: str = "all", lang: str = "all"
) -> list[PlannedDoc]:
    """The documents a run makes: kinds in turn, layout and language drawn from each document's seed."""
    if n < 1:
        raise OptionsError(f"--n must be at least 1, got {n}")
    selected = resolve_kinds(kind_names, lang)
    docs: list[PlannedDoc] = []
    for index in range(n):
        kind = selected[index % len(selected)]
        doc_seed = document_seed(seed, index)
        rng = random.Random(doc_seed)
        layout = rng.choice(layouts_for(kind, layouts))
        langs = kind.languages if lang == "all" else (lang,)
        doc_lang = rng.choice(langs)
        docs.append(PlannedDoc(f"{kind.name}_{index:05d}", kind.name, layout, doc_lang, doc_seed))
    return docs


def render(planned: PlannedDoc, degrade: str = "mild") -> SynthDocument:
    """Render one planned document and apply its degradations."""
    if degrade not in degrade_mod.LEVELS:
        raise OptionsError(f"unknown --degrade {degrade!r}", hint="use none, mild or strong")
    kind = kinds()[planned.kind]
    if planned.layout not in kind.layouts:
        raise OptionsError(f"kind {kind.name!r} has no layout {planned.layout!r}", hint=", ".join(kind.layouts))
    # Separate generators for content and degradations: the same seed gives the same content
    # whatever the degradation level.
    content_rng = random.Random(planned.seed)
    seal = {"none": "none", "mild": "beside"}.get(degrade) or random.Random(planned.seed + 1).choice(
        ["beside", "over", "over"]
    )
    request = RenderRequest(layout=planned.layout, lang=planned.lang, rng=content_rng, fonts=font_book(), seal=seal)
    canvas = kind.render(request)
    damaged = degrade_mod.degrade(canvas.image, degrade, random.Random(planned.seed + 2))
    # A kind with no fixed fields (kv_form) labels its own keys; a key labelled "" is absent (blank or not printed).
    names = kind.fields or tuple(canvas.fields)
    labels = {name: canvas.fields[name].value for name in names if name in canvas.fields and canvas.fields[name].value}
    absent = [name for name in names if name not in labels]
    field_meta = {
        name: {
            "value": canvas.fields[name].value,
            "printed": canvas.fields[name].printed,
            "boxes": [damaged.map_rect(rect) for rect in canvas.fields[name].boxes],
        }
        for name in labels
    }
    meta: dict[str, Any] = {
        "id": planned.id,
        "kind": kind.name,
        "template": kind.template,
        "layout": planned.layout,
        "layout_id": f"{kind.name}/{planned.layout}",
        "layout_split": "heldout" if planned.layout in kind.heldout_layouts else "train",
        "lang": planned.lang,
        "seed": planned.seed,
        "degrade": degrade,
        "seal": seal if canvas.notes.get("seal") else "none",
        "degradations": damaged.applied,
        "rotation": damaged.rotation,
        "width": damaged.image.width,
        "height": damaged.image.height,
        "fields": field_meta,
        "lines": [{"text": t.text, "box": damaged.map_rect(t.rect)} for t in canvas.texts if t.text.strip()],
        "generator": GENERATOR_VERSION,
    }
    return SynthDocument(planned.id, damaged.image, damaged.jpeg_quality, labels, absent, meta)


def render_one(
    kind: str, layout: str | None = None, seed: int = 0, lang: str = "zh", degrade: str = "mild"
) -> SynthDocument:
    """Render a single document of ``kind`` (first layout when none is named); handy in tests and examples."""
    doc_kind = kinds().get(kind)
    if doc_kind is None:
        raise OptionsError(f"unknown document kind {kind!r}", hint=", ".join(kinds()))
    if lang not in doc_kind.languages:
        raise OptionsError(f"kind {kind!r} has no {lang!r} documents", hint=", ".join(doc_kind.languages))
    planned = PlannedDoc(f"{kind}_{seed}", kind, layout or doc_kind.layouts[0], lang, seed)
    return render(planned, degrade)

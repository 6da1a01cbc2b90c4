"""Document kinds: each renders its layouts and records the labels it printed.

A kind module exposes one :class:`DocKind`, with a renderer per layout.  ``render`` draws a
complete page for a :class:`RenderRequest` (layout id, language, seeded random generator, fonts,
seal mode) with the layout's renderer and returns the :class:`~chatocr.data.synth.canvas.Canvas`
with the field labels.  The last layout of every kind is the held-out one (never used for training).
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatocr.data.synth import stamp
from chatocr.data.synth.canvas import Canvas, Rect, Run, run
from chatocr.data.synth.fonts import FontBook

SEAL_MODES = ("none", "beside", "over")


@dataclass(frozen=True)
class RenderRequest:
    layout: str
    lang: str
    rng: random.Random
    fonts: FontBook
    seal: str = "beside"  # none: no seal; beside: next to the issuer; over: on top of field text


@dataclass(frozen=True)
class DocKind:
    name: str
    template: str  # the bundled field template whose fields this kind labels
    fields: tuple[str, ...]
    languages: tuple[str, ...]
    renderers: Mapping[str, Callable[[RenderRequest], Canvas]]  # layout -> its renderer, the held-out one last
    description: str = ""

    @property
    def layouts(self) -> tuple[str, ...]:
        return tuple(self.renderers)

    def render(self, req: RenderRequest) -> Canvas:
        return self.renderers[req.layout](req)

    @property
    def heldout_layouts(self) -> tuple[str, ...]:
        return self.layouts[-1:]

    @property
    def train_layouts(self) -> tuple[str, ...]:
        return self.layouts[:-1]


def seal_center(anchor: Rect, mode: str, rng: random.Random, diameter: float) -> tuple[float, float]:
    """Where a seal goes relative to the issuer/date text: partly beside it, or right over it."""
    cx, cy = (anchor[0] + anchor[2]) / 2, (anchor[1] + anchor[3]) / 2
    if mode == "over":
        return cx + rng.uniform(-0.1, 0.1) * diameter, cy + rng.uniform(-0.15, 0.15) * diameter
    return cx + rng.uniform(0.1, 0.35) * diameter, cy - rng.uniform(0.05, 0.3) * diameter


def stamp_seal(
    canvas: Canvas, req: RenderRequest, text: str, bottom: str, diameter: int, anchor: Rect, *, oval: bool = False
) -> None:
    """A seal reading ``text`` (``bottom`` under it) beside or over ``anchor``, as ``req.seal`` asks; noted on
    the canvas."""
    if req.seal == "none":
        return
    mask = stamp.seal_mask(text, bottom, diameter, req.fonts.pick("sans", req.rng), req.rng, oval=oval)
    stamp.apply_seal(canvas.image, mask, seal_center(anchor, req.seal, req.rng, diameter))
    canvas.notes["seal"] = req.seal


def cn_ordinal(n: int) -> str:
    """1..99 in Chinese numerals for 第十四届."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


@dataclass(frozen=True)
class Entry:
    """A printed key and its value, for kinds without a template: the printed key names the label."""

    key: str
    printed: str
    label: str

    def value_run(self, **style: Any) -> Run:
        return run(self.printed, self.key, self.label, **style)


def label_absent(canvas: Canvas, rng: random.Random, unprinted: Sequence[Sequence[str]]) -> Canvas:
    """Label 1-2 keys the document does not print (one name each, from their synonyms) as absent: asked of
    the document, they must come back null."""
    chosen = rng.sample(list(unprinted), min(len(unprinted), rng.randint(1, 2)))
    for key in [rng.choice(list(names)) for names in chosen]:
        if key not in canvas.fields:
            canvas.label(key, "")
    return canvas


def all_kinds() -> dict[str, DocKind]:
    # Imported here: the kind modules import this module for DocKind and RenderRequest.
    modules = [
        "certificate",
        "vat_invoice",
        "train_ticket",
        "business_license",
        "receipt",
        "kv_form",
        "taxi_receipt",
        "bank_slip",
        "english_invoice",
        "id_card",
        "medical_receipt",
        "contract",
        "till_receipt",
    ]
    kinds: list[DocKind] = [importlib.import_module(f"chatocr.data.synth.kinds.{m}").KIND for m in modules]
    return {k.name: k for k in kinds}

"""The result tree every layer shares: Document > Page > Line.

Coordinates: page pixels of the upright page image chatocr worked on, origin at the
top-left, x to the right, y down.  A box is four ``[x, y]`` points clockwise from
the top-left corner of the text.  ``Page.lines`` are the engine's own lines in
reading order (see :mod:`chatocr.layout`); they are never merged.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Box = list[list[float]]


def box_from_rect(x0: float, y0: float, x1: float, y1: float) -> Box:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def box_bounds(box: Box) -> tuple[float, float, float, float]:
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    return min(xs), min(ys), max(xs), max(ys)


def union_box(boxes: list[Box]) -> Box:
    bounds = [box_bounds(b) for b in boxes]
    return box_from_rect(
        min(b[0] for b in bounds), min(b[1] for b in bounds), max(b[2] for b in bounds), max(b[3] for b in bounds)
    )


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    box: Box = Field(description="4 points [[x,y],...] in page pixels, clockwise from top-left")
    confidence: float = Field(ge=0.0, le=1.0)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return box_bounds(self.box)

    def export(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": [[round(float(x), 1), round(float(y), 1)] for x, y in self.box],
            "confidence": round(float(self.confidence), 4),
        }


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(ge=1, description="1-based page number")
    width: int
    height: int
    lines: list[Line] = Field(default_factory=list)
    source: Literal["ocr", "text_layer"] = "ocr"
    rotation: int = Field(
        0, description="degrees the input was turned counter-clockwise to make it upright (orientation.rotate_upright)"
    )

    def export(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "width": self.width,
            "height": self.height,
            "lines": [line.export() for line in self.lines],
        }


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str | None = None
    pages: list[Page] = Field(default_factory=list)

    def export(self) -> dict[str, Any]:
        """The `chatocr ocr --format json` record."""
        return {"file": self.file or "", "pages": [p.export() for p in self.pages]}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.export(), ensure_ascii=False, **kwargs)

    def to_text(self) -> str:
        """Plain text: one engine line per line, pages separated by a form feed."""
        return "\f".join("\n".join(line.text for line in page.lines) for page in self.pages)

    def to_layout_text(self, *, line_refs: bool = False) -> str:
        """Rows and columns kept roughly where they were printed; feeds the language model."""
        from chatocr.layout import layout_text

        return "\f".join(layout_text(page, line_refs=line_refs) for page in self.pages)

    @property
    def lines(self) -> list[tuple[int, Line]]:
        return [(p.page, line) for p in self.pages for line in p.lines]

"""A PIL drawing surface that remembers where every piece of text went.

Layouts draw *runs*: pieces of one printed line, some of which carry a field label
(``Run("2023年5月12日", [("证书日期", "2023-05-12")])``).  The canvas records the pixel
box of every run, so each label comes with the box of the text it was read from, and
the full list of printed lines is available for rules that depend on the whole text
(the certificate's 级别) and for OCR-quality checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from chatocr.data.synth import fonts

Color = tuple[int, int, int]
Rect = tuple[float, float, float, float]
BLACK: Color = (20, 20, 20)
NO_LINE_START = set("，。、；：！？）》」』”’,.;:!?)")


@dataclass
class Run:
    """A piece of text drawn in one go; ``fields`` are the (name, label value) pairs it proves."""

    text: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    fill: Color | None = None
    font: ImageFont.FreeTypeFont | None = None
    printed: str | None = None  # the whole printed value when this run is one line's part of it


def run(text: str, name: str | None = None, value: str | None = None, **style: Any) -> Run:
    """Shorthand: ``run("2023年5月12日", "证书日期", "2023-05-12")``; value defaults to the text."""
    pairs = [(name, text if value is None else value)] if name else []
    return Run(text, pairs, **style)


@dataclass
class FieldMark:
    value: str
    printed: str | None = None
    boxes: list[Rect] = field(default_factory=list)


@dataclass
class TextItem:
    text: str
    rect: Rect


class Canvas:
    def __init__(self, width: int, height: int, background: Color = (255, 255, 255)) -> None:
        self.width = width
        self.height = height
        self.image = Image.new("RGB", (width, height), background)
        self.draw = ImageDraw.Draw(self.image)
        self.fields: dict[str, FieldMark] = {}
        self.texts: list[TextItem] = []
        self.notes: dict[str, Any] = {}  # layout facts worth keeping in the metadata (fonts, title)

    def crop_height(self, height: int) -> None:
        """Cut the page at ``height`` pixels (layouts whose length depends on their content)."""
        self.height = min(self.height, max(1, int(height)))
        self.image = self.image.crop((0, 0, self.width, self.height))
        self.draw = ImageDraw.Draw(self.image)

    # ----------------------------------------------------------------- labels
    def label(self, name: str, value: str, rect: Rect | None = None, printed: str | None = None) -> None:
        """Record a field value; the first printing of a field defines its value, later ones add boxes."""
        mark = self.fields.get(name)
        if mark is None:
            mark = self.fields[name] = FieldMark(value=value, printed=printed)
        if rect is not None:
            mark.boxes.append(rect)

    @property
    def full_text(self) -> str:
        return "\n".join(item.text for item in self.texts)

    # ------------------------------------------------------------------ text
    def text_width(self, text: str, font: ImageFont.FreeTypeFont) -> float:
        return float(font.getlength(text))

    def runs_width(self, runs: list[Run], font: ImageFont.FreeTypeFont) -> float:
        return sum(self.text_width(r.text, r.font or font) for r in runs)

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        font: ImageFont.FreeTypeFont,
        fill: Color = BLACK,
        align: str = "left",
        name: str | None = None,
        value: str | None = None,
    ) -> Rect:
        """Draw one line; ``align`` says whether x is its left edge, centre or right edge."""
        return self.runs(xy, [run(text, name, value)], font, fill=fill, align=align)

    def runs(
        self,
        xy: tuple[float, float],
        runs: list[Run],
        font: ImageFont.FreeTypeFont,
        fill: Color = BLACK,
        align: str = "left",
        spacing: float = 0.0,
    ) -> Rect:
        """Draw runs side by side on one line starting at the top ``y``; returns the line's box."""
        x, y = xy
        total = self.runs_width(runs, font) + spacing * max(0, len(runs) - 1)
        if align == "center":
            x -= total / 2
        elif align == "right":
            x -= total
        line_rects: list[Rect] = []
        for piece in runs:
            if not piece.text:
                continue
            piece_font = piece.font or font
            self.draw.text((x, y), piece.text, font=piece_font, fill=piece.fill or fill)
            rect = self.draw.textbbox((x, y), piece.text, font=piece_font)
            line_rects.append(rect)
            for name, value in piece.fields:
                self.label(name, value, rect, printed=piece.printed or piece.text)
            x += self.text_width(piece.text, piece_font) + spacing
        if not line_rects:
            return (x, y, x, y)
        bounds = (
            min(r[0] for r in line_rects),
            min(r[1] for r in line_rects),
            max(r[2] for r in line_rects),
            max(r[3] for r in line_rects),
        )
        self.texts.append(TextItem("".join(r.text for r in runs), bounds))
        return bounds

    def paragraph(
        self,
        xy: tuple[float, float],
        width: float,
        runs: list[Run],
        font: ImageFont.FreeTypeFont,
        fill: Color = BLACK,
        line_height: float | None = None,
        indent: float = 0.0,
        align: str = "left",
    ) -> float:
        """Wrap runs into lines of at most ``width`` pixels; returns the y below the last line.

        Field runs stay on one line when they fit a line (a label keeps one box); a longer
        one is split and gets one box per line.  Plain runs wrap per character for Chinese
        and per word for Latin text.
        """
        line_height = line_height or font.size * 1.6
        tokens: list[Run] = []
        for piece in runs:
            if piece.fields and self.text_width(piece.text, piece.font or font) > width - indent:
                # the parts share one ``fields`` list, which is how _merge_plain rejoins them per line
                tokens.extend(
                    Run(u, piece.fields, piece.fill, piece.font, piece.text) for u in _split_tokens(piece.text)
                )
            elif piece.fields:
                tokens.append(piece)
            else:
                for unit in _split_tokens(piece.text):
                    tokens.append(Run(unit, [], piece.fill, piece.font))
        lines: list[list[Run]] = [[]]
        used = indent
        for token in tokens:
            w = self.text_width(token.text, token.font or font)
            # Chinese typesetting keeps closing punctuation off the start of a line.
            if lines[-1] and used + w > width and token.text not in NO_LINE_START:
                lines.append([])
                used = 0.0
                if token.text.isspace():
                    continue
            lines[-1].append(token)
            used += w
        x0, y = xy
        for number, line in enumerate(lines):
            merged = _merge_plain(line)
            start = x0 + (indent if number == 0 else 0.0)
            if align == "center":
                self.runs((x0 + width / 2, y), merged, font, fill=fill, align="center")
            else:
                self.runs((start, y), merged, font, fill=fill)
            y += line_height
        return y

    # ---------------------------------------------------------------- shapes
    def rect(self, rect: Rect, outline: Color = BLACK, width: int = 2, fill: Color | None = None) -> None:
        self.draw.rectangle(rect, outline=outline, width=width, fill=fill)

    def line(self, points: list[tuple[float, float]], fill: Color = BLACK, width: int = 2) -> None:
        self.draw.line(points, fill=fill, width=width)

    def grid(
        self,
        x0: float,
        y0: float,
        col_widths: Sequence[float],
        row_heights: Sequence[float],
        color: Color,
        width: int = 2,
    ) -> list[list[Rect]]:
        """Draw a table grid; returns the cell rectangles [row][col]."""
        xs = [x0]
        for w in col_widths:
            xs.append(xs[-1] + w)
        ys = [y0]
        for h in row_heights:
            ys.append(ys[-1] + h)
        for x in xs:
            self.line([(x, ys[0]), (x, ys[-1])], color, width)
        for y in ys:
            self.line([(xs[0], y), (xs[-1], y)], color, width)
        return [[(xs[c], ys[r], xs[c + 1], ys[r + 1]) for c in range(len(col_widths))] for r in range(len(row_heights))]

    def cell_text(
        self,
        cell: Rect,
        runs: list[Run] | str,
        font: ImageFont.FreeTypeFont,
        fill: Color = BLACK,
        align: str = "left",
        pad: float = 12.0,
    ) -> Rect:
        """Draw runs vertically centred in a table cell."""
        if isinstance(runs, str):
            runs = [run(runs)]
        height = font.size
        y = (cell[1] + cell[3]) / 2 - height * 0.62
        if align == "center":
            return self.runs(((cell[0] + cell[2]) / 2, y), runs, font, fill=fill, align="center")
        if align == "right":
            return self.runs((cell[2] - pad, y), runs, font, fill=fill, align="right")
        return self.runs((cell[0] + pad, y), runs, font, fill=fill)

    def fit_font(self, face: fonts.Face, text: str, max_width: float, size: int, min_size: int = 14) -> Any:
        """The largest font of ``face`` up to ``size`` whose rendering of ``text`` fits ``max_width``."""
        while size > min_size and fonts.load(face, size).getlength(text) > max_width:
            size -= 2
        return fonts.load(face, size)


def _split_tokens(text: str) -> list[str]:
    """Wrap units: CJK characters one by one, Latin words with their trailing space."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if ch.isascii() and not ch.isspace():
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        tokens.append(ch)
    if word:
        tokens.append(word)
    return tokens


def _merge_plain(line: list[Run]) -> list[Run]:
    """Join neighbouring plain tokens back into one run so each printed line is few runs."""
    merged: list[Run] = []
    for token in line:
        same_group = bool(token.fields) and token.fields is merged[-1].fields if merged else False
        plain = bool(merged) and not token.fields and not merged[-1].fields
        if (same_group or plain) and token.fill == merged[-1].fill and token.font is merged[-1].font:
            last = merged[-1]
            merged[-1] = Run(last.text + token.text, last.fields, token.fill, token.font, last.printed)
        else:
            merged.append(token)
    return merged

"""Reading order and layout-preserving text.

Public helpers:

* :func:`order_lines` puts a page's lines into reading order: columns are read one
  after the other, while table rows and key/value rows stay together left to right.
* :func:`rows` groups lines printed on the same (possibly slanted) baseline.
* :func:`blocks` exposes the regions the reading order is built from.
* :func:`layout_text` renders a page as text rows with horizontal gaps kept, columns
  kept apart, optionally tagging each engine line with its index in ``page.lines``.

The reading order is a recursive XY-cut on de-skewed boxes.  A region is first cut
into horizontal bands on whitespace; consecutive bands that share a vertical gutter
form a block which is cut vertically only when the two sides are *not* row-aligned
(row-aligned sides are a table or a key/value form, whose rows must stay whole) or
when both sides are running text (a two-column page whose line grids happen to match).
Tall narrow boxes (vertical text such as a margin of tax flags) are kept out of the cut and
read where their top edge falls.  Lines are never merged: only their order and rendering change.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from statistics import median

from chatocr.document import Line, Page

# Skew beyond this is treated as vertical or rotated text, not a slanted photo.
_MAX_SKEW_DEG = 20.0
# Share of a line's height trimmed off top and bottom before looking for whitespace
# bands, so that tightly packed lines whose boxes touch still have a gap between them.
_BAND_TRIM = 0.3
# Two lines share a row when their centre lines are this many line heights apart at most.
_ROW_TOLERANCE = 0.5
# A gutter must be at least this many (median) line heights wide to separate columns.
_MIN_GUTTER = 0.6
# Bands further apart than this many line heights are not read as one column block.
_MAX_BAND_GAP = 3.0
# Sides where this share of one side's lines has a partner on the other side are a table or a form.
_ALIGNED_SHARE = 0.5
# A side of running text: lines this long (characters) that fill most of the side's width.
_PROSE_CHARS = 12
_PROSE_FILL = 0.6


@dataclass
class _Item:
    """One engine line in de-skewed page coordinates."""

    index: int
    line: Line
    x0: float
    y0: float
    x1: float
    y1: float
    slope: float  # residual slope (dy/dx) of the line after global de-skew
    # Derived once: the comparisons below run many times per page.
    cx: float = field(init=False)
    cy: float = field(init=False)
    height: float = field(init=False)

    def __post_init__(self) -> None:
        self.cx = (self.x0 + self.x1) / 2
        self.cy = (self.y0 + self.y1) / 2
        self.height = max(1.0, self.y1 - self.y0)


@dataclass
class Block:
    """A run of rows read together; ``origin_x`` is the left edge of its column (de-skewed)."""

    origin_x: float
    rows: list[list[Line]] = field(default_factory=list)
    column: int = 0  # increases every time the reading order moves to another column region


# --------------------------------------------------------------------------- geometry


def _edge_angle(p: list[float], q: list[float]) -> float | None:
    dx, dy = q[0] - p[0], q[1] - p[1]
    if dx <= 0:
        return None
    return math.atan2(dy, dx)


def _line_angle(line: Line) -> float | None:
    """Angle of the text baseline from the top and bottom edges of the 4-point box."""
    box = line.box
    if len(box) != 4:
        return None
    angles = [a for a in (_edge_angle(box[0], box[1]), _edge_angle(box[3], box[2])) if a is not None]
    if not angles:
        return None
    width = math.hypot(box[1][0] - box[0][0], box[1][1] - box[0][1])
    height = math.hypot(box[3][0] - box[0][0], box[3][1] - box[0][1])
    if width < 1.5 * max(height, 1.0):  # short boxes give unreliable angles
        return None
    return sum(angles) / len(angles)


def page_skew(lines: list[Line]) -> float:
    """The page's dominant text angle in radians (0 when unknown or implausible)."""
    angles = [a for a in (_line_angle(line) for line in lines) if a is not None]
    if not angles:
        return 0.0
    skew = median(angles)
    return skew if abs(math.degrees(skew)) <= _MAX_SKEW_DEG else 0.0


def _items(lines: list[Line]) -> list[_Item]:
    skew = page_skew(lines)
    cos, sin = math.cos(-skew), math.sin(-skew)
    items = []
    for i, line in enumerate(lines):
        points = [(x * cos - y * sin, x * sin + y * cos) for x, y in line.box] if skew else line.box
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        angle = _line_angle(line)
        residual = math.tan(angle - skew) if angle is not None and abs(angle - skew) < math.radians(30) else 0.0
        items.append(_Item(i, line, min(xs), min(ys), max(xs), max(ys), residual))
    return items


def _same_row(a: _Item, b: _Item) -> bool:
    """Do a and b sit on one baseline?  Compares centre lines, following their slopes (a bent
    receipt) or level after de-skew (a perspective photo, where box slopes overstate the row's)."""
    slope = (a.slope + b.slope) / 2
    expected_b = a.cy + slope * (b.cx - a.cx)
    distance = min(abs(b.cy - expected_b), abs(b.cy - a.cy))
    return distance <= _ROW_TOLERANCE * min(a.height, b.height) + 0.5


# --------------------------------------------------------------------------- rows


def _group_rows(items: list[_Item]) -> list[list[_Item]]:
    """Group items into rows top to bottom, each row left to right."""
    result: list[list[_Item]] = []
    for item in sorted(items, key=lambda it: (it.cy, it.x0)):
        # Join the most recent rows only: a row never reaches back past a line below it.
        target = None
        for row in reversed(result[-3:]):
            if any(_same_row(member, item) for member in row) and not any(_overlaps_x(member, item) for member in row):
                target = row
                break
        if target is None:
            result.append([item])
        else:
            target.append(item)
    for row in result:
        row.sort(key=lambda it: it.x0)
    result.sort(key=lambda row: min(it.cy for it in row))
    return result


def _overlaps_x(a: _Item, b: _Item) -> bool:
    """Lines stacked above each other overlap in x by more than half the shorter one."""
    overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    return overlap > 0.5 * min(a.x1 - a.x0, b.x1 - b.x0)


def rows(lines: list[Line]) -> list[list[Line]]:
    """Group lines printed on the same baseline (slant-aware): rows top to bottom, each left to right.

    This ignores columns; use :func:`blocks` for rows within the reading order.
    """
    if not lines:
        return []
    return [[it.line for it in row] for row in _group_rows(_items(lines))]


# --------------------------------------------------------------------------- XY-cut


def _gaps(intervals: list[tuple[float, float]], min_width: float) -> list[tuple[float, float]]:
    """Empty stretches between the covered intervals (only inside their overall extent)."""
    gaps = []
    spans = sorted(intervals)
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start - reach >= min_width:
            gaps.append((reach, start))
        reach = max(reach, end)
    return gaps


def _bands(items: list[_Item]) -> list[list[_Item]]:
    """Cut a region into horizontal bands on whitespace (trimmed boxes, so touching lines still part)."""
    spans = sorted(((it.y0 + _BAND_TRIM * it.height, it.y1 - _BAND_TRIM * it.height), i) for i, it in enumerate(items))
    bands: list[list[_Item]] = []
    reach = -math.inf
    for (top, bottom), i in spans:
        if not bands or top > reach:
            bands.append([])
        bands[-1].append(items[i])
        reach = max(reach, bottom)
    return bands


def _gutters(items: list[_Item], min_width: float) -> list[tuple[float, float]]:
    return _gaps([(it.x0, it.x1) for it in items], min_width)


def _group_bands(bands: list[list[_Item]], min_gutter: float, max_gap: float) -> list[list[list[_Item]]]:
    """Join consecutive bands while together they keep a vertical gutter with text on both sides.

    Lines of two columns whose rows are staggered fall into alternating one-line bands;
    joined, they show the gutter between the columns, which no single band does.  A band
    further than ``max_gap`` below the group starts a new group (a table under an article).
    """
    groups: list[list[list[_Item]]] = []
    current: list[list[_Item]] = []
    cover: list[tuple[float, float]] = []  # x-coverage of the current group, gaps narrower than a gutter closed
    bottom = -math.inf
    for band in bands:
        joined = _merge_spans(cover + [(it.x0, it.x1) for it in band], min_gutter)
        close = min(it.y0 for it in band) - bottom <= max_gap
        if current and close and len(joined) > 1:
            current.append(band)
            cover = joined
            bottom = max(bottom, max(it.y1 for it in band))
            continue
        if current:
            groups.append(current)
        current, cover = [band], _merge_spans([(it.x0, it.x1) for it in band], min_gutter)
        bottom = max(it.y1 for it in band)
    if current:
        groups.append(current)
    return groups


def _merge_spans(spans: list[tuple[float, float]], min_gap: float) -> list[tuple[float, float]]:
    """Union of x-spans, joining spans less than ``min_gap`` apart: more than one span left = a gutter."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] < min_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _aligned_share(left: list[_Item], right: list[_Item]) -> float:
    """How row-aligned two sides are: the larger of the two sides' shares of lines with a partner
    on the other side.  Taking the larger share keeps a form whose values run over several lines
    (every key has a partner, most value lines do not) recognised as a form."""
    return max(_count_paired(left, right) / len(left), _count_paired(right, left) / len(right))


def _count_paired(items: list[_Item], others: list[_Item]) -> int:
    """How many of ``items`` share a row with one of ``others`` (searching only a window of centre heights)."""
    others = sorted(others, key=lambda it: it.cy)
    centres = [it.cy for it in others]
    both = items + others
    span = max(it.x1 for it in both) - min(it.x0 for it in both)
    window = _ROW_TOLERANCE * max(it.height for it in others) + 0.5 + max(abs(it.slope) for it in both) * span
    count = 0
    for item in items:
        lo = bisect_left(centres, item.cy - window)
        hi = bisect_right(centres, item.cy + window)
        if any(_same_row(item, other) for other in others[lo:hi]):
            count += 1
    return count


def _is_prose(side: list[_Item]) -> bool:
    """Running text: several lines, mostly long, that fill most of the side's width."""
    if len(side) < 3:
        return False
    width = max(it.x1 for it in side) - min(it.x0 for it in side)
    if width <= 0:
        return False
    long_lines = [it for it in side if len(it.line.text) >= _PROSE_CHARS and (it.x1 - it.x0) >= _PROSE_FILL * width]
    return len(long_lines) >= 0.6 * len(side)


def _vertical_split(items: list[_Item], min_gutter: float) -> tuple[list[_Item], list[_Item]] | None:
    """Split into columns at the widest acceptable gutter, or None when the sides belong together."""
    # The widest few gutters are enough: a column gutter is wide; the rest are table cell gaps.
    for lo, hi in sorted(_gutters(items, min_gutter), key=lambda g: g[0] - g[1])[:3]:
        left = [it for it in items if it.x1 <= lo]
        right = [it for it in items if it.x0 >= hi]
        if _aligned_share(left, right) < _ALIGNED_SHARE or (_is_prose(left) and _is_prose(right)):
            return left, right
    return None


@dataclass
class _Leaf:
    items: list[_Item]
    origin_x: float
    column: int


def _xy_cut(items: list[_Item], origin_x: float, column: list[int], unit: float, out: list[_Leaf]) -> None:
    """Append the leaves of this region in reading order; ``unit`` is the page's typical line height."""
    if len(items) <= 1:
        out.append(_Leaf(items, origin_x, column[0]))
        return
    min_gutter = _MIN_GUTTER * unit
    bands = _bands(items)
    groups = _group_bands(bands, min_gutter, _MAX_BAND_GAP * unit) if len(bands) > 1 else [bands]
    if len(groups) > 1:
        for group in groups:
            _xy_cut([it for band in group for it in band], origin_x, column, unit, out)
        return
    split = _vertical_split(items, min_gutter)
    if split is not None:
        for side in split:
            column[0] += 1
            _xy_cut(side, min(it.x0 for it in side), column, unit, out)
        column[0] += 1
        return
    if len(bands) > 1:  # a table or form: its bands are its rows, top to bottom
        for band in bands:
            _xy_cut(band, origin_x, column, unit, out)
        return
    out.append(_Leaf(items, origin_x, column[0]))


def _is_vertical(item: _Item) -> bool:
    """A tall narrow box holding several characters: vertical text (a stamp, a margin of tax flags)."""
    return len(item.line.text) >= 2 and (item.y1 - item.y0) > 1.5 * (item.x1 - item.x0)


def _leaves(lines: list[Line]) -> list[_Leaf]:
    items = _items(lines)
    if not items:
        return []
    # Vertical text would open false gutters beside the rows it runs along; it is read on its
    # own, where its top edge falls, and kept out of the column analysis.
    vertical = [it for it in items if _is_vertical(it)]
    if len(vertical) == len(items):  # a page of vertical text only: read it like any other
        vertical = []
    horizontal = [it for it in items if not any(it is v for v in vertical)]
    out: list[_Leaf] = []
    if horizontal:
        typical_height = median(it.height for it in horizontal)
        origin = min(it.x0 for it in horizontal)
        _xy_cut(horizontal, origin, [0], typical_height, out)
    for item in sorted(vertical, key=lambda it: it.y0):
        tops = [min(it.y0 for it in leaf.items) for leaf in out]
        position = next((k for k, top in enumerate(tops) if top > item.y0), len(out))
        column = out[position - 1].column if position else 0
        origin = out[position - 1].origin_x if position else item.x0
        out.insert(position, _Leaf([item], min(origin, item.x0), column))
    return out


def blocks(lines: list[Line]) -> list[Block]:
    """The page as blocks in reading order, each a list of rows (left to right)."""
    result = []
    for leaf in _leaves(lines):
        if leaf.items:
            result.append(
                Block(
                    origin_x=leaf.origin_x,
                    rows=[[it.line for it in row] for row in _group_rows(leaf.items)],
                    column=leaf.column,
                )
            )
    return result


def order_lines(lines: list[Line]) -> list[Line]:
    """The same lines in reading order (columns one after another, rows kept whole)."""
    return [line for block in blocks(lines) for row in block.rows for line in row]


# --------------------------------------------------------------------------- layout text


def _char_width(items: list[_Item]) -> float:
    widths = [(it.x1 - it.x0) / len(it.line.text) for it in items if it.line.text]
    return max(1.0, median(widths)) if widths else 10.0


def layout_text(page: Page, *, line_refs: bool = False, max_width: int = 120) -> str:
    """Render the page as text rows in reading order, horizontal gaps kept as spaces.

    Lines of one row are placed near their printed column (at least two spaces apart);
    a new column region starts after a blank line.  With ``line_refs`` each engine line
    is prefixed with ``[n]``, its index in ``page.lines``.
    """
    if not page.lines:
        return ""
    items = _items(page.lines)
    by_id = {id(it.line): it for it in items}
    char_w = _char_width(items)
    max_indent = 8
    out: list[str] = []
    last_column: int | None = None
    for leaf in _leaves(page.lines):
        if not leaf.items:
            continue
        if last_column is not None and leaf.column != last_column and out and out[-1] != "":
            out.append("")
        last_column = leaf.column
        for row in _group_rows(leaf.items):
            text = ""
            for item in row:
                it = by_id[id(item.line)]
                col = min(max(0, int((it.x0 - leaf.origin_x) / char_w)), max_width)
                piece = f"[{it.index}]{it.line.text}" if line_refs else it.line.text
                if text:
                    text += " " * max(2, col - len(text))
                else:
                    text = " " * min(col, max_indent)
                text += piece
            out.append(text.rstrip())
    return "\n".join(out)

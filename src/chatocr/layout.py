"""Reading order and layout-preserving text.

``order_lines`` sorts a page's lines into reading order; ``rows`` groups lines
printed on the same baseline; ``layout_text`` renders rows with horizontal gaps
kept as spaces so that label/value pairs and table rows stay recognisable for the
language model.
"""

from __future__ import annotations

from statistics import median

from chatocr.document import Line, Page


def _center_y(line: Line) -> float:
    _, y0, _, y1 = line.bounds
    return (y0 + y1) / 2


def _height(line: Line) -> float:
    _, y0, _, y1 = line.bounds
    return max(1.0, y1 - y0)


def rows(lines: list[Line]) -> list[list[Line]]:
    """Group lines whose vertical centres lie within half a line height of each other."""
    if not lines:
        return []
    typical = median(_height(line) for line in lines)
    result: list[list[Line]] = []
    for line in sorted(lines, key=_center_y):
        if result:
            row = result[-1]
            row_center = sum(_center_y(m) for m in row) / len(row)
            if abs(_center_y(line) - row_center) <= 0.5 * typical:
                row.append(line)
                continue
        result.append([line])
    return [sorted(row, key=lambda m: m.bounds[0]) for row in result]


def order_lines(lines: list[Line]) -> list[Line]:
    return [line for row in rows(lines) for line in row]


def layout_text(page: Page, *, line_refs: bool = False, max_width: int = 120) -> str:
    """Render the page as text rows; with ``line_refs`` each line is tagged ``[n]`` with its index."""
    if not page.lines:
        return ""
    index = {id(line): i for i, line in enumerate(page.lines)}
    chars = [len(line.text) for line in page.lines if line.text]
    widths = [(line.bounds[2] - line.bounds[0]) / max(1, len(line.text)) for line in page.lines if line.text]
    char_w = max(1.0, median(widths)) if widths and chars else 10.0
    out: list[str] = []
    for row in rows(page.lines):
        text = ""
        for line in row:
            col = min(int(line.bounds[0] / char_w), max_width)
            piece = f"[{index[id(line)]}]{line.text}" if line_refs else line.text
            if text:
                text += " " * max(2 if line_refs else 1, col - len(text))
            else:
                text = " " * min(col, 8)
            text += piece
        out.append(text.rstrip())
    return "\n".join(out)

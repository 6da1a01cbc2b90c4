"""Reading order and layout text: columns stay together, table and form rows stay whole."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from chatocr.document import Box, Line, Page, box_from_rect
from chatocr.layout import blocks, layout_text, order_lines, page_skew, rows

CHAR_W = 12  # pixels per character of the synthetic lines
LINE_H = 24


def make_line(text: str, x: float, y: float, *, width: float | None = None) -> Line:
    w = width if width is not None else CHAR_W * len(text)
    return Line(text=text, box=box_from_rect(x, y, x + w, y + LINE_H), confidence=0.99)


def rotate_box(box: Box, degrees: float, cx: float = 0.0, cy: float = 0.0) -> Box:
    a = math.radians(degrees)
    return [
        [cx + (x - cx) * math.cos(a) - (y - cy) * math.sin(a), cy + (x - cx) * math.sin(a) + (y - cy) * math.cos(a)]
        for x, y in box
    ]


def rotated(lines: list[Line], degrees: float) -> list[Line]:
    return [Line(text=ln.text, box=rotate_box(ln.box, degrees, 500, 500), confidence=ln.confidence) for ln in lines]


def page_of(lines: list[Line]) -> Page:
    return Page(page=1, width=1200, height=1600, lines=lines)


def texts(lines: list[Line]) -> list[str]:
    return [line.text for line in lines]


LEFT_PROSE = [
    "The quarterly report shows that",
    "revenue grew in every region while",
    "costs stayed close to the plan for",
    "the third consecutive quarter and",
    "the board approved the budget.",
]
RIGHT_PROSE = [
    "Shipping times improved after the",
    "new warehouse opened in March and",
    "customer complaints fell by about",
    "one third compared with last year",
    "according to the service desk.",
]


def two_column_lines(right_offset: float) -> list[Line]:
    lines = [make_line("ANNUAL SUMMARY OF THE COMPANY AND ITS SUBSIDIARIES", 150, 40)]
    lines += [make_line(t, 40, 120 + 36 * i, width=400) for i, t in enumerate(LEFT_PROSE)]
    lines += [make_line(t, 500, 120 + right_offset + 36 * i, width=400) for i, t in enumerate(RIGHT_PROSE)]
    lines.append(make_line("Page 1 of 4", 450, 400))
    return lines


# ------------------------------------------------------------------------ two columns


@pytest.mark.parametrize("right_offset", [0.0, 13.0], ids=["rows-aligned", "rows-offset"])
def test_two_column_page_reads_each_column_in_order(right_offset: float) -> None:
    lines = two_column_lines(right_offset)
    # Shuffle the input so the order cannot come from the input order.
    shuffled = lines[::2] + lines[1::2]
    ordered = texts(order_lines(shuffled))
    assert ordered == ["ANNUAL SUMMARY OF THE COMPANY AND ITS SUBSIDIARIES", *LEFT_PROSE, *RIGHT_PROSE, "Page 1 of 4"]


def test_two_column_layout_text_keeps_columns_apart() -> None:
    text = layout_text(page_of(two_column_lines(13.0)))
    out_rows = text.splitlines()
    # No layout row mixes the two columns.
    for row in out_rows:
        assert not (any(t in row for t in LEFT_PROSE) and any(t in row for t in RIGHT_PROSE)), row
    left_rows = [i for i, r in enumerate(out_rows) if r.strip() in LEFT_PROSE]
    right_rows = [i for i, r in enumerate(out_rows) if r.strip() in RIGHT_PROSE]
    assert left_rows == sorted(left_rows) and right_rows == sorted(right_rows)
    assert max(left_rows) < min(right_rows)
    # The columns are separated by a blank line.
    assert "" in out_rows[max(left_rows) : min(right_rows)]


# ------------------------------------------------------------------------ tables and forms

TABLE = [
    ["Item", "Qty", "Price", "Amount"],
    ["Braised pork rice", "2", "7.00", "14.00"],
    ["Jasmine green tea", "1", "2.30", "2.30"],
    ["Roast chicken", "3", "11.90", "35.70"],
    ["Total", "", "", "52.00"],
]
TABLE_X = [40, 400, 520, 680]


def table_lines(y0: float = 100) -> list[Line]:
    lines = []
    for r, row in enumerate(TABLE):
        for c, cell in enumerate(row):
            if cell:
                # Cells of one row are a few pixels off each other, as real OCR boxes are.
                lines.append(make_line(cell, TABLE_X[c], y0 + 40 * r + (c % 2) * 3))
    return lines


def expected_table_rows() -> list[list[str]]:
    return [[cell for cell in row if cell] for row in TABLE]


def test_table_rows_stay_whole_in_column_order() -> None:
    lines = table_lines()
    assert [texts(r) for r in rows(lines[::-1])] == expected_table_rows()
    assert texts(order_lines(lines[::-1])) == [cell for row in expected_table_rows() for cell in row]
    out_rows = layout_text(page_of(lines)).splitlines()
    assert len(out_rows) == len(TABLE)
    for out, cells in zip(out_rows, expected_table_rows(), strict=True):
        positions = [out.index(cell) for cell in cells]
        assert positions == sorted(positions), out
    # Columns line up across rows: every "Amount" value starts at the same character.
    amount_cols = {out.rindex(row[-1]) for out, row in zip(out_rows, expected_table_rows(), strict=True)}
    assert len(amount_cols) == 1


def test_table_below_text_and_beside_nothing_keeps_rows() -> None:
    intro = [make_line("Order summary for table A10, printed at the counter", 40, 30)]
    lines = intro + table_lines(100)
    ordered = texts(order_lines(lines))
    assert ordered == [intro[0].text] + [cell for row in expected_table_rows() for cell in row]


def test_key_value_form_keeps_each_pair_on_one_row() -> None:
    form = [("Name:", "Zhang Wei"), ("Certificate No.:", "2023-0815"), ("Date:", "2023-06-30"), ("Level:", "Gold")]
    lines = []
    for i, (key, value) in enumerate(form):
        lines.append(make_line(key, 60, 200 + 45 * i))
        lines.append(make_line(value, 420, 200 + 45 * i + 4))
    ordered = texts(order_lines(lines[::-1]))
    assert ordered == [t for pair in form for t in pair]
    out_rows = layout_text(page_of(lines)).splitlines()
    assert len(out_rows) == len(form)
    for out, (key, value) in zip(out_rows, form, strict=True):
        assert out.strip().startswith(key) and out.rstrip().endswith(value)
        assert "  " in out[out.index(key) + len(key) :]  # the printed gap is kept


def test_form_with_multi_line_values_keeps_each_key_before_its_value() -> None:
    form = [
        ("Company:", ["Sunrise Trading Co., Ltd."]),
        ("Address:", ["No. 8 Harbour Road,", "Building 3, Floor 12,", "Nanshan District,", "Shenzhen,", "518000"]),
        ("Scope:", ["Import and export,", "software development,", "consulting,", "training,", "leasing"]),
    ]
    lines, y = [], 100
    for key, values in form:
        lines.append(make_line(key, 60, y))
        for k, value in enumerate(values):
            lines.append(make_line(value, 300, y + 1 + 30 * k))
        y += 30 * len(values) + 12
    ordered = texts(order_lines(lines[::-1]))
    assert ordered == [t for key, values in form for t in (key, *values)]


# ------------------------------------------------------------------------ skew


@pytest.mark.parametrize("degrees", [-6.0, 3.0, 8.0])
def test_skewed_table_rows_stay_whole(degrees: float) -> None:
    lines = rotated(table_lines(), degrees)
    assert abs(math.degrees(page_skew(lines)) - degrees) < 1.0
    assert [texts(r) for r in rows(lines)] == expected_table_rows()
    assert texts(order_lines(lines)) == [cell for row in expected_table_rows() for cell in row]
    assert len(layout_text(page_of(lines)).splitlines()) == len(TABLE)


def test_skewed_two_column_page() -> None:
    lines = rotated(two_column_lines(13.0), 4.0)
    assert texts(order_lines(lines)) == texts(two_column_lines(13.0))


def test_rows_follow_each_line_slope_on_a_curved_photo() -> None:
    # The left half of the page is level, the right half droops: a bent receipt.
    lines = []
    for r in range(4):
        y = 100 + 50 * r
        lines.append(make_line(f"item number {r}", 40, y))
        price = make_line(f"{r}.99", 700, y + 30)
        lines.append(Line(text=price.text, box=rotate_box(price.box, 6.0, 700, y + 30), confidence=0.9))
        slanted = make_line(f"qty {r}", 420, y + 12)
        lines.append(Line(text=slanted.text, box=rotate_box(slanted.box, 6.0, 420, y + 12), confidence=0.9))
    got = [texts(r) for r in rows(lines)]
    assert got == [[f"item number {r}", f"qty {r}", f"{r}.99"] for r in range(4)]


# ------------------------------------------------------------------------ edge cases and contract


def test_empty_page() -> None:
    assert layout_text(page_of([])) == ""
    assert order_lines([]) == []
    assert rows([]) == []
    assert blocks([]) == []


def test_single_line_and_lines_are_never_merged() -> None:
    one = [make_line("only line", 10, 10)]
    assert order_lines(one) == one
    lines = table_lines() + two_column_lines(0.0)
    ordered = order_lines(lines)
    assert len(ordered) == len(lines)
    assert {id(line) for line in ordered} == {id(line) for line in lines}


def test_line_refs_tag_each_line_with_its_index() -> None:
    lines = table_lines()[::-1]  # page.lines in some other order than reading order
    page = page_of(lines)
    text = layout_text(page, line_refs=True)
    for i, line in enumerate(page.lines):
        assert text.count(f"[{i}]{line.text}") == 1
    first_row = text.splitlines()[0]
    assert first_row.strip().startswith(f"[{lines.index(next(ln for ln in lines if ln.text == 'Item'))}]Item")


def test_vertical_text_does_not_break_ordering() -> None:
    # A tall narrow box (vertical stamp text) next to normal rows.
    stamp = Line(text="STAMP", box=box_from_rect(900, 100, 924, 260), confidence=0.8)
    lines = [*table_lines(), stamp]
    ordered = order_lines(lines)
    assert len(ordered) == len(lines)
    cells = [line.text for line in ordered if line is not stamp]
    assert cells == [cell for row in expected_table_rows() for cell in row]


# ------------------------------------------------------------------------ through the real OCR engine

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.slow
@pytest.mark.skipif(not FONT.is_file(), reason="DejaVu Sans font (Debian fonts-dejavu-core) is not installed")
def test_rendered_two_column_page_through_ocr(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    import chatocr

    font = ImageFont.truetype(str(FONT), 26)
    image = Image.new("RGB", (1200, 700), "white")
    draw = ImageDraw.Draw(image)
    draw.text((260, 40), "QUARTERLY SUMMARY", font=font, fill="black")
    for i, t in enumerate(LEFT_PROSE):
        draw.text((40, 130 + 44 * i), t, font=font, fill="black")
    for i, t in enumerate(RIGHT_PROSE):
        draw.text((640, 150 + 44 * i), t, font=font, fill="black")
    path = tmp_path / "two_columns.png"
    image.save(path)

    page = chatocr.ocr(path).pages[0]
    got = [line.text for line in page.lines]

    def position(expected: str) -> int:
        # OCR may differ in a character or two; locate each known line by its first word pair.
        key = " ".join(expected.split()[:2]).lower()
        hits = [i for i, t in enumerate(got) if t.lower().startswith(key)]
        assert hits, f"{expected!r} not found in {got}"
        return hits[0]

    left = [position(t) for t in LEFT_PROSE]
    right = [position(t) for t in RIGHT_PROSE]
    assert left == sorted(left) and right == sorted(right)
    assert max(left) < min(right), got
    for row in layout_text(page).splitlines():
        mixes = any(" ".join(t.split()[:2]) in row for t in LEFT_PROSE) and any(
            " ".join(t.split()[:2]) in row for t in RIGHT_PROSE
        )
        assert not mixes, row


def test_tax_flag_column_of_vertical_text_does_not_split_the_receipt() -> None:
    # Receipt photos often show a column of tax flags ("E E E") that the engine reads as one tall box.
    header = [make_line("WAREHOUSE CLUB", 200, 20), make_line("MIAMI BEACH 182", 190, 60)]
    items = []
    for r in range(6):
        items.append(make_line(f"10{r}00 ITEM {r}", 100, 120 + 30 * r))
        items.append(make_line(f"{r}.99", 420, 121 + 30 * r))
    flags = Line(text="EEEEE", box=box_from_rect(40, 140, 60, 290), confidence=0.7)
    ordered = [line for line in order_lines([*header, flags, *items]) if line is not flags]
    assert texts(ordered) == texts(header) + texts(items)


def test_large_page_is_ordered_quickly() -> None:
    import time

    lines = []
    for col in range(2):
        for r in range(300):
            y = 50 + 20 * r + 7 * col
            lines.append(
                Line(text="word " * 8, box=box_from_rect(40 + 520 * col, y, 460 + 520 * col, y + 16), confidence=1)
            )
    for r in range(100):
        for c in range(8):
            y = 7000 + 22 * r
            lines.append(Line(text="12.50", box=box_from_rect(40 + 130 * c, y, 100 + 130 * c, y + 16), confidence=1))
    start = time.perf_counter()
    ordered = order_lines(lines[::-1])
    assert time.perf_counter() - start < 10  # typically well under a second; generous for a busy machine
    assert ordered[:300] == lines[:300] and ordered[300:600] == lines[300:600]  # column by column
    assert ordered[600:] == lines[600:]  # table rows whole, left to right


SROIE_GT = Path("/work/shared/benchmarks/sroie/ocr/train_020.json")


@pytest.mark.skipif(not SROIE_GT.is_file(), reason="/work/shared/benchmarks/sroie is not available on this machine")
def test_real_receipt_ground_truth_boxes_keep_label_value_and_item_rows() -> None:
    import json

    entries = json.loads(SROIE_GT.read_text(encoding="utf-8"))
    lines = [
        Line(text=e["text"], box=[[e["box"][k], e["box"][k + 1]] for k in range(0, 8, 2)], confidence=1.0)
        for e in entries
    ]
    out_rows = [" ".join(row.split()) for row in layout_text(page_of(lines)).splitlines()]
    assert "CASHIER USER DATE: 06/03/2018" in out_rows
    assert "(T02) BRAISED PORK 2.0 7.00 14.00" in out_rows
    assert "TOTAL SALES (INCLUSIVE OF GST) 54.50" in out_rows
    assert out_rows[0] == "SYL ROASTED DELIGHTS SDN. BHD."

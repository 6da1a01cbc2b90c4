"""English commercial invoices: invoice number and dates, a Bill To block, line items and totals.

Each invoice prints Invoice No., Invoice Date, Due Date, Bill To (a company and its address over
several lines), a line-item table (Description, Qty, Unit Price, Amount) and its totals (Subtotal,
a tax, Total), each key under one of its usual names (Invoice # or Invoice Number, VAT or GST,
Total or Amount Due or Balance Due...), and some optional keys (PO Number, Payment Terms,
Customer ID, Shipping).  The label key is the printed key itself: there is no template, so field
names vary from invoice to invoice.  One or two optional keys an invoice does not print are
labelled absent.  Line items are not labelled (a table, not one value per key).

Labels: dates YYYY-MM-DD, amounts "1234.50", Bill To its printed lines joined with one space, the
rest as printed.  The tax key is labelled without the rate printed after it ("VAT" for "VAT (20%)").

Layouts: ``classic`` (meta block top right, ruled item table), ``modern`` (a coloured band, keys
printed small over their values, rules between item rows only) and ``boxed`` (everything in ruled
boxes: a meta grid, a Bill To box, the items and a totals grid; the held-out layout).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from chatocr.data.synth import fonts, values
from chatocr.data.synth.canvas import Canvas, Run
from chatocr.data.synth.kinds import DocKind, Entry, RenderRequest, label_absent

WIDTH = 1700
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
# (symbol, tax name, rate %)
CURRENCIES = [
    ("$", ("Tax", "Sales Tax"), [6, 7, 8]),
    ("£", ("VAT",), [20]),
    ("€", ("VAT",), [19, 21]),
    ("S$", ("GST",), [8, 9]),
    ("A$", ("GST",), [10]),
    ("RM", ("SST", "Service Tax"), [6, 8]),
]
SELLER_PARTS = (
    ["Northwind", "Bluestone", "Harbor", "Summit", "Redwood", "Apex", "Lumen", "Ironbridge", "Crescent", "Oakline"],
    ["Consulting", "Supplies", "Digital", "Logistics", "Engineering", "Office Solutions", "Trading", "Systems"],
    ["Ltd", "LLC", "Inc.", "Pte Ltd", "Sdn Bhd", "GmbH", "Pty Ltd", "Co."],
)
STREETS = ["Harbour Road", "Maple Avenue", "King Street", "Orchard Road", "Elm Drive", "Jalan Ampang", "Station Road",
           "Queen's Way", "Market Street", "Park Lane"]  # fmt: skip
CITIES = ["Singapore 238801", "Kuala Lumpur 50450", "Boston, MA 02110", "Leeds LS1 4AP", "Auckland 1010",
          "Perth WA 6000", "Dublin D02 X285", "Austin, TX 78701", "Manchester M1 2WD",
          "Melbourne VIC 3000"]  # fmt: skip
ITEMS = [
    ("Consulting services (hours)", 150), ("Website maintenance - monthly", 480), ("Office chairs", 129),
    ("Software licence - annual", 1200), ("Printer toner cartridge", 64.5), ("Installation labour (hours)", 85),
    ("Network switch 24-port", 310), ("Translation, per 1,000 words", 95), ("Cloud hosting", 220),
    ("Training workshop", 900), ("Steel brackets, box of 50", 42.8), ("Freight handling", 75),
    ("Graphic design", 640), ("Laptop stand", 39.9), ("Annual support plan", 2400), ("A4 paper, 5 reams", 27.5),
]  # fmt: skip
TERMS = [("Net 14", 14), ("Net 30", 30), ("Net 45", 45), ("Due on receipt", 0), ("Net 60", 60)]
OPTIONAL: list[tuple[str, ...]] = [
    ("PO Number", "Purchase Order", "PO #"),
    ("Payment Terms", "Terms"),
    ("Customer ID", "Account No.", "Customer No."),
    ("Shipping", "Freight"),
]


@dataclass
class Invoice:
    seller: str
    seller_lines: list[str]
    meta: list[Entry]  # Invoice No., dates and the optional reference keys
    bill_key: str
    bill_lines: list[str]
    items: list[tuple[str, int, Decimal, Decimal]]  # description, qty, unit price, amount
    totals: list[Entry]  # subtotal, (shipping), tax, total
    tax_rate: str  # "(20%)", printed after the tax key
    symbol: str
    unprinted: list[tuple[str, ...]]

    @property
    def bill_to(self) -> Entry:
        joined = " ".join(self.bill_lines)
        return Entry(self.bill_key, joined, joined)


def _date(day: dt.date, style: str) -> str:
    if style == "long":
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    if style == "us":
        return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
    if style == "short":
        return f"{day.day:02d} {MONTHS[day.month - 1][:3]} {day.year}"
    return values.en_date(day, style)


def _company(rng: random.Random) -> str:
    first, middle, last = SELLER_PARTS
    return f"{rng.choice(first)} {rng.choice(middle)} {rng.choice(last)}"


def _address(rng: random.Random) -> list[str]:
    lines = [f"{rng.randint(1, 480)} {rng.choice(STREETS)}"]
    if rng.random() < 0.35:
        lines.insert(0, rng.choice(["Suite", "Unit", "Level", "Floor"]) + f" {rng.randint(1, 40)}")
    lines.append(rng.choice(CITIES))
    return lines


def sample(rng: random.Random) -> Invoice:
    symbol, tax_names, rates = rng.choice(CURRENCIES)
    rate = rng.choice(rates)
    issued = values.random_date(rng, 2016, 2025)
    date_style = rng.choice(["long", "us", "short", "dmy", "ymd"])
    terms, days = rng.choice(TERMS)
    due = issued + dt.timedelta(days=days or rng.choice([7, 14]))
    number = rng.choice(
        [
            f"INV-{issued.year}-{rng.randint(1, 9999):04d}",
            str(rng.randint(1000, 99999)),
            f"{rng.choice('ABCS')}{rng.randint(100000, 999999)}",
            f"INV{rng.randint(10000, 999999)}",
        ]
    )
    meta = [
        Entry(rng.choice(["Invoice No.", "Invoice Number", "Invoice #", "Invoice No"]), number, number),
        Entry(
            rng.choice(["Invoice Date", "Date", "Date of Issue", "Issue Date"]),
            _date(issued, date_style),
            values.iso(issued),
        ),
        Entry(rng.choice(["Due Date", "Payment Due", "Due By"]), _date(due, date_style), values.iso(due)),
    ]
    skipped = rng.sample(OPTIONAL, rng.randint(1, 2))
    printed = [names for names in OPTIONAL if names not in skipped and rng.random() < 0.6]
    shipping = Decimal(0)
    shipping_entry: Entry | None = None
    for names in printed:
        key = rng.choice(names)
        if names[0] == "PO Number":
            po = rng.choice(["PO-", "P", ""]) + str(rng.randint(10000, 999999))
            meta.append(Entry(key, po, po))
        elif names[0] == "Payment Terms":
            meta.append(Entry(key, terms, terms))
        elif names[0] == "Customer ID":
            customer = rng.choice(["C-", "CUST", "AC"]) + str(rng.randint(1000, 99999))
            meta.append(Entry(key, customer, customer))
        else:
            shipping = values.money(Decimal(rng.randint(1000, 25000)) / 100)
            shipping_entry = Entry(key, f"{symbol}{shipping:,.2f}", values.amount_label(shipping))
    items = []
    for description, price in rng.sample(ITEMS, rng.randint(2, 6)):
        qty = rng.choice([1, 1, 2, 3, 4, 5, 6, 10, 12, 20])
        unit = values.money(Decimal(str(price)) * Decimal(rng.choice(["0.9", "1", "1", "1.1", "1.25"])))
        items.append((description, qty, unit, values.money(unit * qty)))
    subtotal = sum((amount for *_, amount in items), Decimal(0))
    tax = values.money((subtotal + shipping) * rate / 100)
    total = subtotal + shipping + tax
    totals = [
        Entry(
            rng.choice(["Subtotal", "Sub-total", "Net Amount"]),
            f"{symbol}{subtotal:,.2f}",
            values.amount_label(subtotal),
        )
    ]
    if shipping_entry:
        totals.append(shipping_entry)
    totals.append(Entry(rng.choice(tax_names), f"{symbol}{tax:,.2f}", values.amount_label(tax)))
    total_key = rng.choice(["Total", "Amount Due", "Balance Due", "Total Due", "Grand Total", "Invoice Total"])
    totals.append(Entry(total_key, f"{symbol}{total:,.2f}", values.amount_label(total)))
    seller = _company(rng)
    seller_lines = [*_address(rng), f"Tel +{rng.randint(1, 65)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"]
    bill_lines = [_company(rng), *_address(rng)]
    return Invoice(
        seller=seller,
        seller_lines=seller_lines,
        meta=meta,
        bill_key=rng.choice(["Bill To", "Billed To", "Invoice To", "Customer"]),
        bill_lines=bill_lines,
        items=items,
        totals=totals,
        tax_rate=f"({rate}%)",
        symbol=symbol,
        unprinted=[names for names in OPTIONAL if names not in printed],
    )


def _key_text(inv: Invoice, entry: Entry) -> str:
    """The printed key: the tax key carries its rate."""
    return f"{entry.key} {inv.tax_rate}" if entry is inv.totals[-2] else entry.key


def _bill_to(canvas: Canvas, inv: Invoice, x: float, y: float, font: fonts.ImageFont.FreeTypeFont) -> float:
    """The Bill To lines, each a box of the one label."""
    entry = inv.bill_to
    for line in inv.bill_lines:
        canvas.runs((x, y), [Run(line, [(entry.key, entry.label)], printed=entry.printed)], font)
        y += font.size * 1.45
    return y


def _item_cells(inv: Invoice) -> list[list[str]]:
    return [[d, str(q), f"{u:,.2f}", f"{a:,.2f}"] for d, q, u, a in inv.items]


def _finish(canvas: Canvas, rng: random.Random, inv: Invoice, y: float, font: fonts.ImageFont.FreeTypeFont) -> Canvas:
    closing = rng.choice(
        [
            "Thank you for your business.",
            "Please include the invoice number with your payment.",
            "Payment by bank transfer within the stated terms.",
        ]
    )
    canvas.text((80, y), closing, font, fill=(90, 90, 90))
    canvas.crop_height(max(1300, int(y + 120)))
    return label_absent(canvas, rng, inv.unprinted)


def render_classic(req: RenderRequest) -> Canvas:
    """Seller top left, INVOICE and the meta block top right, a ruled item table, totals below right."""
    rng = req.rng
    inv = sample(rng)
    canvas = Canvas(WIDTH, 2300)
    face = req.fonts.pick("latin", rng)
    bold = req.fonts.pick("latin_bold", rng)
    font = fonts.load(face, 30)
    canvas.text((80, 70), inv.seller, fonts.load(bold, 44))
    y = 140.0
    for line in inv.seller_lines:
        canvas.text((80, y), line, fonts.load(face, 26), fill=(80, 80, 80))
        y += 38
    canvas.text((WIDTH - 80, 60), "INVOICE", fonts.load(bold, 70), fill=(40, 60, 110), align="right")
    my = 170.0
    for entry in inv.meta:
        canvas.text((1020, my), f"{entry.key}:", fonts.load(bold, 28))
        canvas.runs((WIDTH - 80, my), [entry.value_run()], fonts.load(face, 28), align="right")
        my += 46
    y = max(y, my) + 50
    canvas.text((80, y), f"{inv.bill_key}:", fonts.load(bold, 30))
    y = _bill_to(canvas, inv, 80, y + 48, font) + 50
    cols = [780, 150, 300, 310]
    head = canvas.grid(80, y, cols, [60], (60, 60, 60))[0]
    for cell, text in zip(head, ["Description", "Qty", "Unit Price", "Amount"], strict=True):
        canvas.draw.rectangle((cell[0] + 1, cell[1] + 1, cell[2] - 1, cell[3] - 1), fill=(225, 230, 240))
        canvas.cell_text(cell, text, fonts.load(bold, 28), align="left" if text == "Description" else "right")
    rows = canvas.grid(80, y + 60, cols, [58] * len(inv.items), (60, 60, 60))
    for cells, texts in zip(rows, _item_cells(inv), strict=True):
        for c, (cell, text) in enumerate(zip(cells, texts, strict=True)):
            canvas.cell_text(
                cell, text, canvas.fit_font(face, text, cell[2] - cell[0] - 24, 28), align="left" if c == 0 else "right"
            )
    y += 60 + 58 * len(inv.items) + 30
    for entry in inv.totals:
        last = entry is inv.totals[-1]
        key_font = fonts.load(bold if last else face, 32 if last else 30)
        canvas.text((1020, y), _key_text(inv, entry), key_font)
        canvas.runs((WIDTH - 90, y), [entry.value_run()], key_font, align="right")
        y += 52
    return _finish(canvas, rng, inv, y + 60, fonts.load(face, 26))


def render_modern(req: RenderRequest) -> Canvas:
    """A coloured band, meta keys printed small over their values, rules between item rows only."""
    rng = req.rng
    inv = sample(rng)
    canvas = Canvas(WIDTH, 2300)
    face = req.fonts.pick("latin", rng)
    bold = req.fonts.pick("latin_bold", rng)
    accent = rng.choice([(24, 92, 120), (90, 40, 110), (30, 110, 70), (40, 40, 40)])
    canvas.rect((0, 0, WIDTH, 200), outline=accent, width=1, fill=accent)
    canvas.text((80, 50), inv.seller, fonts.load(bold, 46), fill=(255, 255, 255))
    canvas.text((80, 118), " · ".join(inv.seller_lines[-2:]), fonts.load(face, 26), fill=(230, 230, 230))
    canvas.text((WIDTH - 80, 70), "Invoice", fonts.load(bold, 56), fill=(255, 255, 255), align="right")
    small = fonts.load(face, 24)
    value_font = fonts.load(bold, 30)
    y = 260.0
    column = (WIDTH - 160) / 3
    for i, entry in enumerate(inv.meta):
        x, row_y = 80 + (i % 3) * column, y + (i // 3) * 110
        canvas.text((x, row_y), entry.key, small, fill=(120, 120, 120))
        canvas.runs((x, row_y + 36), [entry.value_run()], value_font)
    y += 110 * ((len(inv.meta) + 2) // 3) + 30
    canvas.text((80, y), inv.bill_key, small, fill=(120, 120, 120))
    y = _bill_to(canvas, inv, 80, y + 38, fonts.load(face, 30)) + 50
    xs = [80, 900, 1090, 1370, WIDTH - 80]
    canvas.rect((80, y, WIDTH - 80, y + 60), outline=accent, width=1, fill=accent)
    for c, text in enumerate(["Description", "Qty", "Unit Price", "Amount"]):
        x, align = (xs[0] + 16, "left") if c == 0 else (xs[c + 1] - 16, "right")
        canvas.text((x, y + 14), text, fonts.load(bold, 28), fill=(255, 255, 255), align=align)
    y += 60
    font = fonts.load(face, 28)
    for texts in _item_cells(inv):
        for c, text in enumerate(texts):
            x, align = (xs[0] + 16, "left") if c == 0 else (xs[c + 1] - 16, "right")
            canvas.text((x, y + 16), text, canvas.fit_font(face, text, 780, 28) if c == 0 else font, align=align)
        y += 62
        canvas.line([(80, y), (WIDTH - 80, y)], fill=(200, 200, 200), width=2)
    y += 40
    for entry in inv.totals:
        last = entry is inv.totals[-1]
        if last:
            canvas.rect((1000, y - 12, WIDTH - 80, y + 58), outline=accent, width=1, fill=(236, 240, 244))
        key_font = fonts.load(bold if last else face, 30)
        canvas.text((1020, y), _key_text(inv, entry), key_font)
        canvas.runs((WIDTH - 96, y), [entry.value_run()], key_font, align="right")
        y += 70 if last else 52
    return _finish(canvas, rng, inv, y + 60, fonts.load(face, 26))


def render_boxed(req: RenderRequest) -> Canvas:
    """Ruled boxes throughout: a meta grid beside the Bill To box, the items, a totals grid."""
    rng = req.rng
    inv = sample(rng)
    canvas = Canvas(WIDTH, 2300)
    face = req.fonts.pick("latin", rng)
    bold = req.fonts.pick("latin_bold", rng)
    line = (50, 50, 50)
    canvas.text((WIDTH / 2, 50), "COMMERCIAL INVOICE", fonts.load(bold, 52), align="center")
    canvas.text((WIDTH / 2, 125), f"{inv.seller} · {inv.seller_lines[-2]}", fonts.load(face, 26), align="center")
    y = 200.0
    meta_cells = canvas.grid(900, y, [300, 420], [64] * len(inv.meta), line)
    for (key_cell, value_cell), entry in zip(meta_cells, inv.meta, strict=True):
        canvas.cell_text(key_cell, entry.key, fonts.load(bold, 26))
        canvas.cell_text(value_cell, [entry.value_run()], canvas.fit_font(face, entry.printed, 396, 28))
    box_bottom = y + max(64 * len(inv.meta), 64 + 44 * len(inv.bill_lines) + 20)
    canvas.rect((80, y, 840, box_bottom), outline=line, width=2)
    canvas.rect((80, y, 840, y + 56), outline=line, width=2, fill=(232, 232, 232))
    canvas.text((96, y + 12), inv.bill_key, fonts.load(bold, 28))
    _bill_to(canvas, inv, 100, y + 76, fonts.load(face, 30))
    y = max(box_bottom, y + 64 * len(inv.meta)) + 50
    cols = [760, 160, 300, 320]
    head = canvas.grid(80, y, cols, [60], line)[0]
    for cell, text in zip(head, ["Description", "Qty", "Unit Price", "Amount"], strict=True):
        canvas.cell_text(cell, text, fonts.load(bold, 28), align="center")
    rows = canvas.grid(80, y + 60, cols, [58] * len(inv.items), line)
    for cells, texts in zip(rows, _item_cells(inv), strict=True):
        for c, (cell, text) in enumerate(zip(cells, texts, strict=True)):
            canvas.cell_text(
                cell, text, canvas.fit_font(face, text, cell[2] - cell[0] - 24, 28), align="left" if c == 0 else "right"
            )
    y += 60 + 58 * len(inv.items)
    total_cells = canvas.grid(80 + 760 + 160, y, [300, 320], [60] * len(inv.totals), line)
    for (key_cell, value_cell), entry in zip(total_cells, inv.totals, strict=True):
        key = _key_text(inv, entry)
        canvas.cell_text(key_cell, key, canvas.fit_font(bold, key, 276, 28))
        canvas.cell_text(value_cell, [entry.value_run()], fonts.load(face, 28), align="right")
    y += 60 * len(inv.totals) + 60
    return _finish(canvas, rng, inv, y, fonts.load(face, 26))


KIND = DocKind(
    name="english_invoice",
    template="",  # an open set: each invoice's own printed keys are its fields
    fields=(),
    languages=("en",),
    renderers={
        "classic": render_classic,
        "modern": render_modern,
        "boxed": render_boxed,
    },
    description="English commercial invoices (classic, modern band, boxed grid)",
)

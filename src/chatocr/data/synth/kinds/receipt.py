"""Shop receipts in Chinese and English: thermal till roll, A5 sales receipt, restaurant check.

Labels follow the receipt template (SROIE's fields): company and address exactly as printed
(a wrapped address joined with one space in English, nothing in Chinese), date YYYY-MM-DD,
total "12.50".  Subtotal, tax, cash and change amounts are printed too, as distractors.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, run
from chatocr.data.synth.kinds import DocKind, RenderRequest

FIELDS = ("company", "date", "address", "total")
# Printed too, and labelled (when printed) so a learned reader sees receipts asked more than the template's fields.
EXTRA_FIELDS = ("tel", "time", "subtotal", "tax")


@dataclass
class Sale:
    lang: str
    company: str
    address: str
    phone: str
    tax_id: str
    date_iso: str
    date_printed: str
    time: str
    items: list[tuple[str, int, Decimal]]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    cash: Decimal
    currency: str
    receipt_no: str
    cashier: str


def sample(rng: random.Random, lang: str) -> Sale:
    day = values.random_date(rng, 2016, 2025)
    catalogue = words.RECEIPT_ITEMS_EN if lang == "en" else words.RECEIPT_ITEMS_ZH
    items = [
        (name, rng.choice([1, 1, 1, 2, 3]), values.money(Decimal(str(price)) * Decimal(rng.uniform(0.8, 1.3))))
        for name, price in rng.sample(catalogue, rng.randint(2, 7))
    ]
    subtotal = sum((values.money(price * qty) for _, qty, price in items), Decimal(0))
    if lang == "en":
        tax = values.money(subtotal * Decimal("0.06")) if rng.random() < 0.6 else Decimal(0)
        city, postcode = rng.choice(words.EN_CITIES)
        company = (
            f"{rng.choice(words.EN_SHOP_PREFIX)} {rng.choice(words.EN_SHOP_CORE)} {rng.choice(words.EN_SHOP_SUFFIX)}"
        )
        address = f"NO. {rng.randint(1, 250)}, {rng.choice(words.EN_STREETS)}, {postcode} {city}"
        date_printed = values.en_date(day, rng.choice(["dmy", "dmy", "dmy_dash", "dmon", "ymd"]))
        currency = rng.choice(["RM", "RM", "$"])
        tax_id = f"GST ID: {values.digits(rng, 12)}"
        phone = f"TEL: 03-{values.digits(rng, 4)} {values.digits(rng, 4)}"
        cashier = rng.choice(["AMY", "JOHN", "SITI", "KUMAR", "LEE", "ALI", "MEI LING"])
    else:
        tax = Decimal(0)
        _, city, district = words.region(rng)
        company = f"{(city or district)[:-1]}{rng.choice(words.COMPANY_CORES)}{rng.choice(words.ZH_SHOP_TYPES)}" + (
            f"（{rng.choice(words.ROADS)}店）" if rng.random() < 0.5 else ""
        )
        address = words.address(rng, with_province=rng.random() < 0.4)
        date_printed = values.cn_date(day, rng.choice(["dash", "dash", "slash", "ymd"]))
        currency = rng.choice(["¥", "￥"])
        tax_id = f"税号：{values.uscc(rng)}"
        phone = f"电话：0{rng.randint(10, 999)}-{values.digits(rng, 8)}"
        cashier = words.person_name(rng)
    # Many tills print the number bare, without "TEL:": half of them here (an odd last digit, so no new draw).
    if int(phone[-1]) % 2:
        phone = phone.split(":", 1)[-1].split("：", 1)[-1].strip()
    total = subtotal + tax
    notes = [n for n in (5, 10, 20, 50, 100, 200, 500, 1000) if n >= total] or [int(total) + 1]
    cash = Decimal(rng.choice(notes[:2]))
    return Sale(
        lang=lang,
        company=company,
        address=address,
        phone=phone,
        tax_id=tax_id,
        date_iso=values.iso(day),
        date_printed=date_printed,
        time=f"{rng.randint(8, 22):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        items=items,
        subtotal=subtotal,
        tax=tax,
        total=total,
        cash=cash,
        currency=currency,
        receipt_no=values.digits(rng, rng.choice([6, 8, 10])),
        cashier=cashier,
    )


def _t(sale: Sale, en: str, zh: str) -> str:
    return en if sale.lang == "en" else zh


def _address_lines(canvas: Canvas, sale: Sale, font: fonts.ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Split the address the way a till prints it: at spaces in English, anywhere in Chinese."""
    units = sale.address.split(" ") if sale.lang == "en" else list(sale.address)
    joiner = " " if sale.lang == "en" else ""
    lines: list[str] = []
    current = ""
    for unit in units:
        candidate = current + joiner + unit if current else unit
        if current and canvas.text_width(candidate, font) > width:
            lines.append(current)
            current = unit
        else:
            current = candidate
    lines.append(current)
    return lines


def _print_address(
    canvas: Canvas,
    sale: Sale,
    font: fonts.ImageFont.FreeTypeFont,
    x: float,
    y: float,
    width: float,
    align: str,
    line_height: float,
) -> float:
    lines = _address_lines(canvas, sale, font, width)
    label = (" " if sale.lang == "en" else "").join(lines)
    for line in lines:
        rect = canvas.text((x, y), line, font, align=align)
        canvas.label("address", label, rect, printed=label)
        y += line_height
    return y


def _phone_number(sale: Sale) -> str:
    return sale.phone.split(":", 1)[-1].split("：", 1)[-1].strip()


def _money(sale: Sale, value: Decimal) -> str:
    return values.amount_printed(value)


def _face(req: RenderRequest, sale: Sale, role: str) -> fonts.Face:
    if sale.lang == "en":
        return req.fonts.pick({"mono": "latin_mono", "bold": "latin_bold"}.get(role, "latin"), req.rng)
    return req.fonts.pick({"mono": "mono", "bold": "sans_bold"}.get(role, "sans"), req.rng)


def render_thermal(req: RenderRequest) -> Canvas:
    """A till roll: everything centred or in two columns, monospaced."""
    rng = req.rng
    sale = sample(rng, req.lang)
    canvas = Canvas(840, 2400, (255, 255, 255))
    mono = _face(req, sale, "mono")
    font = fonts.load(mono, 30)
    bold = fonts.load(_face(req, sale, "bold"), 38)
    x_left, x_right, mid = 50, 790, 420
    y = 50.0
    canvas.text(
        (mid, y),
        sale.company,
        canvas.fit_font(_face(req, sale, "bold"), sale.company, 740, 38),
        align="center",
        name="company",
    )
    y += 60
    y = _print_address(canvas, sale, font, mid, y, 720, "center", 42)
    for line in (sale.phone, sale.tax_id):
        canvas.text((mid, y), line, canvas.fit_font(mono, line, 740, 30), align="center")
        y += 42
    canvas.label("tel", _phone_number(sale))
    y += 14
    canvas.text(
        (mid, y), _t(sale, rng.choice(["TAX INVOICE", "RECEIPT", "SALES RECEIPT"]), "销售小票"), bold, align="center"
    )
    y += 64
    canvas.runs(
        (x_left, y),
        [run(_t(sale, "DATE: ", "日期：")), run(sale.date_printed, "date", sale.date_iso), run(" " + sale.time[:5])],
        font,
    )
    canvas.label("time", sale.time[:5])
    y += 42
    canvas.text((x_left, y), _t(sale, f"RECEIPT NO: {sale.receipt_no}", f"单号：{sale.receipt_no}"), font)
    y += 42
    canvas.text((x_left, y), _t(sale, f"CASHIER: {sale.cashier}", f"收银员：{sale.cashier}"), font)
    y += 50
    canvas.text((mid, y), "-" * 40, font, align="center")
    y += 42
    for name, qty, price in sale.items:
        canvas.text((x_left, y), name, canvas.fit_font(mono, name, 700, 30))
        y += 40
        canvas.text((x_left + 40, y), f"{qty} x {values.amount_printed(price)}", font)
        canvas.text((x_right, y), _money(sale, price * qty), font, align="right")
        y += 44
    canvas.text((mid, y), "-" * 40, font, align="center")
    y += 46
    canvas.text((x_left, y), _t(sale, "SUBTOTAL", "小计"), font)
    canvas.text(
        (x_right, y),
        _money(sale, sale.subtotal),
        font,
        align="right",
        name="subtotal",
        value=values.amount_label(sale.subtotal),
    )
    y += 44
    if sale.tax:
        canvas.text((x_left, y), "GST 6%", font)
        canvas.text(
            (x_right, y), _money(sale, sale.tax), font, align="right", name="tax", value=values.amount_label(sale.tax)
        )
        y += 44
    canvas.text((x_left, y), _t(sale, "TOTAL", "合计"), bold)
    canvas.text(
        (x_right, y),
        f"{sale.currency}{_money(sale, sale.total)}",
        bold,
        align="right",
        name="total",
        value=values.amount_label(sale.total),
    )
    y += 60
    canvas.text((x_left, y), _t(sale, "CASH", "现金"), font)
    canvas.text((x_right, y), _money(sale, sale.cash), font, align="right")
    y += 44
    canvas.text((x_left, y), _t(sale, "CHANGE", "找零"), font)
    canvas.text((x_right, y), _money(sale, sale.cash - sale.total), font, align="right")
    y += 70
    canvas.text((mid, y), _t(sale, "THANK YOU. PLEASE COME AGAIN", "谢谢惠顾，欢迎再次光临"), font, align="center")
    canvas.crop_height(int(y + 90))
    return canvas


def render_sales(req: RenderRequest) -> Canvas:
    """An A5 sales receipt: company and address top left, date top right, ruled item table."""
    rng = req.rng
    sale = sample(rng, req.lang)
    canvas = Canvas(1400, 1000, (255, 255, 255))
    face = _face(req, sale, "regular")
    font = fonts.load(face, 30)
    bold_face = _face(req, sale, "bold")
    canvas.text((80, 60), sale.company, canvas.fit_font(bold_face, sale.company, 800, 46), name="company")
    y = _print_address(canvas, sale, font, 80, 130, 760, "left", 42)
    canvas.text((80, y), sale.phone, font)
    canvas.label("tel", _phone_number(sale))
    canvas.text((1320, 60), _t(sale, "SALES RECEIPT", "收  据"), fonts.load(bold_face, 44), align="right")
    canvas.runs(
        (1320, 140),
        [run(_t(sale, "Date: ", "日期：")), run(sale.date_printed, "date", sale.date_iso)],
        font,
        align="right",
    )
    canvas.text((1320, 185), _t(sale, f"No: {sale.receipt_no}", f"编号：{sale.receipt_no}"), font, align="right")
    y = max(y + 70, 300)
    cols = [620, 160, 220, 240]
    heads = [
        _t(sale, "Description", "品名"),
        _t(sale, "Qty", "数量"),
        _t(sale, "Unit Price", "单价"),
        _t(sale, "Amount", "金额"),
    ]
    header = canvas.grid(80, y, cols, [56], (60, 60, 60), 2)[0]
    for cell, head in zip(header, heads, strict=True):
        canvas.draw.rectangle((cell[0] + 1, cell[1] + 1, cell[2] - 1, cell[3] - 1), fill=(230, 230, 230))
        canvas.cell_text(cell, head, font, align="center")
    y += 56
    rows = canvas.grid(80, y, cols, [50] * len(sale.items), (150, 150, 150), 1)
    for cells, (name, qty, price) in zip(rows, sale.items, strict=True):
        canvas.cell_text(cells[0], name, canvas.fit_font(face, name, cols[0] - 30, 28))
        canvas.cell_text(cells[1], str(qty), font, align="right")
        canvas.cell_text(cells[2], values.amount_printed(price), font, align="right")
        canvas.cell_text(cells[3], _money(sale, price * qty), font, align="right")
    y += 50 * len(sale.items) + 30
    if sale.tax:
        canvas.text((1080, y), "Subtotal", font, align="right")
        canvas.text(
            (1320, y),
            _money(sale, sale.subtotal),
            font,
            align="right",
            name="subtotal",
            value=values.amount_label(sale.subtotal),
        )
        y += 44
        canvas.text((1080, y), "Tax (6%)", font, align="right")
        canvas.text(
            (1320, y), _money(sale, sale.tax), font, align="right", name="tax", value=values.amount_label(sale.tax)
        )
        y += 44
    bold = fonts.load(bold_face, 36)
    canvas.text((1080, y), _t(sale, f"Total ({sale.currency})", "合计金额"), bold, align="right")
    canvas.text(
        (1320, y),
        f"{sale.currency} {_money(sale, sale.total)}"
        if sale.lang == "en"
        else f"{sale.currency}{_money(sale, sale.total)}",
        bold,
        align="right",
        name="total",
        value=values.amount_label(sale.total),
    )
    y += 90
    canvas.text((80, y), _t(sale, "Goods sold are not returnable.", "本收据盖章有效"), font)
    canvas.crop_height(int(max(y + 100, 760)))
    return canvas


def render_card_slip(req: RenderRequest) -> Canvas:
    """A bank-card terminal slip (签购单): merchant, terminal, card, date and amount; no address."""
    rng = req.rng
    sale = sample(rng, req.lang)
    canvas = Canvas(900, 2000, (255, 255, 255))
    mono = _face(req, sale, "mono")
    font = fonts.load(mono, 30)
    bold = fonts.load(_face(req, sale, "bold"), 36)
    x, y = 50, 50.0
    canvas.text((450, y), _t(sale, "CARD PAYMENT SLIP", "银联POS签购单"), bold, align="center")
    y += 70
    canvas.text((450, y), _t(sale, "MERCHANT COPY", "商户存根  MERCHANT COPY"), font, align="center")
    y += 60
    canvas.text((x, y), _t(sale, "MERCHANT NAME:", "商户名称(MERCHANT NAME):"), font)
    y += 42
    canvas.text((x, y), sale.company, canvas.fit_font(mono, sale.company, 800, 30), name="company")
    y += 52
    lines = [
        _t(sale, f"MERCHANT NO: {values.digits(rng, 15)}", f"商户编号(MERCHANT NO): {values.digits(rng, 15)}"),
        _t(sale, f"TERMINAL ID: {values.digits(rng, 8)}", f"终端编号(TERMINAL NO): {values.digits(rng, 8)}"),
        _t(sale, f"CARD NO: 6222 **** **** {values.digits(rng, 4)}", f"卡号(CARD NO): 6222****{values.digits(rng, 4)}"),
        _t(sale, "TRANS TYPE: SALE", "交易类型(TRANS TYPE): 消费 SALE"),
        _t(
            sale,
            f"BATCH NO: {values.digits(rng, 6)}  TRACE: {values.digits(rng, 6)}",
            f"批次号: {values.digits(rng, 6)}  凭证号: {values.digits(rng, 6)}",
        ),
    ]
    for line in lines:
        canvas.text((x, y), line, canvas.fit_font(mono, line, 800, 30))
        y += 44
    day = sale.date_iso.replace("-", "/")
    canvas.runs(
        (x, y),
        [
            run(_t(sale, "DATE/TIME: ", "日期时间: ")),
            run(day, "date", sale.date_iso),
            run(" " + sale.time, "time", sale.time),
        ],
        font,
    )
    y += 60
    canvas.text((x, y), _t(sale, "AMOUNT:", "金额(AMOUNT):"), font)
    y += 46
    currency = sale.currency if sale.lang == "en" else "RMB"
    canvas.text(
        (x + 40, y),
        f"{currency} {values.amount_printed(sale.total)}",
        bold,
        name="total",
        value=values.amount_label(sale.total),
    )
    y += 80
    canvas.text((x, y), _t(sale, "SIGNATURE:", "持卡人签名(CARDHOLDER SIGNATURE):"), font)
    y += 110
    canvas.line([(x, y), (850, y)], width=2)
    y += 20
    canvas.text(
        (x, y),
        _t(sale, "I ACKNOWLEDGE SATISFACTORY RECEIPT", "本人确认以上交易，同意将其记入本卡账户"),
        fonts.load(mono, 22),
    )
    canvas.crop_height(int(max(y + 80, 1150)))
    return canvas


def render_check(req: RenderRequest) -> Canvas:
    """A restaurant check: logo roundel, items, a shaded TOTAL band, date and address at the bottom."""
    rng = req.rng
    sale = sample(rng, req.lang)
    canvas = Canvas(1000, 2400, (252, 252, 250))
    face = _face(req, sale, "regular")
    bold_face = _face(req, sale, "bold")
    font = fonts.load(face, 32)
    mid = 500
    canvas.draw.ellipse((420, 40, 580, 200), outline=(40, 40, 40), width=5)
    initials = "".join(w[0] for w in sale.company.split()[:2]) if sale.lang == "en" else sale.company[:2]
    canvas.text((mid, 92), initials, fonts.load(bold_face, 52), align="center")
    canvas.text(
        (mid, 230), sale.company, canvas.fit_font(bold_face, sale.company, 900, 44), align="center", name="company"
    )
    y = 320.0
    canvas.text(
        (100, y),
        _t(
            sale,
            f"TABLE {rng.randint(1, 40)}   PAX {rng.randint(1, 8)}",
            f"桌号：{rng.randint(1, 40)}   人数：{rng.randint(1, 8)}",
        ),
        font,
    )
    y += 70
    for name, qty, price in sale.items:
        canvas.text((100, y), f"{qty}  {name}", canvas.fit_font(face, f"{qty}  {name}", 600, 32))
        canvas.text((900, y), _money(sale, price * qty), font, align="right")
        y += 52
    y += 20
    canvas.line([(100, y), (900, y)], width=2)
    y += 30
    if sale.tax:
        canvas.text((100, y), "SERVICE TAX 6%", font)
        canvas.text(
            (900, y), _money(sale, sale.tax), font, align="right", name="tax", value=values.amount_label(sale.tax)
        )
        y += 56
    canvas.draw.rectangle((80, y - 10, 920, y + 74), fill=(225, 225, 225))
    bold = fonts.load(bold_face, 46)
    canvas.text((100, y), _t(sale, "TOTAL", "应付金额"), bold)
    canvas.text(
        (900, y),
        f"{sale.currency}{_money(sale, sale.total)}",
        bold,
        align="right",
        name="total",
        value=values.amount_label(sale.total),
    )
    y += 120
    canvas.runs(
        (100, y), [run(sale.date_printed, "date", sale.date_iso), run("  " + sale.time, "time", sale.time)], font
    )
    y += 56
    y = _print_address(canvas, sale, fonts.load(face, 28), 100, y, 800, "left", 40)
    canvas.text((100, y), sale.phone, fonts.load(face, 28))
    canvas.label("tel", _phone_number(sale))
    y += 80
    canvas.text((mid, y), _t(sale, "Thank you for dining with us!", "谢谢光临"), font, align="center")
    canvas.crop_height(int(y + 90))
    return canvas


KIND = DocKind(
    name="receipt",
    template="receipt",
    fields=FIELDS + EXTRA_FIELDS,
    languages=("zh", "en"),
    renderers={
        "thermal": render_thermal,
        "sales": render_sales,
        "card_slip": render_card_slip,
        "check": render_check,
    },
    description="shop receipts in Chinese and English (till roll, sales receipt, card slip, restaurant check)",
)

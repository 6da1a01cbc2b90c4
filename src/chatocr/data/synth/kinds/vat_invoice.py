"""VAT invoices (增值税专用发票 / 普通发票): paper form, fully electronic invoice, roll invoice.

Amount labels: 金额 is the pre-tax total, 税额 the tax, 价税合计 their sum (all "1234.50").
The electronic invoice has no 发票代码; the roll invoice prints only the tax-inclusive total
(so 金额 and 税额 are absent) and individual buyers have no 纳税人识别号.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from PIL import ImageFont

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, Rect, Run, run
from chatocr.data.synth.kinds import DocKind, RenderRequest, stamp_seal

FIELDS = (
    "发票代码",
    "发票号码",
    "开票日期",
    "购买方名称",
    "购买方纳税人识别号",
    "销售方名称",
    "销售方纳税人识别号",
    "金额",
    "税额",
    "价税合计",
)
# Printed too and labelled where printed, so a learned reader also learns to read a column by its header.
EXTRA_FIELDS = ("税率",)
FORM = (150, 78, 48)  # the brown-red of printed invoice forms
INK = (25, 25, 60)  # machine-printed values


@dataclass
class Item:
    name: str
    spec: str
    unit: str
    quantity: Decimal
    price: Decimal
    amount: Decimal
    rate: int
    tax: Decimal


@dataclass
class Invoice:
    special: bool
    province: str
    code: str
    number: str
    date_iso: str
    date_printed: str
    buyer: str
    buyer_id: str | None
    buyer_extra: str
    seller: str
    seller_id: str
    seller_extra: str
    items: list[Item]
    amount: Decimal
    tax: Decimal
    total: Decimal
    people: tuple[str, str, str]


def sample(rng: random.Random, number_digits: int = 8, max_price: float = 6000.0) -> Invoice:
    special = rng.random() < 0.5
    province = rng.choice(sorted(words.PROVINCES) + sorted(words.MUNICIPALITIES))
    day = values.random_date(rng, 2017, 2025)
    rate = rng.choice([13, 6, 9, 3, 1])
    items: list[Item] = []
    for name, spec, unit, _ in rng.sample(words.INVOICE_ITEMS, rng.randint(1, 4)):
        quantity = Decimal(rng.choice([1, 1, 2, 3, 5, 10, 12, 20]))
        price = values.money(Decimal(rng.uniform(8, max_price)))
        amount = values.money(quantity * price)
        items.append(Item(name, spec, unit, quantity, price, amount, rate, values.money(amount * rate / 100)))
    amount = sum((i.amount for i in items), Decimal(0))
    tax = sum((i.tax for i in items), Decimal(0))
    individual = not special and rng.random() < 0.3
    return Invoice(
        special=special,
        province=province[:-1] if province.endswith(("省", "市")) else province,
        code=values.digits(rng, rng.choice([10, 12])),
        number=values.digits(rng, number_digits),
        date_iso=values.iso(day),
        date_printed=values.cn_date(day, "ymd0"),
        buyer="个人" if individual else words.company_name(rng),
        buyer_id=None if individual else values.uscc(rng),
        buyer_extra=f"{words.address(rng)} 0{rng.randint(10, 999)}-{values.digits(rng, 8)}",
        seller=words.company_name(rng),
        seller_id=values.uscc(rng),
        seller_extra=f"{words.address(rng)} 0{rng.randint(10, 999)}-{values.digits(rng, 8)}",
        items=items,
        amount=amount,
        tax=tax,
        total=amount + tax,
        people=(words.person_name(rng), words.person_name(rng), words.person_name(rng)),
    )


def _vertical(
    canvas: Canvas, cell: Rect, text: str, font: fonts.ImageFont.FreeTypeFont, fill: tuple[int, int, int]
) -> None:
    """Stack characters top to bottom in a narrow cell (购买方, 密码区)."""
    step = (cell[3] - cell[1]) / (len(text) + 1)
    for i, ch in enumerate(text):
        canvas.text(
            ((cell[0] + cell[2]) / 2, cell[1] + step * (i + 1) - font.size / 2), ch, font, fill=fill, align="center"
        )


def _seal(canvas: Canvas, req: RenderRequest, inv: Invoice, anchor: Rect) -> None:
    stamp_seal(canvas, req, inv.seller[:14], "发票专用章", 190, anchor, oval=True)


def _money(value: Decimal, sign: bool = True) -> str:
    return ("¥" if sign else "") + values.amount_printed(value)


def _totals_row(canvas: Canvas, inv: Invoice, xs: list[int], ty: float, font: ImageFont.FreeTypeFont) -> None:
    """The 合计 row's 金额 and 税额, right-aligned in the amount and tax columns."""
    for col, amount, name in ((6, inv.amount, "金额"), (8, inv.tax, "税额")):
        canvas.text(
            (xs[col] - 10, ty),
            _money(amount),
            font,
            fill=INK,
            align="right",
            name=name,
            value=values.amount_label(amount),
        )


def render_paper(req: RenderRequest) -> Canvas:
    """The classic paper form: title with province, code/number top right, ruled buyer/items/seller grid."""
    rng, book = req.rng, req.fonts
    inv = sample(rng)
    canvas = Canvas(1800, 1120, (255, 255, 255) if rng.random() < 0.5 else (250, 252, 246))
    form = fonts.load(book.pick("serif", rng), 24)
    sans = book.pick("sans", rng)
    mono = book.pick("mono", rng)
    value_font = fonts.load(sans, 24)
    kind = "增值税专用发票" if inv.special else "增值税普通发票"
    title_rect = canvas.text(
        (900, 40), f"{inv.province}{kind}", fonts.load(book.pick("serif_bold", rng), 52), fill=FORM, align="center"
    )
    canvas.line([(title_rect[0], title_rect[3] + 10), (title_rect[2], title_rect[3] + 10)], FORM, 3)
    canvas.line([(title_rect[0], title_rect[3] + 16), (title_rect[2], title_rect[3] + 16)], FORM, 2)
    canvas.text((900, title_rect[3] + 28), "发票联", fonts.load(sans, 26), fill=FORM, align="center")
    canvas.text((70, 60), inv.code, fonts.load(mono, 36), fill=INK, name="发票代码")
    canvas.runs(
        (1380, 40),
        [run("No", fill=FORM), run(" "), run(inv.number, "发票号码", fill=(180, 30, 30))],
        fonts.load(mono, 44),
    )
    info = fonts.load(sans, 24)
    canvas.runs((1380, 110), [run("发票代码：", fill=FORM), run(inv.code, fill=INK)], info)
    canvas.runs((1380, 145), [run("发票号码：", fill=FORM), run(inv.number, fill=INK)], info)
    canvas.runs(
        (1380, 180), [run("开票日期：", fill=FORM), run(inv.date_printed, "开票日期", inv.date_iso, fill=INK)], info
    )
    x0, y0 = 60, 230
    party_h, head_h, items_h, total_h, words_h = 160, 44, 230, 44, 56
    # Buyer block.
    cells = canvas.grid(x0, y0, [56, 904, 56, 664], [party_h], FORM, 2)
    _vertical(canvas, cells[0][0], "购买方", form, FORM)
    _vertical(canvas, cells[0][2], "密码区", form, FORM)
    _party(canvas, cells[0][1], inv.buyer, inv.buyer_id, inv.buyer_extra, _bank(rng), "购买方", form, value_font)
    cipher = "0123456789+-*/<>"
    for i in range(4):
        canvas.text(
            (cells[0][3][0] + 20, cells[0][3][1] + 14 + i * 36),
            "".join(rng.choice(cipher) for _ in range(28)),
            fonts.load(mono, 26),
            fill=INK,
        )
    # Items.
    cols = [420, 180, 90, 120, 170, 260, 140, 300]
    y = y0 + party_h
    header = canvas.grid(x0, y, cols, [head_h], FORM, 2)[0]
    heads = ["货物或应税劳务、服务名称", "规格型号", "单位", "数量", "单价", "金额", "税率", "税额"]
    for cell, head in zip(header, heads, strict=True):
        canvas.cell_text(cell, head, form, fill=FORM, align="center")
    y += head_h
    canvas.rect((x0, y, x0 + sum(cols), y + items_h + total_h), outline=FORM, width=2)
    xs = [x0 + sum(cols[:i]) for i in range(len(cols) + 1)]
    for row, item in enumerate(inv.items):
        ty = y + 12 + row * 44
        canvas.text((xs[0] + 10, ty), item.name, value_font, fill=INK)
        canvas.text((xs[1] + 10, ty), item.spec, value_font, fill=INK)
        canvas.text((xs[2] + 10, ty), item.unit, value_font, fill=INK)
        canvas.text((xs[4] - 10, ty), str(item.quantity), value_font, fill=INK, align="right")
        canvas.text((xs[5] - 10, ty), values.amount_printed(item.price), value_font, fill=INK, align="right")
        canvas.text((xs[6] - 10, ty), values.amount_printed(item.amount), value_font, fill=INK, align="right")
        canvas.text((xs[7] - 10, ty), f"{item.rate}%", value_font, fill=INK, align="right")
        canvas.label("税率", f"{item.rate}%")
        canvas.text((xs[8] - 10, ty), values.amount_printed(item.tax), value_font, fill=INK, align="right")
    ty = y + items_h + 8
    canvas.text((xs[0] + 120, ty), "合        计", form, fill=FORM)
    _totals_row(canvas, inv, xs, ty, value_font)
    y += items_h + total_h
    total_cells = canvas.grid(x0, y, [360, 900, 420], [words_h], FORM, 2)[0]
    canvas.cell_text(total_cells[0], "价税合计（大写）", form, fill=FORM, align="center")
    canvas.cell_text(total_cells[1], [run("ⓧ ", fill=FORM), run(values.rmb_upper(inv.total), fill=INK)], value_font)
    canvas.cell_text(
        total_cells[2],
        [run("（小写）", fill=FORM), run(_money(inv.total), "价税合计", values.amount_label(inv.total), fill=INK)],
        value_font,
    )
    y += words_h
    cells = canvas.grid(x0, y, [56, 904, 56, 664], [party_h], FORM, 2)
    _vertical(canvas, cells[0][0], "销售方", form, FORM)
    _vertical(canvas, cells[0][2], "备注", form, FORM)
    seller_rect = _party(
        canvas, cells[0][1], inv.seller, inv.seller_id, inv.seller_extra, _bank(rng), "销售方", form, value_font
    )
    payee, checker, drawer = inv.people
    canvas.runs(
        (x0 + 20, y + party_h + 20),
        [
            run(f"收款人：{payee}"),
            run("          "),
            run(f"复核：{checker}"),
            run("          "),
            run(f"开票人：{drawer}"),
            run("          "),
            run("销售方：（章）"),
        ],
        form,
        fill=FORM,
    )
    _seal(canvas, req, inv, seller_rect if req.seal == "over" else (1500, y + party_h - 20, 1560, y + party_h + 40))
    return canvas


def _party(
    canvas: Canvas,
    cell: Rect,
    name: str,
    tax_id: str | None,
    extra: str,
    bank: str,
    side: str,
    form: fonts.ImageFont.FreeTypeFont,
    value_font: fonts.ImageFont.FreeTypeFont,
) -> Rect:
    x, y = cell[0] + 16, cell[1] + 10
    name_rect = canvas.runs(
        (x, y), [run("名            称：", fill=FORM), run(name, f"{side}名称", fill=INK)], value_font
    )
    canvas.runs(
        (x, y + 37),
        [run("纳税人识别号：", fill=FORM), run(tax_id or "", f"{side}纳税人识别号" if tax_id else None, fill=INK)],
        value_font,
    )
    address, phone = extra.rsplit(" ", 1)
    canvas.runs((x, y + 74), [run("地 址、电 话：", fill=FORM), run(f"{address} {phone}"[:34], fill=INK)], value_font)
    canvas.runs((x, y + 111), [run("开户行及账号：", fill=FORM), run(bank, fill=INK)], value_font)
    return name_rect


def _bank(rng: random.Random) -> str:
    bank = rng.choice(["中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "招商银行", "交通银行"])
    return f"{bank}{rng.choice(words.ROADS)[:2]}支行 {values.digits(rng, 19)}"


def render_electronic(req: RenderRequest) -> Canvas:
    """The fully electronic invoice: 20-digit number, no 发票代码, buyer and seller side by side."""
    rng, book = req.rng, req.fonts
    inv = sample(rng, number_digits=20)
    canvas = Canvas(1800, 1100)
    sans = book.pick("sans", rng)
    form = fonts.load(sans, 26)
    value_font = fonts.load(sans, 26)
    kind = "增值税专用发票" if inv.special else "普通发票"
    canvas.text(
        (720, 50), f"电子发票（{kind}）", fonts.load(book.pick("sans_bold", rng), 50), fill=FORM, align="center"
    )
    canvas.runs((1260, 60), [run("发票号码：", fill=FORM), run(inv.number, "发票号码", fill=INK)], form)
    canvas.runs(
        (1260, 104), [run("开票日期：", fill=FORM), run(inv.date_printed, "开票日期", inv.date_iso, fill=INK)], form
    )
    x0, y0 = 60, 170
    cells = canvas.grid(x0, y0, [50, 790, 50, 790], [170], FORM, 2)[0]
    _vertical(canvas, cells[0], "购买方信息", fonts.load(sans, 22), FORM)
    _vertical(canvas, cells[2], "销售方信息", fonts.load(sans, 22), FORM)
    for cell, name, tax_id, side in [
        (cells[1], inv.buyer, inv.buyer_id, "购买方"),
        (cells[3], inv.seller, inv.seller_id, "销售方"),
    ]:
        canvas.runs(
            (cell[0] + 16, cell[1] + 40), [run("名称：", fill=FORM), run(name, f"{side}名称", fill=INK)], value_font
        )
        canvas.runs(
            (cell[0] + 16, cell[1] + 100),
            [
                run("统一社会信用代码/纳税人识别号：", fill=FORM),
                run(tax_id or "", f"{side}纳税人识别号" if tax_id else None, fill=INK),
            ],
            value_font,
        )
    y = y0 + 170
    cols = [440, 190, 100, 130, 190, 220, 150, 260]
    header = canvas.grid(x0, y, cols, [50], FORM, 2)[0]
    for cell, head in zip(
        header, ["项目名称", "规格型号", "单位", "数量", "单价", "金额", "税率/征收率", "税额"], strict=True
    ):
        canvas.cell_text(cell, head, form, fill=FORM, align="center")
    y += 50
    xs = [x0 + sum(cols[:i]) for i in range(len(cols) + 1)]
    canvas.rect((x0, y, xs[-1], y + 280), outline=FORM, width=2)
    for row, item in enumerate(inv.items):
        ty = y + 14 + row * 46
        canvas.label("税率", f"{item.rate}%")
        for col, text, align in [
            (0, item.name, "left"),
            (1, item.spec, "left"),
            (2, item.unit, "left"),
            (3, str(item.quantity), "right"),
            (4, values.amount_printed(item.price), "right"),
            (5, values.amount_printed(item.amount), "right"),
            (6, f"{item.rate}%", "right"),
            (7, values.amount_printed(item.tax), "right"),
        ]:
            x = xs[col] + 10 if align == "left" else xs[col + 1] - 10
            canvas.text((x, ty), text, value_font, fill=INK, align=align)
    ty = y + 230
    canvas.text((xs[0] + 40, ty), "合      计", form, fill=FORM)
    _totals_row(canvas, inv, xs, ty, value_font)
    y += 280
    cells = canvas.grid(x0, y, [330, 900, 450], [60], FORM, 2)[0]
    canvas.cell_text(cells[0], "价税合计（大写）", form, fill=FORM, align="center")
    canvas.cell_text(cells[1], [run("ⓧ", fill=FORM), run(values.rmb_upper(inv.total), fill=INK)], value_font)
    canvas.cell_text(
        cells[2],
        [run("（小写）", fill=FORM), run(_money(inv.total), "价税合计", values.amount_label(inv.total), fill=INK)],
        value_font,
    )
    y += 60
    cells = canvas.grid(x0, y, [50, 1630], [130], FORM, 2)[0]
    _vertical(canvas, cells[0], "备注", fonts.load(sans, 22), FORM)
    canvas.text((x0 + 90, y + 300 - 130), f"开票人：{inv.people[2]}", form, fill=FORM)
    _seal(canvas, req, inv, (1300, 60, 1700, 140) if req.seal == "over" else (1450, y + 20, 1550, y + 110))
    return canvas


def render_verification(req: RenderRequest) -> Canvas:
    """A print-out of the tax bureau's invoice verification result: a key/value table, amounts in one row."""
    rng, book = req.rng, req.fonts
    inv = sample(rng)
    canvas = Canvas(1600, 1240, (255, 255, 255))
    face = book.pick("sans", rng)
    font = fonts.load(face, 28)
    kind = "增值税专用发票" if inv.special else "增值税普通发票"
    canvas.text((800, 50), f"{inv.province}{kind}", fonts.load(book.pick("sans_bold", rng), 46), align="center")
    canvas.text((800, 120), "查验结果：查验成功，发票一致", fonts.load(face, 28), fill=(30, 120, 60), align="center")
    canvas.text((1520, 170), f"查验次数：第{rng.randint(1, 5)}次", fonts.load(face, 24), align="right")
    canvas.text(
        (1520, 205),
        f"查验时间：{inv.date_iso} {rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}",
        fonts.load(face, 24),
        align="right",
    )
    grey = (110, 110, 110)
    cols = [220, 520, 220, 520]
    rows: list[tuple[str, list[Run], str, list[Run]]] = [
        ("发票代码", [run(inv.code, "发票代码")], "发票号码", [run(inv.number, "发票号码")]),
        (
            "开票日期",
            [run(inv.date_printed, "开票日期", inv.date_iso)],
            "校验码",
            [run(" ".join(values.digits(rng, 5) for _ in range(4)))],
        ),
        (
            "购买方名称",
            [run(inv.buyer, "购买方名称")],
            "购买方识别号",
            [run(inv.buyer_id, "购买方纳税人识别号")] if inv.buyer_id else [],
        ),
        ("销售方名称", [run(inv.seller, "销售方名称")], "销售方识别号", [run(inv.seller_id, "销售方纳税人识别号")]),
    ]
    y = 260.0
    for key1, value1, key2, value2 in rows:
        cells = canvas.grid(80, y, cols, [76], grey, 2)[0]
        for cell, content in ((cells[0], key1), (cells[2], key2)):
            canvas.draw.rectangle((cell[0] + 1, cell[1] + 1, cell[2] - 1, cell[3] - 1), fill=(242, 245, 250))
            canvas.cell_text(cell, content, font)
        for cell, runs in ((cells[1], value1), (cells[3], value2)):
            if runs:
                text = "".join(r.text for r in runs)
                canvas.cell_text(cell, runs, canvas.fit_font(face, text, cols[1] - 24, 28))
        y += 76
    y += 30
    head = canvas.grid(80, y, [560, 160, 140, 200, 220], [60], grey, 2)[0]
    for cell, text in zip(head, ["项目名称", "数量", "税率", "金额", "税额"], strict=True):
        canvas.draw.rectangle((cell[0] + 1, cell[1] + 1, cell[2] - 1, cell[3] - 1), fill=(242, 245, 250))
        canvas.cell_text(cell, text, font, align="center")
    y += 60
    for item in inv.items:
        cells = canvas.grid(80, y, [560, 160, 140, 200, 220], [56], grey, 1)[0]
        canvas.cell_text(cells[0], item.name, canvas.fit_font(face, item.name, 530, 26))
        canvas.cell_text(cells[1], str(item.quantity), font, align="right")
        canvas.cell_text(cells[2], f"{item.rate}%", font, align="right")
        canvas.label("税率", f"{item.rate}%")
        canvas.cell_text(cells[3], values.amount_printed(item.amount), font, align="right")
        canvas.cell_text(cells[4], values.amount_printed(item.tax), font, align="right")
        y += 56
    y += 40
    canvas.runs(
        (80, y),
        [
            run("金额合计：¥"),
            run(values.amount_printed(inv.amount), "金额", values.amount_label(inv.amount)),
            run("    税额合计：¥"),
            run(values.amount_printed(inv.tax), "税额", values.amount_label(inv.tax)),
        ],
        font,
    )
    y += 56
    canvas.runs(
        (80, y),
        [
            run("价税合计（大写）："),
            run(values.rmb_upper(inv.total)),
            run("    （小写）¥"),
            run(values.amount_printed(inv.total), "价税合计", values.amount_label(inv.total)),
        ],
        font,
    )
    y += 90
    canvas.text((80, y), "本页面由全国增值税发票查验平台生成，仅供参考。", fonts.load(face, 22), fill=grey)
    canvas.crop_height(int(max(y + 80, 1000)))
    return canvas


def render_roll(req: RenderRequest) -> Canvas:
    """The narrow roll invoice (卷票): one column; prints only the tax-inclusive total."""
    rng, book = req.rng, req.fonts
    inv = sample(rng, max_price=300.0)
    inv.special = False
    canvas = Canvas(960, 1800, (255, 255, 255))
    sans = book.pick("sans", rng)
    font = fonts.load(sans, 30)
    canvas.text(
        (480, 60),
        f"{inv.province}增值税普通发票（卷票）",
        fonts.load(book.pick("sans_bold", rng), 44),
        fill=FORM,
        align="center",
    )
    canvas.text((480, 130), "发  票  联", fonts.load(sans, 32), fill=FORM, align="center")
    x, y = 70, 210
    step = 56
    lines = [
        [run("发票代码：", fill=FORM), run(inv.code, "发票代码", fill=INK)],
        [run("发票号码：", fill=FORM), run(inv.number, "发票号码", fill=INK)],
        [run("机打号码：", fill=FORM), run(inv.number, fill=INK)],
        [run("机器编号：", fill=FORM), run(values.digits(rng, 12), fill=INK)],
        [run("销售方名称：", fill=FORM), run(inv.seller, "销售方名称", fill=INK)],
        [run("纳税人识别号：", fill=FORM), run(inv.seller_id, "销售方纳税人识别号", fill=INK)],
        [
            run("开票日期：", fill=FORM),
            run(inv.date_iso, "开票日期", fill=INK),
            run(f"  收款员：{inv.people[0]}", fill=FORM),
        ],
        [run("购买方名称：", fill=FORM), run(inv.buyer, "购买方名称", fill=INK)],
    ]
    if inv.buyer_id:
        lines.append([run("纳税人识别号：", fill=FORM), run(inv.buyer_id, "购买方纳税人识别号", fill=INK)])
    for line in lines:
        width = canvas.runs_width(line, font)
        use = font if width <= 820 else canvas.fit_font(sans, "".join(r.text for r in line), 820, 30)
        canvas.runs((x, y), line, use)
        y += step
    y += 20
    canvas.line([(x, y), (890, y)], FORM, 2)
    y += 16
    for text, cx in [("项目", x), ("单价", 480), ("数量", 640), ("金额", 890)]:
        canvas.text((cx, y), text, font, fill=FORM, align="left" if cx == x else "right")
    y += step
    for item in inv.items:
        gross = values.money(item.amount + item.tax)
        unit_gross = values.money(gross / item.quantity)
        canvas.text((x, y), item.name.split("*")[-1], font, fill=INK)
        canvas.text((480, y), values.amount_printed(unit_gross), font, fill=INK, align="right")
        canvas.text((640, y), str(item.quantity), font, fill=INK, align="right")
        canvas.text((890, y), values.amount_printed(gross), font, fill=INK, align="right")
        y += step
    y += 20
    canvas.line([(x, y), (890, y)], FORM, 2)
    y += 20
    total = sum((values.money(i.amount + i.tax) for i in inv.items), Decimal(0))
    canvas.runs(
        (x, y),
        [run("合计金额（小写）：", fill=FORM), run(_money(total), "价税合计", values.amount_label(total), fill=INK)],
        font,
    )
    y += step
    upper_font = canvas.fit_font(sans, "合计金额（大写）：" + values.rmb_upper(total), 820, 30)
    canvas.runs((x, y), [run("合计金额（大写）：", fill=FORM), run(values.rmb_upper(total), fill=INK)], upper_font)
    y += step
    canvas.runs(
        (x, y), [run("校验码：", fill=FORM), run(" ".join(values.digits(rng, 5) for _ in range(4)), fill=INK)], font
    )
    _seal(canvas, req, inv, canvas.fields["销售方名称"].boxes[0] if req.seal == "over" else (600, y + 80, 700, y + 160))
    canvas.crop_height(y + 300)
    return canvas


KIND = DocKind(
    name="vat_invoice",
    template="vat_invoice",
    fields=FIELDS + EXTRA_FIELDS,
    languages=("zh",),
    renderers={
        "paper": render_paper,
        "electronic": render_electronic,
        "verification": render_verification,
        "roll": render_roll,
    },
    description="VAT invoices (增值税专用/普通发票, 电子发票, 卷票)",
)

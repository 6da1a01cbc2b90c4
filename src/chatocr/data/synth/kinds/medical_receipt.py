"""Chinese medical receipts (医疗门诊收费票据 / 医疗住院收费票据): patient, charge items and who pays them.

Each receipt prints the 票据代码 and 票据号码, the patient (交款人 or 姓名), the 医保类型, the date, a
table of charge items (西药费, 检查费, 治疗费...) with their amounts, the 合计 in figures and in words
(大写), the part the insurance fund pays (医保统筹支付) and the patient's share (个人自付), the
hospital (收款单位) and the cashier (收款人), and some of the optional keys (性别, 业务流水号, 门诊号
or 住院号, 社会保障卡号).  The label key is the printed key; names vary from receipt to receipt
(交款人 or 姓名, 合计 or 金额合计...), each charge item is labelled under its own name.  This kind has
no template; one or two optional keys a receipt does not print are labelled absent.

Labels: amounts "1234.50" (the items add up to 合计, 统筹 and 自付 add up to it too; 自费 patients
pay all of it), 合计（大写） as printed, the date YYYY-MM-DD, the rest as printed.

Layouts: ``ruled`` (a ruled form: patient row, items two pairs a row, totals), ``thermal`` (a
self-service kiosk strip in a monospaced face) and ``electronic`` (an electronic receipt with a
code block, key/value header lines and an item table with a header row; the held-out layout).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, Rect, run
from chatocr.data.synth.kinds import DocKind, Entry, RenderRequest, label_absent, stamp_seal

HOSPITALS = [
    "第一人民医院",
    "第二人民医院",
    "第三人民医院",
    "中心医院",
    "中医院",
    "妇幼保健院",
    "人民医院",
    "中西医结合医院",
]
OUTPATIENT_ITEMS = ["西药费", "中成药费", "中草药费", "检查费", "治疗费", "化验费", "诊查费", "卫生材料费", "放射费"]
INPATIENT_ITEMS = [*OUTPATIENT_ITEMS, "床位费", "护理费", "手术费"]
INSURANCE = ["职工基本医疗保险", "城乡居民基本医疗保险", "自费"]
RED = (190, 50, 50)
INK = (25, 25, 35)


@dataclass
class Receipt:
    title: str
    hospital: str
    codes: list[Entry]  # 票据代码, 票据号码, 开票日期
    patient: list[Entry]  # 交款人, 医保类型 and the printed optional keys
    items: list[Entry]
    totals: list[Entry]  # 合计, 合计（大写）, 统筹, 自付
    cashier: Entry
    unit: Entry
    unprinted: list[tuple[str, ...]]


def _hospital(rng: random.Random) -> str:
    province, city, _ = words.region(rng)
    place = (city or province)[:-1]
    return f"{place}市{rng.choice(HOSPITALS)}"


def _amount(rng: random.Random, key: str, value: Decimal, sign: str) -> Entry:
    return Entry(key, sign + values.amount_printed(value), values.amount_label(value))


def sample(rng: random.Random) -> Receipt:
    inpatient = rng.random() < 0.35
    title = "医疗住院收费票据" if inpatient else "医疗门诊收费票据"
    if rng.random() < 0.5:
        title = rng.choice(["浙江省", "江苏省", "广东省", "四川省", "湖北省", "山东省", "河南省"]) + title
    if rng.random() < 0.5:
        title += "（电子）"
    sign = rng.choice(["", "", "¥", "￥"])
    scale = 2000 if inpatient else 300
    item_names = rng.sample(INPATIENT_ITEMS if inpatient else OUTPATIENT_ITEMS, rng.randint(3, 6))
    items = [
        _amount(rng, item, values.money(Decimal(rng.randint(300, scale * 100)) / 100), sign) for item in item_names
    ]
    total = sum((Decimal(e.label) for e in items), Decimal(0))
    insurance = rng.choice(INSURANCE)
    fund = Decimal(0) if insurance == "自费" else values.money(total * Decimal(rng.randint(40, 85)) / 100)
    upper = values.rmb_upper(total)
    totals = [
        _amount(rng, rng.choice(["合计", "合计金额", "金额合计"]), total, sign),
        Entry(rng.choice(["合计（大写）", "大写金额", "金额（大写）"]), upper, upper),
        _amount(rng, rng.choice(["医保统筹支付", "统筹基金支付", "医保统筹基金支付"]), fund, sign),
        _amount(rng, rng.choice(["个人自付", "个人支付", "个人现金支付"]), total - fund, sign),
    ]
    day = values.random_date(rng, 2019, 2025)
    code = f"{rng.randint(11, 65)}{rng.choice(['06', '60', '01'])}{values.digits(rng, 4)}"
    number = values.digits(rng, 10)
    codes = [
        Entry("票据代码", code, code),
        Entry("票据号码", number, number),
        Entry(
            rng.choice(["开票日期", "开票日期", "收费日期"]),
            values.cn_date(day, rng.choice(["dash", "ymd0", "ymd", "slash"])),
            values.iso(day),
        ),
    ]
    person = words.person_name(rng)
    patient = [
        Entry(rng.choice(["交款人", "姓名", "患者姓名"]), person, person),
        Entry(rng.choice(["医保类型", "医疗保险类型"]), insurance, insurance),
    ]
    optional: list[tuple[str, ...]] = [
        ("性别",),
        ("业务流水号", "流水号"),
        ("住院号",) if inpatient else ("门诊号", "病历号"),
        ("社会保障卡号", "医保卡号"),
    ]
    skipped = rng.sample(optional, rng.randint(1, 2))
    printed = [names for names in optional if names not in skipped and rng.random() < 0.7]
    for names in printed:
        key = rng.choice(names)
        if key == "性别":
            text = rng.choice(["男", "女"])
        elif names[0] == "业务流水号":
            text = day.strftime("%Y%m%d") + values.digits(rng, rng.choice([6, 8]))
        elif names[0] == "社会保障卡号":
            text = rng.choice(["", "A"]) + values.digits(rng, 9)
        else:
            text = values.digits(rng, rng.choice([8, 10]))
        patient.insert(1 if key == "性别" else len(patient), Entry(key, text, text))
    hospital = _hospital(rng)
    cashier_name = words.person_name(rng)
    unit = Entry(rng.choice(["收款单位", "收款单位（章）", "医疗机构"]), hospital, hospital)
    cashier = Entry(rng.choice(["收款人", "收款员"]), cashier_name, cashier_name)
    unprinted = [names for names in optional if names not in printed]
    return Receipt(title, hospital, codes, patient, items, totals, cashier, unit, unprinted)


def _seal(canvas: Canvas, req: RenderRequest, receipt: Receipt, anchor: Rect) -> None:
    stamp_seal(canvas, req, receipt.hospital, "财务专用章", 190, anchor)


def _pair_rows(
    canvas: Canvas,
    face: fonts.Face,
    y: float,
    entries: list[Entry],
    pairs: int,
    widths: tuple[float, float],
    color: tuple[int, int, int],
    x0: float = 60,
    row_h: float = 70,
) -> float:
    """Entries as ruled key/value cells, ``pairs`` to a row; returns the y below the grid."""
    rows = max(1, -(-len(entries) // pairs))
    cells = canvas.grid(x0, y, list(widths) * pairs, [row_h] * rows, color, 2)
    for i, entry in enumerate(entries):
        r, c = divmod(i, pairs)
        key_font = canvas.fit_font(face, entry.key, widths[0] - 16, 28)
        canvas.cell_text(cells[r][2 * c], entry.key, key_font, fill=color, align="center")
        value_font = canvas.fit_font(face, entry.printed, widths[1] - 24, 28)
        canvas.cell_text(cells[r][2 * c + 1], [entry.value_run(fill=INK)], value_font)
    return y + rows * row_h


def render_ruled(req: RenderRequest) -> Canvas:
    """A ruled form: codes above, the patient row, the items two pairs a row, then the totals."""
    rng = req.rng
    receipt = sample(rng)
    width = 1700
    canvas = Canvas(width, 1600, (253, 251, 246))
    bold = req.fonts.pick("serif_bold", rng)
    canvas.text((width / 2, 40), receipt.title, canvas.fit_font(bold, receipt.title, 1200, 54), RED, "center")
    face = req.fonts.pick(rng.choice(["sans", "serif"]), rng)
    small = fonts.load(face, 28)
    y = 140.0
    for i, entry in enumerate(receipt.codes):
        x = (60, 640, 1180)[i]
        canvas.runs((x, y), [run(f"{entry.key}：", fill=RED), entry.value_run(fill=INK)], small)
    y += 70
    y = _pair_rows(canvas, face, y, receipt.patient, min(3, len(receipt.patient)), (200, 326), RED)
    canvas.cell_text((60, y, 1640, y + 56), "项目名称 / 金额", fonts.load(face, 26), fill=RED, align="center")
    canvas.rect((60, y, 1640, y + 56), outline=RED)
    y += 56
    y = _pair_rows(canvas, face, y, receipt.items, 2, (300, 490), RED)
    y = _pair_rows(canvas, face, y, receipt.totals[1:2], 1, (300, 1280), RED)
    y = _pair_rows(canvas, face, y, [receipt.totals[0], *receipt.totals[2:]], 3, (240, 286), RED)
    y += 36
    canvas.runs((60, y), [run(f"{receipt.unit.key}：", fill=RED), receipt.unit.value_run(fill=INK)], small)
    canvas.runs((1200, y), [run(f"{receipt.cashier.key}：", fill=RED), receipt.cashier.value_run(fill=INK)], small)
    _seal(canvas, req, receipt, canvas.fields[receipt.unit.key].boxes[0])
    canvas.crop_height(max(1000, int(y + 140)))
    return label_absent(canvas, rng, receipt.unprinted)


def render_thermal(req: RenderRequest) -> Canvas:
    """A self-service kiosk strip: one "key：value" a line, items with right-aligned amounts."""
    rng = req.rng
    receipt = sample(rng)
    width = 820
    canvas = Canvas(width, 2400)
    mono = req.fonts.pick("mono", rng)
    font = fonts.load(mono, rng.choice([28, 30]))
    step = font.size * 1.6
    y = 40.0
    canvas.text(
        (width / 2, y), receipt.hospital, canvas.fit_font(mono, receipt.hospital, width - 80, 36), align="center"
    )
    y += 60
    canvas.text((width / 2, y), receipt.title, canvas.fit_font(mono, receipt.title, width - 80, 32), align="center")
    y += 70

    def rule(y: float) -> float:
        canvas.text((40, y), "-" * 40, canvas.fit_font(mono, "-" * 40, width - 80, 28))
        return y + step

    for entry in [*receipt.codes, *receipt.patient]:
        value_font = canvas.fit_font(mono, f"{entry.key}：{entry.printed}", width - 80, int(font.size))
        canvas.runs((40, y), [run(f"{entry.key}："), entry.value_run()], value_font)
        y += step
    y = rule(y)
    for entry in receipt.items:
        canvas.text((40, y), entry.key, font)
        canvas.runs((width - 40, y), [entry.value_run()], font, align="right")
        y += step
    y = rule(y)
    for entry in receipt.totals:
        if entry is receipt.totals[1]:
            canvas.text((40, y), f"{entry.key}：", font)
            y += step
            canvas.runs(
                (width - 40, y),
                [entry.value_run()],
                canvas.fit_font(mono, entry.printed, width - 80, 30),
                align="right",
            )
        else:
            canvas.text((40, y), entry.key, font)
            canvas.runs((width - 40, y), [entry.value_run()], font, align="right")
        y += step
    y = rule(y)
    for entry in (receipt.unit, receipt.cashier):
        line_font = canvas.fit_font(mono, f"{entry.key}：{entry.printed}", width - 80, int(font.size))
        canvas.runs((40, y), [run(f"{entry.key}："), entry.value_run()], line_font)
        y += step
    canvas.text((40, y + 10), "请妥善保管，遗失不补", font)
    _seal(canvas, req, receipt, (width - 300, y - 120, width - 120, y))
    canvas.crop_height(max(1200, int(y + 120)))
    return label_absent(canvas, rng, receipt.unprinted)


def _code_block(canvas: Canvas, rng: random.Random, x: float, y: float, size: int = 150) -> None:
    """A stand-in for the receipt's verification code: a random grid of dark modules."""
    cell = size / 21
    canvas.rect((x, y, x + size, y + size), outline=(0, 0, 0), width=2)
    for r in range(21):
        for c in range(21):
            if rng.random() < 0.45:
                canvas.draw.rectangle(
                    (x + c * cell, y + r * cell, x + (c + 1) * cell, y + (r + 1) * cell), fill=(0, 0, 0)
                )


def render_electronic(req: RenderRequest) -> Canvas:
    """An electronic receipt: code block and header lines, an item table with a header row, the totals."""
    rng = req.rng
    receipt = sample(rng)
    width = 1600
    canvas = Canvas(width, 1800)
    face = req.fonts.pick("sans", rng)
    bold = req.fonts.pick("sans_bold", rng)
    _code_block(canvas, rng, 60, 40)
    canvas.text((width / 2, 60), receipt.title, canvas.fit_font(bold, receipt.title, 740, 48), (150, 40, 40), "center")
    small = fonts.load(face, 26)
    y = 60.0
    for entry in receipt.codes:
        canvas.runs(
            (1190, y),
            [run(f"{entry.key}："), entry.value_run()],
            canvas.fit_font(face, f"{entry.key}：{entry.printed}", 370, 26),
        )
        y += 44
    y = 230.0
    x = 60.0
    font = fonts.load(face, 28)
    for entry in receipt.patient:
        text = f"{entry.key}：{entry.printed}"
        w = canvas.text_width(text, font) + 60
        if x + w > width - 60:
            x, y = 60.0, y + 50
        canvas.runs((x, y), [run(f"{entry.key}："), entry.value_run()], font)
        x += w
    y += 70
    header = ["项目名称", "金额（元）", "备注"]
    widths = [560, 420, 500]
    cells = canvas.grid(60, y, widths, [60] * (len(receipt.items) + 1), (90, 90, 90), 2)
    for cell, text in zip(cells[0], header, strict=True):
        canvas.draw.rectangle((cell[0] + 1, cell[1] + 1, cell[2] - 1, cell[3] - 1), fill=(236, 240, 246))
        canvas.cell_text(cell, text, font, align="center")
    for row, entry in zip(cells[1:], receipt.items, strict=True):
        canvas.cell_text(row[0], entry.key, font, align="center")
        canvas.cell_text(row[1], [entry.value_run()], font, align="right")
        canvas.cell_text(row[2], rng.choice(["", "", "甲类", "乙类"]), font, align="center")
    y += 60 * (len(receipt.items) + 1) + 30
    total, upper, fund, own = receipt.totals
    canvas.runs((60, y), [run(f"{upper.key}："), upper.value_run()], font)
    canvas.runs((1540, y), [run(f"{total.key}："), total.value_run()], font, align="right")
    y += 56
    canvas.runs((60, y), [run(f"{fund.key}："), fund.value_run()], font)
    canvas.runs((1540, y), [run(f"{own.key}："), own.value_run()], font, align="right")
    y += 90
    canvas.runs((60, y), [run(f"{receipt.unit.key}："), receipt.unit.value_run()], font)
    canvas.runs((1540, y), [run(f"{receipt.cashier.key}："), receipt.cashier.value_run()], font, align="right")
    y += 60
    canvas.text((60, y), "本票据可通过财政电子票据查验平台查验真伪。", small, fill=(120, 120, 120))
    _seal(canvas, req, receipt, canvas.fields[receipt.unit.key].boxes[0])
    canvas.crop_height(max(1000, int(y + 120)))
    return label_absent(canvas, rng, receipt.unprinted)


KIND = DocKind(
    name="medical_receipt",
    template="",  # an open set: each receipt's own printed keys are its fields
    fields=(),
    languages=("zh",),
    renderers={
        "ruled": render_ruled,
        "thermal": render_thermal,
        "electronic": render_electronic,
    },
    description="Chinese medical receipts (ruled form, kiosk strip, electronic receipt)",
)

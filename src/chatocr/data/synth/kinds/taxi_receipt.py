"""Chinese taxi receipts (出租汽车专用发票): the narrow strip a taxi meter prints.

Each receipt prints the meter's keys (发票代码, 发票号码, 车号, 日期, 上车, 下车, 单价, 里程, 等候,
金额), each under one of its usual names (车号 or 车牌号, 金额 or 实收金额...), and some of the
optional ones (监督电话, 证号, 燃油附加费, 起步价).  The label key is the printed key itself, as a
user asks for it: this kind has no template, so field names vary from receipt to receipt.  One or
two optional keys the receipt does not print are labelled absent.

Labels: 日期 YYYY-MM-DD, 上车/下车 HH:MM, amounts (单价, 金额, 燃油附加费, 起步价) "12.30", 里程
the kilometres without their unit ("12.3"), the rest (车号, 等候, codes) as printed.

Layouts: ``meter`` (one "key value" per line in a monospaced face), ``columns`` (keys in a column,
values right-aligned, dashed rules between groups) and ``preprinted`` (a pre-printed ruled form the
meter fills in slightly off register; the held-out layout).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from chatocr.data.synth import fonts, values
from chatocr.data.synth.canvas import Canvas, Rect, run
from chatocr.data.synth.kinds import DocKind, Entry, RenderRequest, label_absent, stamp_seal

WIDTH = 760  # a meter's paper roll, scanned
MIN_HEIGHT = 1100
FORM_RED = (196, 52, 52)
INK = (30, 30, 40)

# (city, plate prefix letters): the plate's province character comes first
CITIES = [
    ("北京", "京", "BE"),
    ("上海", "沪", "DE"),
    ("广州", "粤", "A"),
    ("深圳", "粤", "B"),
    ("杭州", "浙", "A"),
    ("南京", "苏", "A"),
    ("成都", "川", "A"),
    ("武汉", "鄂", "A"),
    ("天津", "津", "E"),
    ("重庆", "渝", "AB"),
    ("西安", "陕", "A"),
    ("青岛", "鲁", "B"),
]
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
OPTIONAL: list[tuple[str, ...]] = [
    ("监督电话", "投诉电话"),
    ("证号", "驾驶员证号"),
    ("燃油附加费", "附加费"),
    ("起步价",),
]


@dataclass
class Ride:
    city: str
    company: str
    entries: list[Entry]
    unprinted: list[tuple[str, ...]]


def _plate(rng: random.Random, province: str, letters: str) -> str:
    tail = list(values.digits(rng, 5))
    if rng.random() < 0.35:
        tail[rng.choice([0, 4])] = rng.choice(PLATE_LETTERS)
    separator = rng.choice(["·", "", "", "-"])
    return f"{province}{rng.choice(letters)}{separator}{''.join(tail)}"


def _clock(minutes: int) -> str:
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _yuan(rng: random.Random, value: Decimal, per_km: bool = False) -> str:
    text = values.amount_printed(value)
    if per_km:
        return rng.choice([f"{text}元", f"{text}元/公里", text])
    return rng.choice([f"{text}元", f"¥{text}", f"￥{text}元", text])


def sample(rng: random.Random) -> Ride:
    """A plausible ride: fare from base fare, price per km and waiting time, rounded to the yuan."""
    city, province, letters = rng.choice(CITIES)
    price = Decimal(rng.choice(["1.80", "2.00", "2.30", "2.40", "2.50", "2.60", "2.70", "2.80", "3.00", "3.20"]))
    base = Decimal(rng.choice([8, 10, 11, 13, 14]))
    km = Decimal(rng.randint(10, 450)) / 10
    wait_seconds = rng.choice([0, rng.randint(10, 900), rng.randint(60, 1800)])
    fare = base + max(Decimal(0), km - 3) * price + Decimal(wait_seconds // 300) * price
    total = fare.quantize(Decimal("1"))
    surcharge = Decimal(rng.choice([1, 1, 2]))
    board = rng.randint(6 * 60, 23 * 60 + 30)
    alight = board + int(km * Decimal("2.2")) + wait_seconds // 60 + rng.randint(1, 8)
    day = values.random_date(rng, 2016, 2025)
    date_printed = rng.choice([values.iso(day), values.cn_date(day, "ymd0"), values.cn_date(day, "slash")])
    if rng.random() < 0.5:
        waiting = f"{wait_seconds // 3600:02d}:{wait_seconds // 60 % 60:02d}:{wait_seconds % 60:02d}"
    else:
        waiting = f"{wait_seconds // 60}分{wait_seconds % 60:02d}秒"
    km_text = f"{km:.1f}"
    code, number, plate = (
        f"1{rng.randint(10, 65)}00{values.digits(rng, 7)}",
        values.digits(rng, 8),
        _plate(rng, province, letters),
    )
    head = [
        Entry("发票代码", code, code),
        Entry("发票号码", number, number),
        Entry(rng.choice(["车号", "车号", "车牌号"]), plate, plate),
    ]
    trip = [
        Entry(rng.choice(["日期", "乘车日期"]), date_printed, values.iso(day)),
        Entry(rng.choice(["上车", "上车时间"]), _clock(board), _clock(board)),
        Entry(rng.choice(["下车", "下车时间"]), _clock(alight), _clock(alight)),
        Entry(rng.choice(["单价", "单价", "每公里单价"]), _yuan(rng, price, per_km=True), values.amount_label(price)),
        Entry(rng.choice(["里程", "行驶里程"]), rng.choice([f"{km_text}km", f"{km_text}公里", km_text]), km_text),
        Entry(rng.choice(["等候", "等候时间"]), waiting, waiting),
    ]
    fare_key = rng.choice(["金额", "金额", "实收金额", "应收金额"])
    fare_entry = Entry(fare_key, _yuan(rng, total), values.amount_label(total))
    skipped = rng.sample(OPTIONAL, rng.randint(1, 2))
    printed = [names for names in OPTIONAL if names not in skipped and rng.random() < 0.6]
    driver: list[Entry] = []  # printed with the car, before the trip
    charges: list[Entry] = []  # printed with the fare
    for names in printed:
        key = rng.choice(names)
        if names[0] == "监督电话":
            phone = rng.choice(["96123", "12328", "12345", f"{rng.randint(10, 99)}{values.digits(rng, 6)}"])
            driver.append(Entry(key, phone, phone))
        elif names[0] == "证号":
            licence = values.digits(rng, 6)
            driver.append(Entry(key, licence, licence))
        elif names[0] == "起步价":
            charges.append(Entry(key, _yuan(rng, base), values.amount_label(base)))
        else:
            charges.append(Entry(key, _yuan(rng, surcharge), values.amount_label(surcharge)))
    entries = head + driver + trip + charges + [fare_entry]
    unprinted = [names for names in OPTIONAL if names not in printed]
    fleet = rng.choice(["银建", "首汽", "大众", "强生", "金马", "新月", "顺达"])
    company = f"{city}{rng.choice(['市', ''])}{fleet}出租汽车有限公司"
    return Ride(city, company, entries, unprinted)


def _title(rng: random.Random) -> str:
    return rng.choice(["出租汽车专用发票", "出租车发票", "出租汽车统一发票", "出租汽车发票"])


def _seal(canvas: Canvas, req: RenderRequest, ride: Ride, anchor: Rect) -> None:
    stamp_seal(canvas, req, ride.company[:14], "发票专用章", 150, anchor, oval=True)


def _header(canvas: Canvas, req: RenderRequest, ride: Ride, fill: tuple[int, int, int]) -> float:
    bold = req.fonts.pick("sans_bold", req.rng)
    title = f"{ride.city}市{_title(req.rng)}"
    canvas.text((WIDTH / 2, 50), title, canvas.fit_font(bold, title, WIDTH - 80, 44), fill=fill, align="center")
    sans = req.fonts.pick("sans", req.rng)
    canvas.text((WIDTH / 2, 118), "发  票  联", fonts.load(sans, 30), fill=fill, align="center")
    return 190.0


def render_meter(req: RenderRequest) -> Canvas:
    """One "key value" line each, printed by the meter in a monospaced face."""
    rng = req.rng
    ride = sample(rng)
    canvas = Canvas(WIDTH, 1900)
    y = _header(canvas, req, ride, INK)
    font = fonts.load(req.fonts.pick("mono", rng), rng.choice([32, 34, 36]))
    step = font.size * rng.uniform(1.55, 1.8)
    colon = rng.choice(["", ":", "："])
    tab = rng.random() < 0.7  # values in a column; otherwise right after their key
    for entry in ride.entries:
        if tab:
            canvas.text((60, y), f"{entry.key}{colon}", font)
            canvas.runs((60 + font.size * 5.6, y), [entry.value_run()], font)
        else:
            canvas.runs((60, y), [run(f"{entry.key}{colon} "), entry.value_run()], font)
        y += step
    y += 20
    canvas.text((60, y), rng.choice(["谢谢乘坐", "欢迎乘坐 请索取发票", "请妥善保管"]), font)
    fare_box = canvas.fields[ride.entries[-1].key].boxes[0]
    _seal(canvas, req, ride, fare_box if req.seal == "over" else (WIDTH - 320, y - 60, WIDTH - 180, y + 20))
    canvas.crop_height(max(MIN_HEIGHT, int(y + 120)))
    return label_absent(canvas, rng, ride.unprinted)


def render_columns(req: RenderRequest) -> Canvas:
    """Keys in a left column, values right-aligned, dashed rules between groups of lines."""
    rng = req.rng
    ride = sample(rng)
    canvas = Canvas(WIDTH, 1900)
    y = _header(canvas, req, ride, INK)
    face = req.fonts.pick("sans", rng)
    font = fonts.load(face, rng.choice([30, 32, 34]))
    step = font.size * 1.75
    for i, entry in enumerate(ride.entries):
        if i in (3, len(ride.entries) - 1):
            canvas.draw.line([(50, y - 12), (WIDTH - 50, y - 12)], fill=(120, 120, 120), width=2)
            y += 12
        canvas.text((60, y), entry.key, font)
        value_font = canvas.fit_font(face, entry.printed, WIDTH - 320, int(font.size))
        canvas.runs((WIDTH - 60, y), [entry.value_run()], value_font, align="right")
        y += step
    _seal(
        canvas, req, ride, canvas.fields[ride.entries[-1].key].boxes[0] if req.seal == "over" else (500, y - 80, 620, y)
    )
    canvas.crop_height(max(MIN_HEIGHT, int(y + 100)))
    return label_absent(canvas, rng, ride.unprinted)


def render_preprinted(req: RenderRequest) -> Canvas:
    """A pre-printed red form with a ruled key column; the meter prints the values a little off register."""
    rng = req.rng
    ride = sample(rng)
    canvas = Canvas(WIDTH, 1900, (252, 248, 240))
    y = _header(canvas, req, ride, FORM_RED)
    form_face = req.fonts.pick("serif", rng)
    ink_font = fonts.load(req.fonts.pick("mono", rng), 32)
    row = 74
    cells = canvas.grid(50, y, [210, WIDTH - 310], [row] * len(ride.entries), FORM_RED, 2)
    dx, dy = rng.uniform(-8, 14), rng.uniform(-12, 10)
    for (key_cell, value_cell), entry in zip(cells, ride.entries, strict=True):
        key_font = canvas.fit_font(form_face, entry.key, 186, 30)
        canvas.cell_text(key_cell, entry.key, key_font, fill=FORM_RED, align="center")
        shifted = (value_cell[0] + dx, value_cell[1] + dy, value_cell[2] + dx, value_cell[3] + dy)
        canvas.cell_text(shifted, [entry.value_run()], ink_font, fill=INK, pad=20)
    y += row * len(ride.entries) + 30
    canvas.text((60, y), f"{ride.company}", canvas.fit_font(form_face, ride.company, WIDTH - 120, 26), fill=FORM_RED)
    _seal(canvas, req, ride, (WIDTH - 260, y - 40, WIDTH - 120, y + 30))
    canvas.crop_height(max(MIN_HEIGHT, int(y + 120)))
    return label_absent(canvas, rng, ride.unprinted)


KIND = DocKind(
    name="taxi_receipt",
    template="",  # an open set: each receipt's own printed keys are its fields
    fields=(),
    languages=("zh",),
    renderers={
        "meter": render_meter,
        "columns": render_columns,
        "preprinted": render_preprinted,
    },
    description="Chinese taxi receipts (meter strip, key column, pre-printed form)",
)

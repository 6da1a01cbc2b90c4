"""Railway tickets: the red paper ticket, the blue magnetic ticket and the electronic ticket invoice.

Labels: 出发站/到达站 exactly as printed (with 站 where the ticket prints it), 出发日期
YYYY-MM-DD, 出发时间 HH:MM, 座位号 as printed (05车12A号), 票价 "123.50".  Standing
tickets (无座) have no 座位号.  The passenger's ID number is printed masked.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, run
from chatocr.data.synth.kinds import DocKind, RenderRequest

FIELDS = ("车次", "出发站", "到达站", "出发日期", "出发时间", "座位号", "席别", "票价", "乘客姓名")


@dataclass
class Ticket:
    train: str
    origin: tuple[str, str]
    destination: tuple[str, str]
    date_iso: str
    date_printed: str
    time: str
    seat: str | None
    seat_class: str
    price: Decimal
    passenger: str
    masked_id: str
    serial: str
    gate: str


def sample(rng: random.Random) -> Ticket:
    origin, destination = rng.sample(words.STATIONS, 2)
    fast = rng.random() < 0.7
    prefix = rng.choice("GGGDC") if fast else rng.choice("KTZ")
    train = f"{prefix}{rng.randint(1, 9999 if prefix in 'GDK' else 999)}"
    if fast:
        seat_class = rng.choices(["二等座", "一等座", "商务座", "无座"], weights=[10, 3, 1, 1])[0]
    else:
        seat_class = rng.choices(["硬座", "硬卧", "软卧", "无座"], weights=[5, 4, 2, 1])[0]
    car = rng.randint(1, 16)
    if seat_class == "无座":
        seat = None
    elif seat_class in ("硬卧", "软卧"):
        berths = ["上铺", "中铺", "下铺"] if seat_class == "硬卧" else ["上铺", "下铺"]
        seat = f"{car:02d}车{rng.randint(1, 66):03d}号{rng.choice(berths)}"
    elif fast:
        seat = f"{car:02d}车{rng.randint(1, 20):02d}{rng.choice('ABCDF')}号"
    else:
        seat = f"{car:02d}车{rng.randint(1, 118):03d}号"
    price = Decimal(rng.randint(150, 15000)) / 10  # tickets are priced to 0.1 yuan (one jiao)
    day = values.random_date(rng, 2016, 2025)
    return Ticket(
        train=train,
        origin=origin,
        destination=destination,
        date_iso=values.iso(day),
        date_printed=values.cn_date(day, "ymd0"),
        time=f"{rng.randint(5, 22):02d}:{rng.choice(range(0, 60, 1)):02d}",
        seat=seat,
        seat_class=seat_class,
        price=price,
        passenger=words.person_name(rng),
        masked_id=values.masked_id(rng),
        serial=rng.choice("ABCDEFGHJKZ") + values.digits(rng, 6),
        gate=f"{rng.choice('ABC')}{rng.randint(1, 30)}" if rng.random() < 0.6 else str(rng.randint(1, 30)),
    )


def _station_name(ticket: Ticket, which: str, suffix: bool) -> str:
    name = (ticket.origin if which == "origin" else ticket.destination)[0]
    return name + "站" if suffix else name


def _price_printed(price: Decimal) -> str:
    return f"¥{price:.1f}元"


def _background(canvas: Canvas, tint: tuple[int, int, int], rng: random.Random) -> None:
    """Security-paper look: a pale tint with a fine wavy line pattern."""
    canvas.draw.rectangle((0, 0, canvas.width, canvas.height), fill=tint)
    line_color = tuple(max(0, c - 14) for c in tint)
    offset = rng.uniform(0, 20)
    for y in range(0, canvas.height, 18):
        points = [(x, y + 4 * ((x / 40 + offset) % 2 - 1)) for x in range(0, canvas.width + 40, 40)]
        canvas.draw.line(points, fill=line_color, width=1)  # type: ignore[arg-type]


def _stations_block(
    canvas: Canvas,
    ticket: Ticket,
    book_face: fonts.Face,
    latin: fonts.Face,
    y: float,
    suffix: bool,
    left: float,
    right: float,
    apart: float = 0.0,
) -> None:
    """The two stations with their pinyin and the train between them.  ``apart`` (with ``suffix``): the gap,
    in character widths, between a station's name and its 站, printed on its own as paper tickets do (the
    OCR then boxes 站 alone)."""
    big = fonts.load(book_face, 64)
    pinyin = fonts.load(latin, 26)
    origin = _station_name(ticket, "origin", suffix)
    destination = _station_name(ticket, "destination", suffix)
    if suffix and apart > 0:
        zhan = canvas.text_width("站", big)
        gap = apart * zhan
        for field, name, x in (
            ("出发站", origin, left),
            ("到达站", destination, right - zhan - gap - canvas.text_width(destination[:-1], big)),
        ):
            # Two lines, one label: the field's value is the whole name, its boxes both pieces.
            drawn = canvas.runs((x, y), [run(name[:-1], field, name, printed=name)], big)
            canvas.runs((drawn[2] + gap, y), [run("站", field, name, printed=name)], big)
    else:
        canvas.text((left, y), origin, big, name="出发站")
        canvas.text((right, y), destination, big, align="right", name="到达站")
    canvas.text((left + 10, y + 84), ticket.origin[1], pinyin)
    canvas.text((right - 10, y + 84), ticket.destination[1], pinyin, align="right")
    mid = (left + right) / 2
    canvas.text((mid, y - 6), ticket.train, fonts.load(book_face, 60), align="center", name="车次")
    canvas.line([(mid - 110, y + 78), (mid + 110, y + 78)], width=3)
    canvas.draw.polygon([(mid + 110, y + 78), (mid + 90, y + 68), (mid + 90, y + 88)], fill=(20, 20, 20))


def _common_rows(canvas: Canvas, ticket: Ticket, face: fonts.Face, x: float, y: float, step: float) -> float:
    font = fonts.load(face, 40)
    row = [run(ticket.date_printed, "出发日期", ticket.date_iso), run(" "), run(ticket.time, "出发时间"), run("开")]
    canvas.runs((x, y), row, font)
    if ticket.seat:
        canvas.text((x + 620, y), ticket.seat, font, name="座位号")
    y += step
    price = _price_printed(ticket.price)
    canvas.text((x, y), price, font, name="票价", value=values.amount_label(ticket.price))
    canvas.text((x + 620, y), ticket.seat_class, font, name="席别")
    return y + step


def render_red(req: RenderRequest) -> Canvas:
    """The old pink/red paper ticket."""
    rng, book = req.rng, req.fonts
    ticket = sample(rng)
    canvas = Canvas(1280, 800)
    _background(canvas, (250, 222, 222), rng)
    face = book.pick("sans", rng)
    latin = book.pick("latin", rng)
    canvas.text((60, 40), ticket.serial, fonts.load(book.pick("latin_mono", rng), 44), fill=(200, 30, 30))
    apart = rng.uniform(0.8, 2.5) if rng.random() < 0.6 else 0.0
    _stations_block(canvas, ticket, face, latin, 130, suffix=True, left=90, right=1190, apart=apart)
    y = _common_rows(canvas, ticket, face, 90, 300, 72)
    small = fonts.load(face, 32)
    canvas.text((90, y), "限乘当日当次车", small)
    y += 60
    canvas.runs((90, y), [run(ticket.masked_id), run("  "), run(ticket.passenger, "乘客姓名")], fonts.load(face, 38))
    canvas.text((90, y + 80), f"{values.digits(rng, 21)} {ticket.origin[0]}售", fonts.load(face, 28))
    return canvas


def render_blue(req: RenderRequest) -> Canvas:
    """The blue magnetic-stripe ticket: gate top right, name and ID on one line, a boxed note."""
    rng, book = req.rng, req.fonts
    ticket = sample(rng)
    canvas = Canvas(1280, 820)
    _background(canvas, (214, 232, 246), rng)
    face = book.pick("sans", rng)
    latin = book.pick("latin", rng)
    canvas.text((60, 36), ticket.serial, fonts.load(book.pick("latin_mono", rng), 44), fill=(200, 30, 30))
    canvas.text((1220, 40), f"检票:{ticket.gate}", fonts.load(face, 36), align="right")
    suffix = rng.random() < 0.5
    apart = rng.uniform(0.8, 2.5) if suffix and rng.random() < 0.5 else 0.0
    _stations_block(canvas, ticket, face, latin, 120, suffix=suffix, left=90, right=1190, apart=apart)
    font = fonts.load(face, 40)
    y = 300.0
    date_runs = [run(ticket.date_printed, "出发日期", ticket.date_iso), run(ticket.time, "出发时间"), run("开")]
    canvas.runs((90, y), date_runs, font)
    if ticket.seat:
        canvas.text((1190, y), ticket.seat, font, align="right", name="座位号")
    y += 70
    canvas.runs(
        (90, y),
        [
            run(_price_printed(ticket.price), "票价", values.amount_label(ticket.price)),
            run("   网   "),
            run(ticket.seat_class, "席别"),
        ],
        font,
    )
    y += 70
    canvas.text((90, y), rng.choice(["仅供报销使用", "限乘当日当次车"]), fonts.load(face, 32))
    y += 62
    canvas.runs((90, y), [run(ticket.masked_id), run(" "), run(ticket.passenger, "乘客姓名")], fonts.load(face, 38))
    y += 70
    canvas.rect((90, y, 820, y + 90), outline=(40, 40, 40), width=2)
    canvas.text((110, y + 12), "买票请到12306 发货请到95306", fonts.load(face, 28))
    canvas.text((110, y + 50), "中国铁路祝您旅途愉快", fonts.load(face, 28))
    canvas.text((90, y + 120), f"{values.digits(rng, 21)} JM", fonts.load(latin, 28))
    return canvas


def render_itinerary(req: RenderRequest) -> Canvas:
    """A printed booking confirmation (行程信息提示): order header, then one trip row in a table."""
    rng, book = req.rng, req.fonts
    ticket = sample(rng)
    canvas = Canvas(1500, 1000, (255, 255, 255))
    face = book.pick("sans", rng)
    font = fonts.load(face, 28)
    blue = (28, 92, 170)
    canvas.rect((0, 0, 1500, 110), outline=blue, width=1, fill=blue)
    canvas.text(
        (60, 30), "中国铁路12306 · 行程信息提示", fonts.load(book.pick("sans_bold", rng), 44), fill=(255, 255, 255)
    )
    canvas.text((60, 150), f"订单号：E{values.digits(rng, 9)}", font)
    booked = dt.date.fromisoformat(ticket.date_iso) - dt.timedelta(days=rng.randint(0, 14))
    canvas.text((1440, 150), f"下单时间：{values.iso(booked)}", font, align="right")
    canvas.runs(
        (60, 210),
        [run("乘车人："), run(ticket.passenger, "乘客姓名"), run(f"   证件号码：{ticket.masked_id}"), run("   成人票")],
        font,
    )
    cols = [180, 230, 230, 200, 150, 240, 140]
    heads = ["车次", "出发站", "到达站", "出发日期", "开车时间", "车厢座位", "席别"]
    header = canvas.grid(60, 290, cols, [64], (150, 150, 150), 2)[0]
    for cell, head in zip(header, heads, strict=True):
        canvas.draw.rectangle((cell[0] + 1, cell[1] + 1, cell[2] - 1, cell[3] - 1), fill=(235, 241, 250))
        canvas.cell_text(cell, head, font, align="center")
    cells = canvas.grid(60, 354, cols, [80], (150, 150, 150), 2)[0]
    values_row = [
        [run(ticket.train, "车次")],
        [run(ticket.origin[0], "出发站")],
        [run(ticket.destination[0], "到达站")],
        [run(ticket.date_iso, "出发日期")],
        [run(ticket.time, "出发时间")],
        [run(ticket.seat, "座位号")] if ticket.seat else [run("—")],
        [run(ticket.seat_class, "席别")],
    ]
    for cell, runs in zip(cells, values_row, strict=True):
        text = "".join(r.text for r in runs)
        canvas.cell_text(cell, runs, canvas.fit_font(face, text, cell[2] - cell[0] - 16, 28), align="center")
    canvas.runs(
        (60, 480),
        [
            run("票价："),
            run(f"{ticket.price:.1f}元", "票价", values.amount_label(ticket.price)),
            run(f"    支付方式：{rng.choice(['支付宝', '微信支付', '银行卡'])}"),
        ],
        font,
    )
    notes = [
        "温馨提示：请乘车人持购票时使用的有效身份证件原件进站乘车。",
        "如需报销凭证，请于乘车日期之日起180日内办理。",
        "请至少提前30分钟到达车站，以免耽误乘车。",
    ]
    y = 560.0
    for note in notes:
        canvas.text((60, y), note, fonts.load(face, 24), fill=(90, 90, 90))
        y += 44
    canvas.crop_height(int(y + 60))
    return canvas


def render_eticket(req: RenderRequest) -> Canvas:
    """The electronic ticket invoice (电子发票（铁路电子客票）): invoice header, trip block, buyer lines."""
    rng, book = req.rng, req.fonts
    ticket = sample(rng)
    canvas = Canvas(1600, 1000)
    face = book.pick("sans", rng)
    latin = book.pick("latin", rng)
    blue = (30, 60, 140)
    canvas.text(
        (800, 50), "电子发票（铁路电子客票）", fonts.load(book.pick("sans_bold", rng), 52), fill=blue, align="center"
    )
    small = fonts.load(face, 28)
    issue_day = values.random_date(rng, int(ticket.date_iso[:4]), int(ticket.date_iso[:4]))
    canvas.text((1080, 140), f"发票号码：{values.digits(rng, 20)}", small)
    canvas.text((1080, 185), f"开票日期：{values.cn_date(issue_day, 'ymd0')}", small)
    canvas.rect((60, 250, 1540, 900), outline=blue, width=3)
    _stations_block(canvas, ticket, face, latin, 300, suffix=bool(rng.random() < 0.3), left=140, right=1460)
    font = fonts.load(face, 38)
    y = 470.0
    canvas.runs(
        (140, y),
        [run(ticket.date_printed, "出发日期", ticket.date_iso), run(" "), run(ticket.time, "出发时间"), run("开")],
        font,
    )
    if ticket.seat:
        canvas.text((760, y), ticket.seat, font, name="座位号")
    canvas.text((1460, y), ticket.seat_class, font, align="right", name="席别")
    y += 70
    canvas.runs(
        (140, y), [run("票价："), run(f"￥{ticket.price:.2f}", "票价", values.amount_label(ticket.price))], font
    )
    y += 70
    canvas.runs((140, y), [run(ticket.masked_id), run(" "), run(ticket.passenger, "乘客姓名")], font)
    y += 70
    canvas.text((140, y), f"电子客票号：{values.digits(rng, 20)}", small)
    y += 60
    canvas.line([(60, y), (1540, y)], fill=blue, width=2)
    y += 30
    canvas.text((140, y), f"购买方名称：{words.company_name(rng)}", small)
    canvas.text((140, y + 48), f"统一社会信用代码：{values.uscc(rng)}", small)
    return canvas


KIND = DocKind(
    name="train_ticket",
    template="train_ticket",
    fields=FIELDS,
    languages=("zh",),
    renderers={
        "red": render_red,
        "blue": render_blue,
        "itinerary": render_itinerary,
        "eticket": render_eticket,
    },
    description="railway tickets (red paper, blue magnetic, electronic ticket invoice)",
)

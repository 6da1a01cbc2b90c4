"""ID-like personal cards (not a real card design): name, sex, ethnicity, birth date, address, ID number.

Each card prints 姓名, 性别, 民族, 出生, 住址 (wrapping over two lines when long) and 公民身份号码,
some under one of their usual names (出生 or 出生日期, 住址 or 地址, 公民身份号码 or 身份证号码).
The number has a valid check character, and the birth date and sex agree with it.  The label key
is the printed key itself: this kind has no template.  Keys a card does not print (签发机关,
有效期限, 联系电话...) are labelled absent, one or two per card.

Labels: 出生 YYYY-MM-DD, 住址 its printed lines joined with nothing, the rest as printed.

Layouts: ``card`` (a landscape card: keys in a column, 性别 and 民族 on one line, a photo on the
right, the number at the bottom), ``copy`` (a photocopy of the card's front and back on a page; the
back prints 签发机关 and 有效期限) and ``portrait`` (an upright card: photo on top, "key：value" lines
under it; the held-out layout).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, Color, Rect, run
from chatocr.data.synth.kinds import DocKind, Entry, RenderRequest, label_absent

ETHNICITIES = ["汉"] * 12 + ["回", "满", "壮", "苗", "维吾尔", "土家", "彝", "蒙古", "藏", "朝鲜", "侗", "瑶"]
OPTIONAL: list[tuple[str, ...]] = [("签发机关",), ("有效期限", "有效期"), ("联系电话", "手机号码"), ("婚姻状况",)]
KEY_BLUE: Color = (60, 110, 170)


@dataclass
class Person:
    name: Entry
    sex: Entry
    ethnicity: Entry
    birth: Entry
    address: Entry
    number: Entry
    authority: str
    validity: str


def sample(rng: random.Random, birth_style: str) -> Person:
    number = values.resident_id(rng)
    birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    sex = "男" if int(number[16]) % 2 else "女"
    address = words.address(rng)
    province, city, district = words.region(rng)
    area = district[:-1] if len(district) == 3 and district.endswith("区") else district
    authority = f"{city or province}公安局{area}分局"
    issued = values.random_date(rng, max(birth.year + 16, 2005), 2024)
    age = issued.year - birth.year
    if age >= 46:
        validity = f"{issued:%Y.%m.%d}-长期"
    else:
        end = issued.replace(year=issued.year + (10 if age < 26 else 20), day=min(issued.day, 28))
        validity = f"{issued:%Y.%m.%d}-{end:%Y.%m.%d}"
    birth_printed = {
        "ymd": values.cn_date(birth, "ymd"),
        "spaced": f"{birth.year} 年 {birth.month} 月 {birth.day} 日",
        "dot": f"{birth:%Y.%m.%d}",
        "dash": values.iso(birth),
    }[birth_style]
    name = words.person_name(rng)
    ethnicity = rng.choice(ETHNICITIES)
    return Person(
        name=Entry("姓名", name, name),
        sex=Entry("性别", sex, sex),
        ethnicity=Entry("民族", ethnicity, ethnicity),
        birth=Entry(rng.choice(["出生", "出生", "出生日期"]), birth_printed, values.iso(birth)),
        address=Entry(rng.choice(["住址", "住址", "地址"]), address, address),
        number=Entry(rng.choice(["公民身份号码", "公民身份号码", "身份证号码"]), number, number),
        authority=authority,
        validity=validity,
    )


def _photo(canvas: Canvas, box: Rect, tone: Color) -> None:
    """A placeholder portrait: a pale panel with a head-and-shoulders silhouette."""
    x0, y0, x1, y1 = box
    canvas.draw.rectangle(box, fill=tuple(min(255, c + 30) for c in tone))  # type: ignore[arg-type]
    cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
    canvas.draw.ellipse((cx - w * 0.2, y0 + h * 0.15, cx + w * 0.2, y0 + h * 0.52), fill=tone)
    canvas.draw.chord((cx - w * 0.42, y0 + h * 0.58, cx + w * 0.42, y1 + h * 0.35), 180, 360, fill=tone)


def _front(canvas: Canvas, req: RenderRequest, person: Person, x0: float, y0: float, tint: Color, ink: Color) -> None:
    """The card's face, 1500 x 940 pixels from (x0, y0)."""
    rng = req.rng
    canvas.draw.rounded_rectangle((x0, y0, x0 + 1500, y0 + 940), radius=48, fill=tint, outline=(150, 150, 150), width=3)
    face = req.fonts.pick(rng.choice(["sans", "serif"]), rng)
    key_font = fonts.load(req.fonts.pick("sans", rng), 34)
    value_font = fonts.load(face, 44)
    kx, vx = x0 + 90, x0 + 90 + 34 * max(len(person.birth.key), 2) + 60
    y = y0 + 90
    canvas.text((kx, y), person.name.key, key_font, fill=KEY_BLUE)
    canvas.runs((vx, y - 6), [person.name.value_run()], fonts.load(face, 52), fill=ink)
    y += 120
    canvas.text((kx, y), person.sex.key, key_font, fill=KEY_BLUE)
    canvas.runs((vx, y - 4), [person.sex.value_run()], value_font, fill=ink)
    canvas.text((vx + 200, y), person.ethnicity.key, key_font, fill=KEY_BLUE)
    canvas.runs((vx + 340, y - 4), [person.ethnicity.value_run()], value_font, fill=ink)
    y += 110
    canvas.text((kx, y), person.birth.key, key_font, fill=KEY_BLUE)
    canvas.runs((vx, y - 4), [person.birth.value_run()], value_font, fill=ink)
    y += 110
    canvas.text((kx, y), person.address.key, key_font, fill=KEY_BLUE)
    canvas.paragraph((vx, y - 4), x0 + 1030 - vx, [person.address.value_run()], value_font, fill=ink, line_height=64)
    _photo(canvas, (x0 + 1080, y0 + 110, x0 + 1400, y0 + 520), (150, 160, 175))
    y = y0 + 780
    canvas.text((kx, y), person.number.key, key_font, fill=KEY_BLUE)
    number_font = fonts.load(req.fonts.pick("latin_mono", rng), 50)
    canvas.runs((kx + 34 * len(person.number.key) + 60, y - 8), [person.number.value_run()], number_font, fill=ink)


def _unprinted(printed_back: bool) -> list[tuple[str, ...]]:
    return OPTIONAL[2:] if printed_back else OPTIONAL


def render_card(req: RenderRequest) -> Canvas:
    """A landscape card on a scanner bed."""
    rng = req.rng
    person = sample(rng, rng.choice(["ymd", "ymd", "spaced"]))
    canvas = Canvas(1600, 1040, (235, 235, 232))
    tint = rng.choice([(244, 246, 240), (238, 244, 248), (248, 244, 236)])
    _front(canvas, req, person, 50, 50, tint, (25, 25, 30))
    return label_absent(canvas, rng, _unprinted(False))


def render_copy(req: RenderRequest) -> Canvas:
    """A grey photocopy of the card's front and back on one page; the back prints issuer and validity."""
    rng = req.rng
    person = sample(rng, rng.choice(["ymd", "spaced"]))
    canvas = Canvas(1700, 2300, (246, 246, 246))
    grey: Color = (222, 222, 222)
    ink: Color = (45, 45, 45)
    _front(canvas, req, person, 100, 120, grey, ink)
    x0, y0 = 100.0, 1200.0
    canvas.draw.rounded_rectangle((x0, y0, x0 + 1500, y0 + 940), radius=48, fill=grey, outline=(150, 150, 150), width=3)
    bold = req.fonts.pick("sans_bold", rng)
    canvas.text((x0 + 750, y0 + 180), "个人身份信息卡", fonts.load(bold, 80), fill=ink, align="center")
    canvas.text(
        (x0 + 750, y0 + 310), "（样式仅供参考）", fonts.load(req.fonts.pick("sans", rng), 36), fill=ink, align="center"
    )
    key_font = fonts.load(req.fonts.pick("sans", rng), 36)
    value_font = fonts.load(req.fonts.pick("sans", rng), 44)
    authority_key = "签发机关"
    validity_key = rng.choice(OPTIONAL[1])
    y = y0 + 620
    for key, text in ((authority_key, person.authority), (validity_key, person.validity)):
        canvas.text((x0 + 300, y), key, key_font, fill=ink)
        canvas.runs((x0 + 560, y - 4), [run(text, key)], value_font, fill=ink)
        y += 110
    return label_absent(canvas, rng, _unprinted(True))


def render_portrait(req: RenderRequest) -> Canvas:
    """An upright card: a title band, the photo on top, then "key：value" lines."""
    rng = req.rng
    person = sample(rng, rng.choice(["dot", "dash", "ymd"]))
    canvas = Canvas(1080, 1600, (236, 236, 234))
    x0, y0, x1, y1 = 40, 40, 1040, 1560
    tint = rng.choice([(240, 246, 250), (246, 242, 236)])
    canvas.draw.rounded_rectangle((x0, y0, x1, y1), radius=40, fill=tint, outline=(150, 150, 150), width=3)
    band = rng.choice([(40, 90, 150), (150, 50, 50), (40, 110, 90)])
    canvas.draw.rounded_rectangle((x0, y0, x1, y0 + 140), radius=40, fill=band)
    canvas.draw.rectangle((x0, y0 + 90, x1, y0 + 140), fill=band)
    title = rng.choice(["居民信息卡", "人员身份卡", "身份信息登记卡"])
    canvas.text(
        (540, y0 + 40), title, fonts.load(req.fonts.pick("sans_bold", rng), 56), fill=(255, 255, 255), align="center"
    )
    _photo(canvas, (400, 220, 680, 580), (150, 160, 175))
    face = req.fonts.pick("sans", rng)
    font = fonts.load(face, 40)
    colon = rng.choice(["：", ":"])
    y = 640.0
    for entry in (person.name, person.sex, person.ethnicity, person.birth):
        canvas.runs((110, y), [run(f"{entry.key}{colon}", fill=KEY_BLUE), entry.value_run()], font)
        y += 84
    key = f"{person.address.key}{colon}"
    canvas.text((110, y), key, font, fill=KEY_BLUE)
    indent = canvas.text_width(key, font)
    y = canvas.paragraph((110 + indent, y), 860 - indent, [person.address.value_run()], font, line_height=64) + 30
    canvas.text((110, y), f"{person.number.key}{colon}", font, fill=KEY_BLUE)
    canvas.runs((110, y + 70), [person.number.value_run()], fonts.load(req.fonts.pick("latin_mono", rng), 52))
    canvas.crop_height(max(1200, int(y + 220)))
    return label_absent(canvas, rng, _unprinted(False))


KIND = DocKind(
    name="id_card",
    template="",  # an open set: each card's own printed keys are its fields
    fields=(),
    languages=("zh",),
    renderers={
        "card": render_card,
        "copy": render_copy,
        "portrait": render_portrait,
    },
    description="ID-like personal cards (landscape card, photocopy of both sides, upright card)",
)

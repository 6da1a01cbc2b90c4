"""Business licences (营业执照): the portrait 副本, the landscape two-column 正本 and a registry print-out.

统一社会信用代码 carries a valid GB 32100 check character.  注册资本 is labelled exactly as
printed (伍佰万元整, 500万元人民币): licences print it as words, not as a plain amount.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, Rect, Run, run
from chatocr.data.synth.kinds import DocKind, RenderRequest, stamp_seal

FIELDS = ("统一社会信用代码", "名称", "类型", "法定代表人", "注册资本", "成立日期", "住所", "经营范围")
_CAPITAL_UPPER = {
    10: "壹拾",
    50: "伍拾",
    100: "壹佰",
    200: "贰佰",
    300: "叁佰",
    500: "伍佰",
    1000: "壹仟",
    2000: "贰仟",
    3000: "叁仟",
    5000: "伍仟",
}


@dataclass
class License:
    code: str
    name: str
    company_type: str
    representative: str
    capital: str
    founded_iso: str
    founded_printed: str
    term: str
    address: str
    scope: str
    authority: str
    issued_printed: str


def sample(rng: random.Random) -> License:
    founded = values.random_date(rng, 2000, 2024)
    issued = values.random_date(rng, founded.year, min(2025, founded.year + 3))
    if issued < founded:
        issued = founded
    wan = rng.choice(sorted(_CAPITAL_UPPER))
    capital = rng.choice([f"{_CAPITAL_UPPER[wan]}万元整", f"{wan}万元人民币", f"人民币{wan}万元", f"{wan}万元"])
    date_style = rng.choice(["ymd", "ymd", "ymd0"])
    province, city, district = words.region(rng)
    scope_parts = rng.sample(words.BUSINESS_SCOPES, rng.randint(2, 4))
    scope = "一般项目：" + "；".join(scope_parts) + "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）。"
    term_end = "长期" if rng.random() < 0.5 else values.cn_date(founded.replace(year=founded.year + 30), date_style)
    return License(
        code=values.uscc(rng),
        name=words.company_name(rng),
        company_type=rng.choice(words.COMPANY_TYPES),
        representative=words.person_name(rng),
        capital=capital,
        founded_iso=values.iso(founded),
        founded_printed=values.cn_date(founded, date_style),
        term=f"{values.cn_date(founded, date_style)}至{term_end}",
        address=words.address(rng),
        scope=scope,
        authority=f"{city or province}{district}市场监督管理局",
        issued_printed=values.cn_date(issued, date_style),
    )


def _emblem(canvas: Canvas, cx: float, cy: float, r: float) -> None:
    """A plain red-and-gold roundel standing in for the national emblem."""
    canvas.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(200, 30, 30), outline=(210, 170, 60), width=6)
    canvas.draw.regular_polygon((cx, cy - r * 0.15, r * 0.45), 5, fill=(230, 190, 60))


def _qr(canvas: Canvas, x: float, y: float, size: int, rng: random.Random) -> None:
    cells = 25
    step = size / cells
    for r in range(cells):
        for c in range(cells):
            finder = (r < 7 and c < 7) or (r < 7 and c >= cells - 7) or (r >= cells - 7 and c < 7)
            # finder squares in three corners, random modules elsewhere
            ring = r % 6 == 0 or c % 6 == 0 or (2 <= r % 18 <= 4 and 2 <= c % 18 <= 4)
            on = ring if finder else rng.random() < 0.5
            if on:
                canvas.draw.rectangle(
                    (x + c * step, y + r * step, x + (c + 1) * step, y + (r + 1) * step), fill=(20, 20, 20)
                )


def _key_value_lines(
    canvas: Canvas,
    lic: License,
    face: fonts.Face,
    x: float,
    y: float,
    width: float,
    keys: list[str],
    size: int = 36,
    step: float = 76,
) -> float:
    font = fonts.load(face, size)
    key_width = canvas.text_width("法定代表人", font) + 40
    entries: dict[str, list[Run]] = {
        "名称": [run(lic.name, "名称")],
        "类型": [run(lic.company_type, "类型")],
        "法定代表人": [run(lic.representative, "法定代表人")],
        "注册资本": [run(lic.capital, "注册资本")],
        "成立日期": [run(lic.founded_printed, "成立日期", lic.founded_iso)],
        "营业期限": [run(lic.term)],
        "住所": [run(lic.address, "住所")],
        "经营范围": [run(lic.scope, "经营范围")],
    }
    for key in keys:
        canvas.text((x, y), "  ".join(key) if len(key) == 2 else key, font)
        if key == "经营范围":
            # The scope is long: wrap it and keep one box per printed line.
            y = _wrapped_field(canvas, lic.scope, "经营范围", font, x + key_width, y, width - key_width, step * 0.62)
            y += step * 0.4
            continue
        value_runs = entries[key]
        text = "".join(r.text for r in value_runs)
        value_font = canvas.fit_font(face, text, width - key_width, size)
        canvas.runs((x + key_width, y), value_runs, value_font)
        y += step
    return y


def _wrapped_field(
    canvas: Canvas,
    text: str,
    name: str,
    font: fonts.ImageFont.FreeTypeFont,
    x: float,
    y: float,
    width: float,
    line_height: float,
) -> float:
    line = ""
    lines: list[str] = []
    for ch in text:
        if canvas.text_width(line + ch, font) > width:
            lines.append(line)
            line = ""
        line += ch
    lines.append(line)
    for piece in lines:
        rect = canvas.text((x, y), piece, font)
        canvas.label(name, text, rect, printed=text)
        y += line_height
    return y


def _seal(canvas: Canvas, req: RenderRequest, lic: License, anchor: Rect) -> None:
    stamp_seal(canvas, req, lic.authority[:14], "", 260, anchor)


def render_portrait(req: RenderRequest) -> Canvas:
    """The portrait 副本: emblem, title, code top left, QR top right, one column of fields."""
    rng, book = req.rng, req.fonts
    lic = sample(rng)
    canvas = Canvas(1400, 1960, (253, 251, 246))
    red = (190, 40, 40)
    canvas.rect((40, 40, 1360, 1920), outline=red, width=8)
    _emblem(canvas, 700, 190, 90)
    canvas.text(
        (700, 310), "营 业 执 照", fonts.load(book.pick("serif_bold", rng), 96), fill=(20, 20, 20), align="center"
    )
    canvas.text((700, 440), "（副       本）", fonts.load(book.pick("serif", rng), 36), align="center")
    face = book.pick(rng.choice(["serif", "sans"]), rng)
    small = fonts.load(face, 30)
    canvas.runs((100, 180), [run("统一社会信用代码")], small)
    canvas.text((100, 225), lic.code, fonts.load(face, 34), name="统一社会信用代码")
    _qr(canvas, 1110, 150, 170, rng)
    y = _key_value_lines(
        canvas,
        lic,
        face,
        140,
        540,
        1120,
        ["名称", "类型", "法定代表人", "注册资本", "成立日期", "营业期限", "住所", "经营范围"],
    )
    sign = fonts.load(face, 36)
    authority_rect = canvas.text((1200, max(y + 80, 1680)), "登记机关", sign, align="right")
    date_rect = canvas.text((1200, max(y + 150, 1750)), lic.issued_printed, sign, align="right")
    _seal(canvas, req, lic, authority_rect if rng.random() < 0.5 else date_rect)
    return canvas


def render_landscape(req: RenderRequest) -> Canvas:
    """The landscape 正本 (2019 style): two columns of fields under the title."""
    rng, book = req.rng, req.fonts
    lic = sample(rng)
    canvas = Canvas(2000, 1400, (255, 253, 248))
    red = (180, 30, 30)
    canvas.rect((30, 30, 1970, 1370), outline=(200, 160, 70), width=14)
    canvas.rect((60, 60, 1940, 1340), outline=red, width=3)
    _emblem(canvas, 1000, 170, 80)
    canvas.text((1000, 270), "营业执照", fonts.load(book.pick("serif_bold", rng), 100), fill=red, align="center")
    face = book.pick(rng.choice(["serif", "sans"]), rng)
    canvas.runs((120, 120), [run("统一社会信用代码 ")], fonts.load(face, 30))
    canvas.text((120, 165), lic.code, fonts.load(face, 34), name="统一社会信用代码")
    _qr(canvas, 1720, 110, 160, rng)
    _key_value_lines(canvas, lic, face, 140, 470, 860, ["名称", "类型", "法定代表人", "经营范围"], size=32, step=72)
    _key_value_lines(canvas, lic, face, 1060, 470, 820, ["注册资本", "成立日期", "营业期限", "住所"], size=32, step=72)
    sign = fonts.load(face, 34)
    authority_rect = canvas.text((1780, 1160), "登记机关", sign, align="right")
    date_rect = canvas.text((1780, 1220), lic.issued_printed, sign, align="right")
    canvas.text(
        (1000, 1290), "国家企业信用信息公示系统网址：http://www.gsxt.gov.cn", fonts.load(face, 24), align="center"
    )
    _seal(canvas, req, lic, authority_rect if rng.random() < 0.5 else date_rect)
    return canvas


def render_photocopy(req: RenderRequest) -> Canvas:
    """A grey photocopy of the 副本 with a diagonal "仅供...使用" watermark, as companies hand it out."""
    canvas = render_portrait(req)
    rng = req.rng
    grey = ImageOps.grayscale(canvas.image)
    grey = ImageOps.autocontrast(grey, cutoff=1)
    purpose = rng.choice(["投标", "银行开户", "备案", "办理社保业务", "合同签订"])
    mark = f"仅供{purpose}使用，他用无效"
    layer = Image.new("L", (canvas.width * 2, canvas.height * 2), 0)
    draw = ImageDraw.Draw(layer)
    font = fonts.load(req.fonts.pick("sans", rng), 64)
    for row, y in enumerate(range(0, layer.height, 420)):
        draw.text(((row % 2) * 300, y), ("    ".join([mark] * 4)), font=font, fill=255)
    layer = layer.rotate(rng.uniform(25, 40), resample=Image.Resampling.BICUBIC)
    layer = layer.crop(
        (canvas.width // 2, canvas.height // 2, canvas.width // 2 + canvas.width, canvas.height // 2 + canvas.height)
    )
    ink = Image.new("L", grey.size, 90)
    grey = Image.composite(ink, grey, layer.point(lambda v: int(v * 0.35)))
    canvas.image = grey.convert("RGB")
    canvas.draw = ImageDraw.Draw(canvas.image)
    canvas.notes["watermark"] = mark
    return canvas


def render_registry(req: RenderRequest) -> Canvas:
    """A print-out of the public registry entry: a two-column key/value table, no seal."""
    rng, book = req.rng, req.fonts
    lic = sample(rng)
    canvas = Canvas(1400, 1600, (255, 255, 255))
    face = book.pick("sans", rng)
    canvas.text((700, 70), "企业信用信息公示报告", fonts.load(book.pick("sans_bold", rng), 56), align="center")
    canvas.text((700, 160), f"报告生成时间：{lic.issued_printed}", fonts.load(face, 26), align="center")
    font = fonts.load(face, 30)
    rows: list[tuple[str, list[Run]]] = [
        ("统一社会信用代码", [run(lic.code, "统一社会信用代码")]),
        ("企业名称", [run(lic.name, "名称")]),
        ("类型", [run(lic.company_type, "类型")]),
        ("法定代表人", [run(lic.representative, "法定代表人")]),
        ("注册资本", [run(lic.capital, "注册资本")]),
        ("成立日期", [run(lic.founded_printed, "成立日期", lic.founded_iso)]),
        ("营业期限", [run(lic.term)]),
        ("登记机关", [run(lic.authority)]),
        ("住所", [run(lic.address, "住所")]),
    ]
    x0, y = 80, 240
    cols = [320, 920]
    for key, value in rows:
        cells = canvas.grid(x0, y, cols, [80], (120, 120, 120), 2)[0]
        canvas.draw.rectangle(
            (cells[0][0] + 1, cells[0][1] + 1, cells[0][2] - 1, cells[0][3] - 1), fill=(240, 243, 248)
        )
        canvas.cell_text(cells[0], key, font)
        text = "".join(r.text for r in value)
        canvas.cell_text(cells[1], value, canvas.fit_font(face, text, cols[1] - 30, 30))
        y += 80
    canvas.grid(x0, y, cols, [300], (120, 120, 120), 2)
    canvas.draw.rectangle((x0 + 1, y + 1, x0 + cols[0] - 1, y + 299), fill=(240, 243, 248))
    canvas.text((x0 + 12, y + 20), "经营范围", font)
    _wrapped_field(canvas, lic.scope, "经营范围", fonts.load(face, 28), x0 + cols[0] + 12, y + 20, cols[1] - 30, 44)
    return canvas


KIND = DocKind(
    name="business_license",
    template="business_license",
    fields=FIELDS,
    languages=("zh",),
    renderers={
        "portrait": render_portrait,
        "landscape": render_landscape,
        "photocopy": render_photocopy,
        "registry": render_registry,
    },
    description="business licences (营业执照 副本/正本, watermarked photocopy, registry print-out)",
)

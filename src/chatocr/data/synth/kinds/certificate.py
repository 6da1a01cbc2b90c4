"""Award certificates (荣誉证书 / 获奖证书) for student competitions.

Label rules, as the certificate template states them:
- 级别: 省赛 when the printed text says 初赛 or 省, else 国赛 (computed from the whole
  rendered text, so the label always agrees with the rule).
- 等级: 一等奖/二等奖/三等奖/优秀奖 as printed without decoration (全国一等奖 -> 一等奖,
  省级二等奖 -> 二等奖); 获奖 when no prize level is printed.
- 指导老师姓名 and 证书编号 are missing on some certificates (then absent).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from chatocr.data.synth import fonts, stamp, values, words
from chatocr.data.synth.canvas import Canvas, Rect, Run, run
from chatocr.data.synth.kinds import DocKind, RenderRequest, cn_ordinal, seal_center

FIELDS = ("姓名", "比赛名称", "证书编号", "指导老师姓名", "级别", "等级", "证书日期", "比赛单位承办单位")
LEVELS = ("一等奖", "二等奖", "三等奖", "优秀奖")
RED = (178, 24, 30)
GOLD = (176, 128, 30)


@dataclass
class Award:
    name: str
    school: str
    competition: str  # as printed (the 比赛名称 label)
    stage: str  # printed stage wording ("（浙江省赛区）", "全国总决赛", ""), not part of the name
    level: str | None  # 一等奖..., None when no prize level is printed
    level_printed: str  # 全国一等奖, 省级二等奖, 一等奖 ...
    teacher: str | None
    number: str | None
    issuer: str
    date_iso: str
    date_printed: str
    title: str


def _subject(name: str) -> str:
    """数学建模竞赛 -> 数学建模, 化学实验邀请赛 -> 化学实验 (for committee names)."""
    for suffix in ("邀请赛", "竞赛", "大赛"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def sample(rng: random.Random) -> Award:
    competition, national_org = rng.choice(words.COMPETITIONS)
    year = rng.randint(2016, 2025)
    provincial = rng.random() < 0.5
    province = rng.choice(sorted(words.PROVINCES))
    prefix = rng.choice(["year", "edition", "both", "none"])
    if provincial and competition.startswith("全国大学生") and rng.random() < 0.4:
        competition = province + competition[2:]  # 浙江省大学生数学建模竞赛
        stage = rng.choice(["", "", "（初赛）"])
        issuer = rng.choice(
            [
                f"{province}教育厅",
                f"{province}高等学校{_subject(competition[len(province) + 3 :])}竞赛委员会",
                f"{competition}组委会",
            ]
        )
    elif provincial:
        stage = rng.choice([f"（{province}赛区）", f"{province}赛区", "（省赛）", "初赛", f"{province}赛区初赛"])
        issuer = rng.choice([f"{competition}{province}赛区组委会", f"{province}教育厅", f"{province}赛区组织委员会"])
    else:
        stage = rng.choice(["", "全国总决赛", "（国赛）", "全国决赛", "（本科组）"])
        issuer = national_org
    edition = f"第{cn_ordinal(rng.randint(3, 25))}届"
    printed_name = {
        "year": f"{year}年{competition}",
        "edition": edition + competition,
        "both": f"{year}年{edition}{competition}",
        "none": competition,
    }[prefix]
    level = rng.choice((*LEVELS, None))
    if level is None:
        level_printed = ""
    elif level == "优秀奖":
        level_printed = level
    elif provincial:
        level_printed = rng.choice([level, level, f"省级{level}", f"{province}{level}"])
    else:
        level_printed = rng.choice([level, f"全国{level}", f"国家级{level}"])
    number = None
    if rng.random() < 0.75:
        number = rng.choice(
            [
                f"{year}{rng.choice(['GS', 'SX', 'DS', 'JS', 'ZJ'])}{values.digits(rng, 6)}",
                f"No.{values.digits(rng, 8)}",
                f"CN{year}-{values.digits(rng, 5)}",
                f"{year}{values.digits(rng, 8)}",
            ]
        )
    teacher = None
    if rng.random() < 0.7:
        teacher = words.person_name(rng)
        if rng.random() < 0.15:
            teacher += "、" + words.person_name(rng)
    day = values.random_date(rng, year, year)
    date_style = rng.choices(["ymd", "hanzi", "ymd0"], weights=[5, 3, 2])[0]
    return Award(
        name=words.person_name(rng),
        school=rng.choice(words.UNIVERSITIES),
        competition=printed_name,
        stage=stage,
        level=level,
        level_printed=level_printed,
        teacher=teacher,
        number=number,
        issuer=issuer,
        date_iso=values.iso(day),
        date_printed=values.cn_date(day, date_style),
        title=rng.choice(["荣誉证书", "荣誉证书", "获奖证书", "证书"]),
    )


def _number_runs(award: Award) -> list[Run]:
    """A "No." printed before the number is part of the key, not of the value (values never carry keys)."""
    number = award.number or ""
    if number.startswith("No."):
        return [run("No."), run(number[3:], "证书编号")]
    return [run(number, "证书编号")]


def _level_runs(award: Award) -> list[Run]:
    if award.level is None:
        return []
    return [run(award.level_printed, "等级", award.level)]


def _body_runs(award: Award, rng: random.Random) -> list[Run]:
    runs = [run("在"), run(award.competition, "比赛名称"), run(award.stage), run("中，")]
    if award.level is None:
        runs.append(run(rng.choice(["表现优异，成绩突出，", "积极参赛，成绩优良，"])))
        runs.append(run("特发此证，以资鼓励。"))
        return runs
    if rng.random() < 0.5:
        runs.append(run("经评审，"))
    runs += [run("荣获"), *_level_runs(award), run("。"), run(rng.choice(["特发此证，以资鼓励。", "特发此证。", ""]))]
    return runs


def _finish(canvas: Canvas, award: Award, req: RenderRequest, issuer_rect: Rect, date_rect: Rect) -> None:
    """Labels that depend on the whole text, then the seal."""
    if award.level is None:
        canvas.label("等级", "获奖")
    text = canvas.full_text
    provincial = "初赛" in text or "省" in text
    evidence = next((t.rect for t in canvas.texts if "初赛" in t.text or "省" in t.text), None)
    canvas.label("级别", "省赛" if provincial else "国赛", evidence or canvas.fields["比赛名称"].boxes[0])
    if req.seal != "none":
        diameter = int(req.rng.uniform(230, 290))
        anchor = issuer_rect if req.rng.random() < 0.6 else date_rect
        seal_text = award.issuer.replace(" ", "")[:16]
        mask = stamp.seal_mask(seal_text, "", diameter, req.fonts.pick("sans", req.rng), req.rng)
        stamp.apply_seal(canvas.image, mask, seal_center(anchor, req.seal, req.rng, diameter))
        canvas.notes["seal"] = req.seal


def _border(canvas: Canvas, color: tuple[int, int, int], rng: random.Random) -> None:
    w, h = canvas.width, canvas.height
    outer = int(rng.uniform(40, 60))
    canvas.rect((outer, outer, w - outer, h - outer), outline=color, width=10)
    inner = outer + 22
    canvas.rect((inner, inner, w - inner, h - inner), outline=color, width=3)
    for cx, cy in [(inner, inner), (w - inner, inner), (inner, h - inner), (w - inner, h - inner)]:
        canvas.draw.regular_polygon((cx, cy, 22), 4, rotation=45, fill=color)


def render_classic(req: RenderRequest) -> Canvas:
    """Landscape, bordered, centred title, one body paragraph, issuer and date bottom right."""
    rng, book = req.rng, req.fonts
    award = sample(rng)
    canvas = Canvas(1754, 1240, rng.choice([(255, 255, 255), (253, 250, 240), (255, 252, 245)]))
    color = rng.choice([RED, GOLD])
    _border(canvas, color, rng)
    serif = book.pick("serif", rng)
    title_face = book.pick("serif_bold", rng)
    title_text = "  ".join(award.title) if len(award.title) <= 2 else award.title
    canvas.text((877, 150), title_text, fonts.load(title_face, 120), fill=color, align="center")
    if rng.random() < 0.5:
        canvas.text(
            (877, 300), "CERTIFICATE OF HONOR", fonts.load(book.pick("latin", rng), 34), fill=color, align="center"
        )
    small = fonts.load(serif, 30)
    if award.number:
        canvas.runs(
            (1560, 120),
            [run(rng.choice(["证书编号：", "编号："])), *_number_runs(award)],
            small,
            align="right",
        )
    body = fonts.load(serif, 46)
    x0, width = 230, 1754 - 460
    canvas.runs((x0, 390), [run(award.school + "  "), run(award.name, "姓名"), run(" 同学：")], body)
    y = canvas.paragraph((x0, 480), width, _body_runs(award, rng), body, line_height=84, indent=92)
    if award.teacher:
        canvas.runs((x0 + 92, y + 10), [run("指导老师："), run(award.teacher, "指导老师姓名")], body)
    sign = fonts.load(serif, 40)
    issuer_rect = canvas.text((1500, 960), award.issuer, sign, align="right", name="比赛单位承办单位")
    date_rect = canvas.text(
        (issuer_rect[0] + (issuer_rect[2] - issuer_rect[0]) / 2, 1030),
        award.date_printed,
        sign,
        align="center",
        name="证书日期",
        value=award.date_iso,
    )
    _finish(canvas, award, req, issuer_rect, date_rect)
    return canvas


def render_modern(req: RenderRequest) -> Canvas:
    """Portrait, coloured title band, left-aligned key/value lines."""
    rng, book = req.rng, req.fonts
    award = sample(rng)
    canvas = Canvas(1240, 1754)
    band = rng.choice([(24, 54, 110), (12, 100, 110), (120, 20, 40), (40, 40, 40)])
    canvas.rect((0, 0, 1240, 300), outline=band, width=1, fill=band)
    sans = book.pick("sans", rng)
    bold = book.pick("sans_bold", rng)
    canvas.text((110, 90), award.title, fonts.load(bold, 100), fill=(255, 255, 255))
    accent = (200, 160, 60)
    canvas.rect((110, 330, 300, 340), outline=accent, width=1, fill=accent)
    key_font = fonts.load(sans, 40)
    x0, y = 110, 420
    lines: list[list[Run]] = [[run("获奖学生："), run(award.name, "姓名")], [run("所在学校："), run(award.school)]]
    lines.append([run("竞赛名称："), run(award.competition, "比赛名称")])
    if award.stage:
        lines.append([run("竞赛阶段："), run(award.stage.strip("（）"))])
    if award.level:
        lines.append([run("获奖等级："), *_level_runs(award)])
    if award.teacher:
        lines.append([run("指导老师："), run(award.teacher, "指导老师姓名")])
    if award.number:
        lines.append([run("证书编号："), *_number_runs(award)])
    for line in lines:
        width = canvas.runs_width(line, key_font)
        font = key_font if width < 1020 else canvas.fit_font(sans, "".join(r.text for r in line), 1020, 40)
        canvas.runs((x0, y), line, font)
        y += 100
    y += 40
    closing = [run("特发此证，以资鼓励。")] if award.level else [run("表现优异，特发此证，以资鼓励。")]
    canvas.paragraph((x0, y), 1020, closing, key_font)
    sign = fonts.load(sans, 38)
    issuer_rect = canvas.text((1130, 1480), award.issuer, sign, align="right", name="比赛单位承办单位")
    date_rect = canvas.text(
        (1130, 1550), award.date_printed, sign, align="right", name="证书日期", value=award.date_iso
    )
    _finish(canvas, award, req, issuer_rect, date_rect)
    return canvas


def render_portrait(req: RenderRequest) -> Canvas:
    """Portrait 奖状 style: the student's name large on its own line, teacher and number bottom left."""
    rng, book = req.rng, req.fonts
    award = sample(rng)
    canvas = Canvas(1240, 1754, rng.choice([(255, 255, 255), (255, 251, 242)]))
    color = rng.choice([RED, GOLD])
    _border(canvas, color, rng)
    title = "奖    状" if rng.random() < 0.4 else "  ".join(award.title) if len(award.title) <= 2 else award.title
    canvas.text((620, 190), title, fonts.load(book.pick("serif_bold", rng), 130), fill=color, align="center")
    serif = book.pick("serif", rng)
    body = fonts.load(serif, 44)
    name_font = fonts.load(book.pick("kai", rng), 72)
    canvas.text((600, 460), award.name, name_font, align="right", name="姓名")
    # "同学" sits on the name's baseline although it is smaller
    canvas.text((620, 460 + name_font.getmetrics()[0] - body.getmetrics()[0]), "同学", body)
    canvas.text((620, 580), award.school, fonts.load(serif, 36), align="center")
    y = canvas.paragraph((170, 700), 900, _body_runs(award, rng), body, line_height=82, indent=88)
    small = fonts.load(serif, 34)
    y = max(y + 60, 1180)
    if award.teacher:
        canvas.runs((170, y), [run("指导老师："), run(award.teacher, "指导老师姓名")], small)
        y += 64
    if award.number:
        canvas.runs((170, y), [run("证书编号："), *_number_runs(award)], small)
    sign = fonts.load(serif, 40)
    issuer_rect = canvas.text(
        (1070, 1460),
        award.issuer,
        canvas.fit_font(serif, award.issuer, 760, 40),
        align="right",
        name="比赛单位承办单位",
    )
    date_rect = canvas.text(
        (1070, 1540), award.date_printed, sign, align="right", name="证书日期", value=award.date_iso
    )
    _finish(canvas, award, req, issuer_rect, date_rect)
    return canvas


def render_table(req: RenderRequest) -> Canvas:
    """Landscape form: title, then a ruled table of keys and values."""
    rng, book = req.rng, req.fonts
    award = sample(rng)
    canvas = Canvas(1754, 1240, (255, 255, 255))
    color = rng.choice([RED, (30, 30, 30), (20, 60, 120)])
    face = book.pick(rng.choice(["serif", "sans"]), rng)
    canvas.text((877, 90), award.title, fonts.load(book.pick("serif_bold", rng), 90), fill=color, align="center")
    key_font = fonts.load(face, 36)
    cols = [260, 520, 260, 514]
    rows = [110] * 5
    cells = canvas.grid(100, 260, cols, rows, color=(60, 60, 60), width=2)
    level_cell = [*_level_runs(award)] if award.level else []
    table: list[tuple[str, list[Run], str, list[Run]]] = [
        ("姓  名", [run(award.name, "姓名")], "学  校", [run(award.school)]),
        ("竞赛名称", [run(award.competition, "比赛名称")], "", []),
        (
            "赛区/阶段",
            [run(award.stage.strip("（）") or "—")],
            "获奖等级" if level_cell else "备  注",
            level_cell or [run("成绩优异")],
        ),
        (
            "指导老师",
            [run(award.teacher, "指导老师姓名")] if award.teacher else [],
            "证书编号",
            _number_runs(award) if award.number else [],
        ),
        (
            "颁发单位",
            [run(award.issuer, "比赛单位承办单位")],
            "颁发日期",
            [run(award.date_printed, "证书日期", award.date_iso)],
        ),
    ]
    issuer_rect: Rect = (0, 0, 0, 0)
    date_rect: Rect = (0, 0, 0, 0)
    for r, (k1, v1, k2, v2) in enumerate(table):
        canvas.cell_text(cells[r][0], k1, key_font, align="center")
        if r == 1:  # the competition name spans the rest of the row
            span = (cells[r][1][0], cells[r][1][1], cells[r][3][2], cells[r][3][3])
            canvas.draw.rectangle((span[0] + 2, span[1] + 2, span[2] - 2, span[3] - 2), fill=(255, 255, 255))
            font = canvas.fit_font(face, award.competition, span[2] - span[0] - 30, 36)
            canvas.cell_text(span, v1, font)
            continue
        value_font = canvas.fit_font(face, "".join(x.text for x in v1), cols[1] - 30, 36)
        rect1 = canvas.cell_text(cells[r][1], v1, value_font) if v1 else cells[r][1]
        canvas.cell_text(cells[r][2], k2, key_font, align="center")
        value_font2 = canvas.fit_font(face, "".join(x.text for x in v2), cols[3] - 30, 36)
        rect2 = canvas.cell_text(cells[r][3], v2, value_font2) if v2 else cells[r][3]
        if r == 4:
            issuer_rect, date_rect = rect1, rect2
    note = "特发此证，以资鼓励。" if award.level else "表现优异，特发此证，以资鼓励。"
    canvas.text((100, 860), note, key_font)
    _finish(canvas, award, req, issuer_rect, date_rect)
    return canvas


KIND = DocKind(
    name="certificate",
    template="certificate",
    fields=FIELDS,
    languages=("zh",),
    renderers={
        "classic": render_classic,
        "modern": render_modern,
        "portrait": render_portrait,
        "table": render_table,
    },
    description="student competition award certificates (荣誉证书/获奖证书)",
)

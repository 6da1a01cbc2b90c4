"""Chinese contracts, first page (合同首页): the parties, number, dates, amount, term and opening clauses.

Each page prints the contract's title, its 合同编号, the two parties (甲方 and 乙方, or 出租方 and
承租方 for a lease) with a 联系人 and a 联系电话 each, the 签订日期, the 合同金额, the term (有效期 or
合同期限) and a few clauses of body text that name the parties again, so the keys also occur in
prose; and some of the optional keys (签订地点, 大写 amount, 付款方式).  The label key is the printed
key: a party's rows are labelled under the party's name and the row's (甲方联系人, 承租方联系电话),
the way the table layout prints them.  This kind has no template; one or two optional keys a page
does not print are labelled absent.

Labels: the amount "1234.50", the 大写 amount, the term and the place as printed, the date
YYYY-MM-DD, names, numbers and phones as printed.

Layouts: ``title_block`` (a title, then "key：value" lines and the clauses), ``table`` (a ruled
table of the parties and terms above the clauses) and ``side_by_side`` (甲方 and 乙方 blocks next to
each other, the terms below; the held-out layout).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, Rect, run
from chatocr.data.synth.kinds import DocKind, Entry, RenderRequest, label_absent, stamp_seal

# (title, what it is about): the subject goes into the clauses
TITLES = [
    ("采购合同", "设备采购"),
    ("销售合同", "产品销售"),
    ("技术服务合同", "技术服务"),
    ("委托开发合同", "软件委托开发"),
    ("设备维修服务合同", "设备维修服务"),
    ("物业服务合同", "物业管理服务"),
    ("广告发布合同", "广告发布"),
]
LEASE = ("房屋租赁合同", "房屋租赁")
OPTIONAL: list[tuple[str, ...]] = [("签订地点", "签约地点"), ("合同金额（大写）", "大写金额"), ("付款方式", "支付方式")]
PAYMENTS = ["银行转账", "一次性付清", "分期付款", "按月支付", "按季度支付", "验收合格后付清"]


@dataclass
class Party:
    head: str  # 甲方, 出租方...
    name: Entry
    rows: list[Entry]  # 联系人, 联系电话 under the head's name


@dataclass
class Contract:
    title: str
    subject: str
    first: Party
    second: Party
    terms: list[Entry]  # 合同编号, 签订日期, 合同金额, 期限 and the printed optional keys
    unprinted: list[tuple[str, ...]]


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"1{rng.choice('3456789')}{values.digits(rng, 9)}"
    return f"0{rng.randint(10, 999)}-{rng.randint(2, 8)}{values.digits(rng, 7)}"


def _party(rng: random.Random, head: str, contact: str, phone: str, person: bool) -> Party:
    holder = words.person_name(rng) if person else words.company_name(rng)
    name, number = words.person_name(rng), _phone(rng)
    return Party(
        head,
        Entry(head, holder, holder),
        [Entry(f"{head}{contact}", name, name), Entry(f"{head}{phone}", number, number)],
    )


def _span(rng: random.Random, start: dt.date, months: int) -> str:
    end_year, end_month = divmod(start.month - 1 + months, 12)
    end = dt.date(start.year + end_year, end_month + 1, 1) - dt.timedelta(days=1)
    style = rng.choice(["ymd", "ymd0"])
    a, b = values.cn_date(start, style), values.cn_date(end, style)
    return rng.choice([f"{a}至{b}", f"{a}起至{b}止", f"自{a}起至{b}止", f"{a}—{b}"])


def sample(rng: random.Random) -> Contract:
    lease = rng.random() < 0.25
    title, subject = LEASE if lease else rng.choice(TITLES)
    heads = ("出租方", "承租方") if lease and rng.random() < 0.7 else ("甲方", "乙方")
    contact = rng.choice(["联系人", "联系人", "代表人"])
    phone = rng.choice(["联系电话", "电话"])
    first = _party(rng, heads[0], contact, phone, False)
    second = _party(rng, heads[1], contact, phone, lease and rng.random() < 0.5)
    day = values.random_date(rng, 2018, 2025)
    prefix = rng.choice(["HT", "CG", "JS", "FW", ""])
    number = rng.choice(
        [
            f"{prefix}{day.year}{values.digits(rng, 5)}",
            f"{prefix or 'HT'}-{day.year}-{values.digits(rng, 4)}",
            f"{day.strftime('%Y%m%d')}{values.digits(rng, 3)}",
        ]
    )
    amount = values.money(Decimal(rng.randint(20, 50_000) * 100))
    if rng.random() < 0.3:
        amount = values.money(Decimal(rng.randint(100_000, 99_999_999)) / 100)
    figures = values.amount_printed(amount, thousands=rng.random() < 0.7)
    amount_printed = rng.choice([f"¥{figures}", f"￥{figures}元", f"人民币{figures}元", f"{figures}元"])
    start = day + dt.timedelta(days=rng.randint(0, 40))
    span = _span(rng, start, rng.choice([6, 12, 12, 24, 36]))
    terms = [
        Entry(rng.choice(["合同编号", "合同编号", "合同号"]), number, number),
        Entry(
            rng.choice(["签订日期", "签约日期"]),
            values.cn_date(day, rng.choice(["ymd", "ymd0", "dash"])),
            values.iso(day),
        ),
        Entry(
            rng.choice(["合同金额", "合同总金额", "合同总价"] if not lease else ["租金总额", "合同金额"]),
            amount_printed,
            values.amount_label(amount),
        ),
        Entry(rng.choice(["租赁期限", "合同期限"] if lease else ["有效期", "合同期限", "合同有效期"]), span, span),
    ]
    skipped = rng.sample(OPTIONAL, rng.randint(1, 2))
    printed = [names for names in OPTIONAL if names not in skipped and rng.random() < 0.7]
    for names in printed:
        key = rng.choice(names)
        if names[0] == "签订地点":
            province, city, district = words.region(rng)
            text = f"{city or province}{district}"
        elif names[0] == "合同金额（大写）":
            text = values.rmb_upper(amount)
        else:
            text = rng.choice(PAYMENTS)
        terms.insert(2 if names[0] == "签订地点" else len(terms), Entry(key, text, text))
    unprinted = [names for names in OPTIONAL if names not in printed]
    return Contract(title, subject, first, second, terms, unprinted)


def clauses(contract: Contract, rng: random.Random) -> list[str]:
    """Opening clauses that name the parties, so their keys occur in running text as well."""
    a, b, subject = contract.first.head, contract.second.head, contract.subject
    sentences = [
        f"{a}与{b}本着平等互利的原则，根据《中华人民共和国民法典》及有关法律法规的规定，"
        f"经友好协商，就{subject}事宜达成如下协议，以资共同遵守。",
        f"第一条  {b}应按照本合同约定的时间、质量和标准完成{subject}，{a}应按约定及时验收并支付相应价款。",
        f"第二条  {a}有权对{b}的履约情况进行监督检查，{b}应予以配合；因{b}原因造成损失的，由{b}承担赔偿责任。",
        f"第三条  本合同一式两份，{a}、{b}各执一份，自双方签字盖章之日起生效，具有同等法律效力。",
        f"第四条  因本合同引起的争议，双方应协商解决；协商不成的，任何一方均可向{a}所在地人民法院提起诉讼。",
    ]
    return [sentences[0], *sentences[1 : 1 + rng.randint(1, 3)]]


def _seal(canvas: Canvas, req: RenderRequest, contract: Contract, anchor: Rect) -> None:
    stamp_seal(canvas, req, contract.first.name.printed[:16], "合同专用章", 200, anchor)


def _line(canvas: Canvas, face: fonts.Face, xy: tuple[float, float], entry: Entry, key: str, width: float) -> None:
    """One "key：value" line, shrunk to fit ``width``."""
    font = canvas.fit_font(face, f"{key}：{entry.printed}", width, 30)
    canvas.runs(xy, [run(f"{key}："), entry.value_run()], font)


def _body(canvas: Canvas, req: RenderRequest, contract: Contract, y: float, width: int) -> float:
    font = fonts.load(req.fonts.pick("serif", req.rng), 28)
    for text in clauses(contract, req.rng):
        y = canvas.paragraph((100, y), width - 200, [run(text)], font, indent=56) + 12
    return y


def _signatures(canvas: Canvas, req: RenderRequest, contract: Contract, y: float, width: int) -> float:
    font = fonts.load(req.fonts.pick("serif", req.rng), 28)
    canvas.text((100, y), f"{contract.first.head}（盖章）：", font)
    canvas.text((width / 2 + 40, y), f"{contract.second.head}（盖章）：", font)
    _seal(canvas, req, contract, (260, y - 20, 460, y + 60))
    return y + 100


def _title(canvas: Canvas, req: RenderRequest, contract: Contract, width: int) -> float:
    bold = req.fonts.pick(req.rng.choice(["serif_bold", "sans_bold"]), req.rng)
    spaced = " ".join(contract.title) if len(contract.title) <= 6 and req.rng.random() < 0.5 else contract.title
    canvas.text((width / 2, 70), spaced, fonts.load(bold, 60), align="center")
    return 190.0


def _open(req: RenderRequest, width: int) -> tuple[Contract, Canvas, float, fonts.Face]:
    """What every layout starts with: a contract, its page with the title drawn, the y below the title, and
    the face of the page's text."""
    contract = sample(req.rng)
    canvas = Canvas(width, 2400)
    y = _title(canvas, req, contract, width)
    return contract, canvas, y, req.fonts.pick(req.rng.choice(["serif", "sans"]), req.rng)


def _close(canvas: Canvas, req: RenderRequest, contract: Contract, y: float, width: int) -> Canvas:
    """What every layout ends with below ``y``: the clauses, the signatures, and the absent keys."""
    y = _body(canvas, req, contract, y, width)
    y = _signatures(canvas, req, contract, y + 40, width)
    canvas.crop_height(max(1400, int(y + 80)))
    return label_absent(canvas, req.rng, contract.unprinted)


def render_title_block(req: RenderRequest) -> Canvas:
    """A title, the number on the right, then "key：value" lines for parties and terms, then the clauses."""
    width = 1400
    contract, canvas, y, face = _open(req, width)
    number = contract.terms[0]
    font = fonts.load(face, 28)
    text_width = canvas.text_width(f"{number.key}：{number.printed}", font)
    canvas.runs((width - 100 - text_width, y), [run(f"{number.key}："), number.value_run()], font)
    y += 70
    for party in (contract.first, contract.second):
        _line(canvas, face, (100, y), party.name, party.head, width - 200)
        y += 50
        contact, phone = party.rows
        _line(canvas, face, (100 + 84, y), contact, contact.key[len(party.head) :], 420)
        _line(canvas, face, (720, y), phone, phone.key[len(party.head) :], 560)
        y += 64
    for entry in contract.terms[1:]:
        _line(canvas, face, (100, y), entry, entry.key, width - 200)
        y += 50
    y += 30
    return _close(canvas, req, contract, y, width)


def render_table(req: RenderRequest) -> Canvas:
    """A ruled table of the parties (each row under its full key) and the terms, then the clauses."""
    width = 1400
    contract, canvas, y, face = _open(req, width)
    entries = [
        contract.first.name,
        *contract.first.rows,
        contract.second.name,
        *contract.second.rows,
        *contract.terms,
    ]
    row_h = 66
    cells = canvas.grid(100, y, [300, 900], [row_h] * len(entries), (60, 60, 60), 2)
    for (key_cell, value_cell), entry in zip(cells, entries, strict=True):
        canvas.draw.rectangle(
            (key_cell[0] + 1, key_cell[1] + 1, key_cell[2] - 1, key_cell[3] - 1), fill=(242, 242, 242)
        )
        canvas.cell_text(key_cell, entry.key, canvas.fit_font(face, entry.key, 270, 28), align="center")
        canvas.cell_text(value_cell, [entry.value_run()], canvas.fit_font(face, entry.printed, 870, 28))
    y += row_h * len(entries) + 50
    return _close(canvas, req, contract, y, width)


def render_side_by_side(req: RenderRequest) -> Canvas:
    """The two parties' blocks next to each other, then the terms two to a line, then the clauses."""
    width = 1500
    contract, canvas, y, face = _open(req, width)
    number = contract.terms[0]
    _line(canvas, face, (100, y), number, number.key, 800)
    y += 70
    column = (width - 260) / 2
    top = y
    for i, party in enumerate((contract.first, contract.second)):
        x = 100 + i * (column + 60)
        canvas.rect((x - 16, top - 16, x + column + 16, top + 196), outline=(150, 150, 150), width=2)
        by = top
        _line(canvas, face, (x, by), party.name, party.head, column)
        by += 64
        for entry in party.rows:
            _line(canvas, face, (x, by), entry, entry.key[len(party.head) :], column)
            by += 56
    y = top + 240
    half = False  # a short term waits on the left half of its line for a second one
    for entry in contract.terms[1:]:
        if len(entry.key) + len(entry.printed) > 18:
            y += 54 if half else 0
            _line(canvas, face, (100, y), entry, entry.key, width - 200)
            y, half = y + 54, False
        elif half:
            _line(canvas, face, (100 + column + 60, y), entry, entry.key, column)
            y, half = y + 54, False
        else:
            _line(canvas, face, (100, y), entry, entry.key, column)
            half = True
    y += 54 if half else 0
    y += 30
    return _close(canvas, req, contract, y, width)


KIND = DocKind(
    name="contract",
    template="",  # an open set: each page's own printed keys are its fields
    fields=(),
    languages=("zh",),
    renderers={
        "title_block": render_title_block,
        "table": render_table,
        "side_by_side": render_side_by_side,
    },
    description="Chinese contract first pages (key-value lines, ruled table, parties side by side)",
)

"""Chinese bank transfer receipts (电子回单 / 业务回单): payer and payee blocks, amount, date and serial.

Each slip prints a 付款人 block and a 收款人 block (户名, 账号, 开户行), the amount in figures and in
words (大写), the transaction date, a serial number and the purpose, and some of the optional keys
(币种, 手续费, 回单编号, 交易渠道).  The label key is the printed key: a block's rows are labelled
under the block's name and the row's (付款人户名, 收款方账号, ...), the way the voucher layout
prints them.  Names vary from slip to slip (付款人 or 付款方, 开户行 or 开户银行, 用途 or 摘要...).
This kind has no template; one or two optional keys a slip does not print are labelled absent.

Labels: the amount "1234.50", the 大写 amount as printed without its 人民币 prefix, the date
YYYY-MM-DD, names, accounts, banks and serials as printed.

Layouts: ``ledger`` (a ruled table with the two blocks side by side under vertical block names),
``stacked`` (a two-column table, payer rows then payee rows) and ``mobile`` (a phone-banking
receipt: the amount large at the top, then ruled "key ... value" rows; the held-out layout).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from decimal import Decimal

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, Rect, Run, run
from chatocr.data.synth.kinds import DocKind, Entry, RenderRequest, label_absent, stamp_seal

BANKS = [
    "中国工商银行",
    "中国建设银行",
    "中国农业银行",
    "中国银行",
    "交通银行",
    "招商银行",
    "中信银行",
    "兴业银行",
    "浦发银行",
    "中国民生银行",
    "平安银行",
    "杭州银行",
]
PURPOSES = ["货款", "工资", "技术服务费", "往来款", "报销款", "房租", "咨询费", "材料款", "工程款", "还款", "保证金"]
OPTIONAL: list[tuple[str, ...]] = [("币种",), ("手续费",), ("回单编号", "回单号"), ("交易渠道", "渠道")]
LINE = (70, 70, 70)
AMOUNT, UPPER, DATE = 0, 1, 2  # where the slip's entries hold them


@dataclass
class Party:
    head: str  # 付款人, 收款方...
    rows: list[Entry]  # 户名, 账号, 开户行 under the head's name


@dataclass
class Slip:
    bank: str
    title: str
    payer: Party
    payee: Party
    entries: list[Entry]  # amount, 大写, date, serial, purpose and the printed optional keys
    upper_prefix: str  # 人民币, printed before the 大写 amount (not part of its label)
    time: str
    unprinted: list[tuple[str, ...]]


def _branch(rng: random.Random, bank: str) -> str:
    province, city, district = words.region(rng)
    place = (city or province)[:-1]
    if rng.random() < 0.3:
        return f"{bank}{place}分行"
    area = district[:-1] if len(district) == 3 and district.endswith("区") else district
    return f"{bank}{place}{area}支行"


def _account(rng: random.Random, personal: bool) -> str:
    if personal:
        return "62" + values.digits(rng, rng.choice([14, 17]))
    return str(rng.randint(1, 9)) + values.digits(rng, rng.choice([11, 14, 16, 18]))


def _party(rng: random.Random, head: str, names: tuple[str, str, str], bank: str) -> Party:
    personal = rng.random() < 0.3
    holder = words.person_name(rng) if personal else words.company_name(rng)
    account = _account(rng, personal)
    branch = _branch(rng, bank)
    printed = (holder, account, branch)
    return Party(head, [Entry(f"{head}{name}", text, text) for name, text in zip(names, printed, strict=True)])


def sample(rng: random.Random) -> Slip:
    bank = rng.choice(BANKS)
    row_names = (
        rng.choice(["户名", "全称", "名称"]),
        rng.choice(["账号", "账号", "卡号"]),
        rng.choice(["开户行", "开户银行", "开户机构"]),
    )
    payer_head, payee_head = rng.choice([("付款人", "收款人"), ("付款方", "收款方"), ("汇款人", "收款人")])
    payer = _party(rng, payer_head, row_names, bank)
    payee = _party(rng, payee_head, row_names, bank if rng.random() < 0.3 else rng.choice(BANKS))
    amount = values.money(Decimal(rng.choice([rng.randint(100, 99_999), rng.randint(10_000, 50_000_000)])) / 100)
    if rng.random() < 0.4:
        amount = values.money(Decimal(rng.randint(1, 5000) * 100))
    figures = values.amount_printed(amount, thousands=rng.random() < 0.7)
    day = values.random_date(rng, 2018, 2025)
    serial = rng.choice(
        [
            day.strftime("%Y%m%d") + values.digits(rng, rng.choice([10, 12])),
            "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + values.digits(rng, 16),
            values.digits(rng, 20),
        ]
    )
    upper = values.rmb_upper(amount)
    purpose = rng.choice(PURPOSES)
    entries = [
        Entry(
            rng.choice(["金额", "交易金额", "金额（小写）", "小写金额"]),
            rng.choice(["¥", "￥", "CNY", ""]) + figures,
            values.amount_label(amount),
        ),
        Entry(rng.choice(["大写金额", "金额（大写）", "人民币（大写）"]), upper, upper),
        Entry(
            rng.choice(["交易日期", "记账日期", "日期"]),
            values.cn_date(day, rng.choice(["dash", "ymd0", "ymd", "slash"])),
            values.iso(day),
        ),
        Entry(rng.choice(["流水号", "交易流水号", "业务流水号"]), serial, serial),
        Entry(rng.choice(["用途", "摘要", "附言"]), purpose, purpose),
    ]
    skipped = rng.sample(OPTIONAL, rng.randint(1, 2))
    printed = [names for names in OPTIONAL if names not in skipped and rng.random() < 0.6]
    for names in printed:
        key = rng.choice(names)
        if key == "币种":
            currency = rng.choice(["人民币", "人民币元", "CNY"])
            entries.append(Entry(key, currency, currency))
        elif key == "手续费":
            fee = values.money(Decimal(rng.choice([0, 0, 200, 500, 1000, 1500])) / 100)
            entries.append(Entry(key, values.amount_printed(fee), values.amount_label(fee)))
        elif names[0] == "回单编号":
            number = values.digits(rng, rng.choice([10, 12, 16]))
            entries.append(Entry(key, number, number))
        else:
            channel = rng.choice(["网上银行", "手机银行", "柜面", "企业网银", "银企直联"])
            entries.append(Entry(key, channel, channel))
    title = rng.choice(["电子回单", "业务回单", "转账回单", "电子回单（付款）", "客户回单"])
    time = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    unprinted = [names for names in OPTIONAL if names not in printed]
    return Slip(bank, title, payer, payee, entries, rng.choice(["", "人民币"]), time, unprinted)


def _value_runs(slip: Slip, entry: Entry) -> list[Run]:
    """The value as printed: the 大写 amount may follow 人民币, which its label leaves out."""
    if slip.upper_prefix and entry is slip.entries[UPPER]:
        return [run(slip.upper_prefix), entry.value_run()]
    return [entry.value_run()]


def _printed_text(slip: Slip, entry: Entry) -> str:
    return "".join(r.text for r in _value_runs(slip, entry))


def _seal(canvas: Canvas, req: RenderRequest, slip: Slip, anchor: Rect) -> None:
    stamp_seal(canvas, req, slip.bank, "电子回单专用章", 220, anchor)


def _title(canvas: Canvas, req: RenderRequest, slip: Slip, width: int) -> None:
    bold = req.fonts.pick("sans_bold", req.rng)
    canvas.text((width / 2, 50), f"{slip.bank}  {slip.title}", fonts.load(bold, 50), align="center")


def _vertical(canvas: Canvas, cell: Rect, text: str, font: fonts.ImageFont.FreeTypeFont) -> None:
    """A block name stacked top to bottom in its narrow cell."""
    step = (cell[3] - cell[1]) / (len(text) + 1)
    for i, ch in enumerate(text):
        canvas.text(((cell[0] + cell[2]) / 2, cell[1] + step * (i + 1) - font.size / 2), ch, font, align="center")


def render_ledger(req: RenderRequest) -> Canvas:
    """The two blocks side by side under vertical block names, then key/value pairs two per row."""
    rng = req.rng
    slip = sample(rng)
    canvas = Canvas(1700, 1300)
    _title(canvas, req, slip, 1700)
    face = req.fonts.pick("sans", rng)
    small = fonts.load(face, 26)
    canvas.text((60, 130), f"打印日期：{slip.entries[DATE].printed}", small)
    canvas.text((1640, 130), f"打印时间：{slip.time}", small, align="right")
    x0, y = 40.0, 180.0
    row_h = 84
    key_font = fonts.load(face, 28)
    for block, party in enumerate((slip.payer, slip.payee)):
        left = x0 + block * 810
        canvas.rect((left, y, left + 70, y + 3 * row_h), outline=LINE, width=2)
        _vertical(canvas, (left, y, left + 70, y + 3 * row_h), party.head, key_font)
        cells = canvas.grid(left + 70, y, [170, 570], [row_h] * 3, LINE, 2)
        for (key_cell, value_cell), entry in zip(cells, party.rows, strict=True):
            canvas.cell_text(key_cell, entry.key[len(party.head) :], key_font, align="center")
            canvas.cell_text(value_cell, [entry.value_run()], canvas.fit_font(face, entry.printed, 546, 30))
    y += 3 * row_h
    rows = (len(slip.entries) + 1) // 2
    cells = canvas.grid(x0, y, [240, 570, 240, 570], [row_h] * rows, LINE, 2)
    for i, entry in enumerate(slip.entries):
        r, c = divmod(i, 2)
        canvas.cell_text(cells[r][2 * c], entry.key, canvas.fit_font(face, entry.key, 216, 28), align="center")
        text = _printed_text(slip, entry)
        canvas.cell_text(cells[r][2 * c + 1], _value_runs(slip, entry), canvas.fit_font(face, text, 546, 30))
    y += rows * row_h + 40
    canvas.text((60, y), "本回单可通过网上银行验证真伪，重复打印无效。", small, fill=(90, 90, 90))
    anchor = canvas.fields[slip.entries[AMOUNT].key].boxes[0] if req.seal == "over" else (1300, y - 120, 1500, y - 40)
    _seal(canvas, req, slip, anchor)
    canvas.crop_height(max(800, int(y + 120)))
    return label_absent(canvas, rng, slip.unprinted)


def render_stacked(req: RenderRequest) -> Canvas:
    """A two-column table: the payer's rows, the payee's rows, then the other keys."""
    rng = req.rng
    slip = sample(rng)
    canvas = Canvas(1400, 1700)
    _title(canvas, req, slip, 1400)
    face = req.fonts.pick(rng.choice(["sans", "serif"]), rng)
    small = fonts.load(face, 26)
    y = 140.0
    canvas.text((80, y), f"打印时间：{slip.entries[DATE].printed} {slip.time}", small)
    y += 60
    entries = slip.payer.rows + slip.payee.rows + slip.entries
    row_h = 72
    cells = canvas.grid(80, y, [330, 910], [row_h] * len(entries), LINE, 2)
    for (key_cell, value_cell), entry in zip(cells, entries, strict=True):
        canvas.draw.rectangle(
            (key_cell[0] + 1, key_cell[1] + 1, key_cell[2] - 1, key_cell[3] - 1), fill=(240, 244, 248)
        )
        canvas.cell_text(key_cell, entry.key, canvas.fit_font(face, entry.key, 300, 30))
        text = _printed_text(slip, entry)
        canvas.cell_text(value_cell, _value_runs(slip, entry), canvas.fit_font(face, text, 880, 30))
    y += row_h * len(entries) + 40
    canvas.text((80, y), f"经办：{words.person_name(rng)}    复核：{words.person_name(rng)}", small)
    _seal(canvas, req, slip, (1050, y - 60, 1250, y + 30))
    canvas.crop_height(max(1000, int(y + 140)))
    return label_absent(canvas, rng, slip.unprinted)


def render_mobile(req: RenderRequest) -> Canvas:
    """A phone-banking receipt: the amount large under its key, then ruled "key ... value" rows."""
    rng = req.rng
    slip = sample(rng)
    width = 1100
    canvas = Canvas(width, 2000)
    face = req.fonts.pick("sans", rng)
    canvas.text((width / 2, 50), slip.bank, fonts.load(req.fonts.pick("sans_bold", rng), 44), align="center")
    canvas.text((width / 2, 120), slip.title, fonts.load(face, 34), fill=(90, 90, 90), align="center")
    amount = slip.entries[AMOUNT]
    canvas.text((width / 2, 200), amount.key, fonts.load(face, 30), fill=(120, 120, 120), align="center")
    canvas.runs(
        (width / 2, 250), [amount.value_run()], fonts.load(req.fonts.pick("sans_bold", rng), 64), align="center"
    )
    y = 370.0
    font = fonts.load(face, 30)
    for entry in [*slip.entries[1:], *slip.payer.rows, *slip.payee.rows]:
        canvas.line([(60, y), (width - 60, y)], fill=(200, 200, 200), width=2)
        canvas.text((70, y + 22), entry.key, font, fill=(110, 110, 110))
        text = _printed_text(slip, entry)
        canvas.runs((width - 70, y + 22), _value_runs(slip, entry), canvas.fit_font(face, text, 700, 30), align="right")
        y += 80
    canvas.line([(60, y), (width - 60, y)], fill=(200, 200, 200), width=2)
    y += 40
    canvas.text(
        (70, y), "温馨提示：本回单仅证明交易已受理，以实际入账为准。", fonts.load(face, 24), fill=(130, 130, 130)
    )
    _seal(canvas, req, slip, canvas.fields[amount.key].boxes[0] if req.seal == "over" else (760, y - 140, 900, y - 60))
    canvas.crop_height(max(1000, int(y + 120)))
    return label_absent(canvas, rng, slip.unprinted)


KIND = DocKind(
    name="bank_slip",
    template="",  # an open set: each slip's own printed keys are its fields
    fields=(),
    languages=("zh",),
    renderers={
        "ledger": render_ledger,
        "stacked": render_stacked,
        "mobile": render_mobile,
    },
    description="Chinese bank transfer receipts (side-by-side blocks, stacked table, phone-banking receipt)",
)

"""Generic key-value forms whose keys are drawn at random: an open set of fields.

Each document prints 6-14 keys chosen from a vocabulary of everyday form keys (Chinese or
English), each with a value of its kind (a name, a date, a phone number, an ID, an amount, an
address...).  Some printed keys are left blank and some keys are not printed at all: both are
labelled absent.  The label key is the printed key itself, as a user asks for it.  This kind has
no template: training asks each document its own keys, so field names vary from document to
document, as on real forms.

Layouts: ``inline`` ("key：value" lines in one or two columns), ``grid`` (a table of key cells
and value cells), ``stacked`` (each key printed over its value) and ``header_row`` (a table whose
first row holds the keys and the second the values; the held-out layout).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from decimal import Decimal

from chatocr.data.synth import fonts, values, words
from chatocr.data.synth.canvas import Canvas, run
from chatocr.data.synth.kinds import DocKind, RenderRequest

MIN_HEIGHT = 800  # pages are at least this tall (a scan of a form, not a strip)
ValueMaker = Callable[[random.Random, str], tuple[str, str]]  # (printed, label)


def _name(rng: random.Random, lang: str) -> tuple[str, str]:
    name = words.person_name(rng) if lang == "zh" else f"{rng.choice(_EN_FIRST)} {rng.choice(_EN_LAST)}"
    return name, name


def _date(rng: random.Random, lang: str) -> tuple[str, str]:
    day = values.random_date(rng, 1960, 2026)
    style = rng.choice(["ymd", "ymd0", "dash", "slash"]) if lang == "zh" else rng.choice(["dmy", "dmon", "ymd"])
    printed = values.cn_date(day, style) if lang == "zh" else values.en_date(day, style)
    return printed, values.iso(day)


def _phone(rng: random.Random, lang: str) -> tuple[str, str]:
    number = (
        f"1{rng.choice('3578')}{values.digits(rng, 9)}"
        if rng.random() < 0.6
        else f"0{rng.randint(10, 999)}-{values.digits(rng, 8)}"
    )
    return number, number


def _id(rng: random.Random, lang: str) -> tuple[str, str]:
    code = values.resident_id(rng)
    return code, code


def _company(rng: random.Random, lang: str) -> tuple[str, str]:
    name = words.company_name(rng) if lang == "zh" else f"{rng.choice(_EN_LAST)} {rng.choice(_EN_COMPANY)}"
    return name, name


def _address(rng: random.Random, lang: str) -> tuple[str, str]:
    if lang == "zh":
        text = words.address(rng)
    else:
        text = f"{rng.randint(1, 999)} {rng.choice(_EN_STREETS)}, {rng.choice(_EN_CITIES)}"
    return text, text


def _amount(rng: random.Random, lang: str) -> tuple[str, str]:
    value = values.money(Decimal(rng.randint(100, 5_000_000)) / 100)
    printed = values.amount_printed(value, thousands=rng.random() < 0.4)
    prefix = rng.choice(["", "¥", "￥"]) if lang == "zh" else rng.choice(["", "$", "USD "])
    return prefix + printed, values.amount_label(value)


def _code(rng: random.Random, lang: str) -> tuple[str, str]:
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(0, 3)))
    code = f"{letters}{'-' if letters and rng.random() < 0.5 else ''}{values.digits(rng, rng.randint(5, 12))}"
    return code, code


def _number(rng: random.Random, lang: str) -> tuple[str, str]:
    n = str(rng.randint(1, 120))
    return n, n


def _email(rng: random.Random, lang: str) -> tuple[str, str]:
    user = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9))) + values.digits(rng, 2)
    mail = f"{user}@{rng.choice(['163.com', 'qq.com', 'example.com', 'mail.cn'])}"
    return mail, mail


def _choice(options_zh: list[str], options_en: list[str]) -> ValueMaker:
    def make(rng: random.Random, lang: str) -> tuple[str, str]:
        text = rng.choice(options_zh if lang == "zh" else options_en)
        return text, text

    return make


_EN_FIRST = ["James", "Mary", "Wei", "Anna", "Rahul", "Siti", "David", "Laura", "Kenji", "Olga", "Peter", "Fatima"]
_EN_LAST = ["Smith", "Chen", "Garcia", "Tan", "Kumar", "Brown", "Nakamura", "Lee", "Müller", "Wilson", "Ahmad"]
_EN_COMPANY = ["Holdings Ltd", "Trading Co.", "Logistics Inc.", "Engineering LLC", "Foods Sdn Bhd", "Partners"]
_EN_STREETS = ["Harbour Road", "Maple Avenue", "Jalan Ampang", "King Street", "Orchard Road", "Elm Drive"]
_EN_CITIES = ["Singapore", "Kuala Lumpur", "Boston, MA 02110", "Leeds LS1 4AP", "Auckland 1010", "Perth WA 6000"]

_GENDER = _choice(["男", "女"], ["Male", "Female"])
_EDU = _choice(["本科", "硕士研究生", "大专", "博士", "高中"], ["Bachelor", "Master", "Diploma", "PhD"])
_DEPT = _choice(
    ["财务部", "人力资源部", "市场部", "技术研发中心", "行政办公室"], ["Finance", "Sales", "R&D", "Operations"]
)
_TITLE = _choice(["经理", "工程师", "会计", "主任", "销售代表"], ["Manager", "Engineer", "Accountant", "Clerk"])
_PURPOSE = _choice(["差旅报销", "设备采购", "办公用品", "培训费用"], ["Travel", "Equipment purchase", "Training"])

# (Chinese keys, English keys, value maker): every key of a row shares the value's kind.
VOCABULARY: list[tuple[tuple[str, ...], tuple[str, ...], ValueMaker]] = [
    (("申请人", "联系人", "经办人", "负责人姓名", "收款人", "法定代表人", "监护人姓名"),
     ("Applicant Name", "Contact Person", "Payee", "Authorised By", "Full Name", "Guardian"), _name),
    (("出生日期", "申请日期", "签发日期", "有效期至", "入职日期", "填表日期", "交货日期"),
     ("Date of Birth", "Issue Date", "Expiry Date", "Start Date", "Date Signed", "Due Date"), _date),
    (("联系电话", "手机号码", "办公电话", "紧急联系电话", "传真"),
     ("Phone", "Mobile No.", "Office Tel", "Emergency Contact No.", "Fax"), _phone),
    (("身份证号码", "证件号码", "公民身份号码"), ("ID Number", "Passport No."), _id),
    (("工作单位", "单位名称", "公司名称", "供应商名称", "开户名称"),
     ("Employer", "Company Name", "Supplier", "Account Name"), _company),
    (("通讯地址", "家庭住址", "注册地址", "收货地址"),
     ("Mailing Address", "Home Address", "Delivery Address"), _address),
    (("申请金额", "合同金额", "费用合计", "报销金额", "应付金额"),
     ("Amount Due", "Contract Value", "Total Amount", "Claim Amount"), _amount),
    (("合同编号", "订单号", "项目编号", "档案号", "银行账号", "保单号"),
     ("Order No.", "Reference No.", "Account Number", "Policy Number", "Case ID"), _code),
    (("年龄", "数量", "工作年限"), ("Age", "Quantity", "Years of Service"), _number),
    (("电子邮箱",), ("Email",), _email),
    (("性别",), ("Gender",), _GENDER),
    (("学历",), ("Education",), _EDU),
    (("部门", "所属部门"), ("Department",), _DEPT),
    (("职务", "岗位"), ("Position",), _TITLE),
    (("用途", "事由"), ("Purpose",), _PURPOSE),
]  # fmt: skip

_TITLES_ZH = ["信息登记表", "申请表", "报销单", "客户资料表", "入职登记表", "采购申请单"]
_TITLES_EN = ["Application Form", "Customer Information", "Expense Claim", "Registration Form", "Order Form"]


def _pick_fields(rng: random.Random, lang: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(key, printed value, label) for the printed keys (an empty value: blank on the form), and
    keys of the vocabulary that are not printed at all."""
    rows = rng.sample(VOCABULARY, rng.randint(6, min(12, len(VOCABULARY))))
    printed: list[tuple[str, str, str]] = []
    for zh_keys, en_keys, make in rows:
        key = rng.choice(zh_keys if lang == "zh" else en_keys)
        if rng.random() < 0.12:
            printed.append((key, "", ""))  # printed, left blank
        else:
            text, label = make(rng, lang)
            printed.append((key, text, label))
    used = {key for key, _, _ in printed}
    spare = [k for zh_keys, en_keys, _ in VOCABULARY for k in (zh_keys if lang == "zh" else en_keys) if k not in used]
    return printed, rng.sample(spare, 2)


def _start(req: RenderRequest, width: int, height: int) -> tuple[Canvas, fonts.Face, float]:
    canvas = Canvas(width, height)
    face = req.fonts.pick("sans" if req.lang == "zh" else "latin", req.rng)
    title = req.rng.choice(_TITLES_ZH if req.lang == "zh" else _TITLES_EN)
    bold = req.fonts.pick("sans_bold" if req.lang == "zh" else "latin_bold", req.rng)
    canvas.text((width / 2, 50), title, fonts.load(bold, 52), align="center")
    return canvas, face, 150.0


def _finish(canvas: Canvas, printed: list[tuple[str, str, str]], unprinted: list[str]) -> Canvas:
    for key, _, label in printed:
        if not label:
            canvas.label(key, "")  # blank on the form: absent
    for key in unprinted:
        canvas.label(key, "")
    return canvas


def render_inline(req: RenderRequest) -> Canvas:
    """ "key：value" lines, in one or two columns."""
    rng = req.rng
    printed, unprinted = _pick_fields(rng, req.lang)
    canvas, face, y = _start(req, 1700, 1400)
    font = fonts.load(face, rng.choice([30, 34, 38]))
    colon = "：" if req.lang == "zh" and rng.random() < 0.7 else ": "
    columns = 2 if rng.random() < 0.5 else 1
    for i, (key, text, label) in enumerate(printed):
        x = 100 + (i % columns) * 800
        runs = [run(f"{key}{colon}")]
        runs.append(run(text, key, label) if label else run(" " * 6))
        canvas.runs((x, y), runs, font)
        if i % columns == columns - 1:
            y += font.size * 2
    canvas.crop_height(max(MIN_HEIGHT, int(y + 160)))
    return _finish(canvas, printed, unprinted)


def render_grid(req: RenderRequest) -> Canvas:
    """A ruled table: key cell, value cell, two pairs per row."""
    rng = req.rng
    printed, unprinted = _pick_fields(rng, req.lang)
    canvas, face, y = _start(req, 1800, 1400)
    rows = (len(printed) + 1) // 2
    cells = canvas.grid(80, y, [280, 540, 280, 540], [90] * rows, (60, 60, 60))
    for i, (key, text, label) in enumerate(printed):
        r, c = divmod(i, 2)
        canvas.cell_text(cells[r][2 * c], key, canvas.fit_font(face, key, 256, 30))
        if label:
            canvas.cell_text(cells[r][2 * c + 1], [run(text, key, label)], canvas.fit_font(face, text, 516, 30))
    canvas.crop_height(max(MIN_HEIGHT, int(y + 90 * rows + 150)))
    return _finish(canvas, printed, unprinted)


def render_stacked(req: RenderRequest) -> Canvas:
    """Each key printed small, its value under it; two columns."""
    rng = req.rng
    printed, unprinted = _pick_fields(rng, req.lang)
    canvas, face, y = _start(req, 1700, 1800)
    small = fonts.load(face, 26)
    for i, (key, text, label) in enumerate(printed):
        x = 100 + (i % 2) * 800
        canvas.text((x, y), key, small, fill=(90, 90, 90))
        if label:
            canvas.runs((x, y + 40), [run(text, key, label)], canvas.fit_font(face, text, 740, 36))
        if i % 2 == 1:
            y += 130
    canvas.crop_height(max(MIN_HEIGHT, int(y + 200)))
    return _finish(canvas, printed, unprinted)


def render_header_row(req: RenderRequest) -> Canvas:
    """A table whose first row holds the keys and whose second row holds the values."""
    rng = req.rng
    printed, unprinted = _pick_fields(rng, req.lang)
    printed = printed[:6]
    canvas, face, y = _start(req, 2000, 900)
    width = 1840 / len(printed)
    cells = canvas.grid(80, y, [width] * len(printed), [80, 110], (60, 60, 60))
    for c, (key, text, label) in enumerate(printed):
        canvas.cell_text(cells[0][c], key, canvas.fit_font(face, key, width - 24, 28), align="center")
        if label:
            canvas.cell_text(
                cells[1][c], [run(text, key, label)], canvas.fit_font(face, text, width - 24, 30), align="center"
            )
    canvas.crop_height(max(MIN_HEIGHT, int(y + 340)))
    return _finish(canvas, printed, unprinted)


KIND = DocKind(
    name="kv_form",
    template="",  # an open set: each document's own printed keys are its fields
    fields=(),
    languages=("zh", "en"),
    renderers={
        "inline": render_inline,
        "grid": render_grid,
        "stacked": render_stacked,
        "header_row": render_header_row,
    },
    description="generic key-value forms with random keys (an open set of fields)",
)

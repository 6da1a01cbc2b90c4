"""Built-in knowledge about common field names (zh and en).

A plain field list such as ``"发票号码,开票日期,total"`` carries only names; this
lexicon turns each name into a sensible type, printed-key aliases and a ``kind``
that selects the candidate generators (dates, amounts, codes, company names...),
whether its value wraps over lines (``multiline``) and the document part it sits in
(``section``, from :data:`SECTIONS`). Unknown names fall back to inference from name
fragments ("...日期" is a date, "...金额" an amount, "...号码" a code).

It also holds the printed-key vocabulary the readers share: :data:`PRINTED_KEYS` (a line
that is one of them is a key, not a value) and :data:`DATE_KEYS` (keys of particular dates).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from chatocr.fields.spec import FieldSpec, FieldType

# Kinds used by the candidate generators (chatocr.extract.candidates).
KINDS = (
    "text", "date", "amount", "time", "code", "phone", "company", "issuer", "address", "person", "train_no",
    "station", "seat", "credit_code", "id_card", "enum", "number",
)  # fmt: skip


@dataclass(frozen=True)
class FieldHint:
    type: FieldType
    kind: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    normalize: str | None = None
    # Regular expressions whose first group captures the value from one OCR line.
    capture: tuple[str, ...] = ()
    # When two fields share a printed key (购买方/销售方 "名称"): which occurrence belongs to this field.
    occurrence: str | None = None
    # A regular expression a valid (normalised) value matches.
    pattern: str | None = None
    # The value may wrap over several lines (addresses, 经营范围, 备注).
    multiline: bool = False
    extra: dict[str, str] = field(default_factory=dict)


T, D, A, N = FieldType.text, FieldType.date, FieldType.amount, FieldType.number

_TOTAL_ALIASES = (
    "Total", "TOTAL", "Grand Total", "GRAND TOTAL", "Total Amount", "Amount Due", "Nett Total", "Net Total",
    "Total (RM)", "Total Incl GST", "Rounded Total", "Total Due", "Balance Due", "Bal Due", "Amount", "合计", "总计",
    "总金额", "应付", "应付金额", "实付金额", "实收金额", "合计金额", "消费金额",
)  # fmt: skip

# A competition's name ends in one of these words, then a stage in brackets or words, then
# the end of the phrase ("……竞赛（国赛）中", "……大赛决赛中荣获", "……杯二等奖").  The name is matched
# greedily so that "第十届“挑战杯”全国……竞赛" is not cut at 杯.
_CONTEST = r"(?:竞赛|比赛|大赛|挑战赛|联赛|锦标赛|邀请赛|选拔赛|技能赛|杯|运动会|艺术节|科技节|文化节|展演|征文|评选)"
_CONTEST_END = (
    r"(?=(?:\s*(?:[(（][^)）]{1,12}[)）]|总决赛|决赛|复赛|初赛|省赛|国赛|预赛))?\s*"
    r"(?:中|上|[，,。；;：:]|[一二三四五六七八九十特]等奖|[金银铜]奖|优秀奖|优胜奖|$))"
)

LEXICON: dict[str, FieldHint] = {
    # --- receipts (en) ---
    "company": FieldHint(T, "company", ("Company Name", "Merchant"), "the seller / store / company name"),
    "store_name": FieldHint(T, "company", ("Store Name", "Merchant"), "the store name"),
    "store name": FieldHint(T, "company", ("Store Name", "Merchant"), "the store name"),
    "merchant": FieldHint(T, "company", ("Merchant", "Store"), "the merchant name"),
    "address": FieldHint(
        T, "address", ("Address", "Addr", "HQ ADD", "地址"), "the postal address of the seller", multiline=True
    ),
    "store_addr": FieldHint(T, "address", ("Address", "Addr"), "the store address", multiline=True),
    "date": FieldHint(D, "date", ("Date", "DATE", "Dated", "日期"), "the document date", "date_iso"),
    "time": FieldHint(T, "time", ("Time", "TIME", "时间"), "the time printed", "time"),
    "total": FieldHint(A, "amount", _TOTAL_ALIASES, "the final total amount paid", "amount"),
    "subtotal": FieldHint(A, "amount", ("Subtotal", "Sub Total", "SUB TOTAL", "小计"), "the subtotal", "amount"),
    "tax": FieldHint(A, "amount", ("Tax", "TAX", "GST", "VAT", "Sales Tax", "税额"), "the tax amount", "amount"),
    "tips": FieldHint(A, "amount", ("Tip", "Tips", "Gratuity"), "the tip amount", "amount"),
    "tel": FieldHint(T, "phone", ("Tel", "TEL", "Phone", "Tel No", "电话"), "the telephone number", "phone"),
    "phone": FieldHint(T, "phone", ("Tel", "Phone", "电话"), "the telephone number", "phone"),
    "invoice number": FieldHint(T, "code", ("Invoice No", "Invoice #", "Inv No", "Bill No", "Receipt No"), "", "code"),
    # --- certificate ---
    "姓名": FieldHint(
        T,
        "person",
        ("姓名", "Name"),
        "获奖人姓名",
        capture=(
            r"^([\u4e00-\u9fa5·]{2,5})\s*(?:同学|同志|老师|先生|女士)",
            r"\s([\u4e00-\u9fa5·]{2,4})\s*(?:同学|同志)(?:[：:，,\s]|$)",
            r"授予\s*([\u4e00-\u9fa5·]{2,5})",
            r"^兹证明\s*([\u4e00-\u9fa5·]{2,5})",
        ),
    ),
    "比赛名称": FieldHint(
        T,
        "text",
        ("比赛名称", "竞赛名称", "赛事名称"),
        "比赛或竞赛的完整名称",
        capture=(
            rf"在\s*(.{{2,50}}{_CONTEST}){_CONTEST_END}",
            rf"(?:荣获|获得|参加)\s*(.{{4,50}}{_CONTEST}){_CONTEST_END}",
            rf"^(?!.*(?:同学|同志))(?!\s*(?:比赛|竞赛|赛事|活动)名称)(.{{4,50}}{_CONTEST}){_CONTEST_END}",
        ),
    ),
    "证书编号": FieldHint(T, "code", ("证书编号", "编号", "证书号", "No.", "NO.", "No"), "证书上印的编号", "code"),
    "指导老师姓名": FieldHint(T, "person", ("指导老师", "指导教师", "指导老师姓名", "辅导老师"), "指导老师的姓名"),
    "证书日期": FieldHint(D, "date", ("日期", "颁发日期", "发证日期"), "证书落款日期", "date_iso"),
    "比赛单位承办单位": FieldHint(
        T, "issuer", ("承办单位", "主办单位", "颁发单位"), "主办或承办比赛的单位", multiline=True
    ),
    # --- VAT invoice ---
    "发票代码": FieldHint(
        T, "code", ("发票代码",), "发票左上方的发票代码（10或12位数字）", "code", pattern=r"\d{10,12}"
    ),
    "发票号码": FieldHint(
        T, "code", ("发票号码", "No", "NO"), "发票号码（8位数字）", "code", pattern=r"\d{8}(\d{12})?"
    ),
    "开票日期": FieldHint(D, "date", ("开票日期",), "开票日期", "date_iso"),
    "购买方名称": FieldHint(T, "company", ("购买方名称", "名称", "购方名称"), "购买方（买方）名称", occurrence="first"),
    "购买方纳税人识别号": FieldHint(
        T, "credit_code", ("纳税人识别号", "购买方纳税人识别号"), "购买方纳税人识别号", "code", occurrence="first"
    ),
    "销售方名称": FieldHint(T, "company", ("销售方名称", "名称", "销方名称"), "销售方（卖方）名称", occurrence="last"),
    "销售方纳税人识别号": FieldHint(
        T, "credit_code", ("纳税人识别号", "销售方纳税人识别号"), "销售方纳税人识别号", "code", occurrence="last"
    ),
    "金额": FieldHint(A, "amount", ("金额", "合计"), "不含税金额合计", "amount"),
    "税额": FieldHint(A, "amount", ("税额",), "税额合计", "amount"),
    "价税合计": FieldHint(A, "amount", ("价税合计", "（小写）", "(小写)", "小写"), "价税合计（小写）", "amount"),
    # --- train ticket ---
    "车次": FieldHint(T, "train_no", ("车次",), "列车车次，如 G1234", "upper"),
    "出发站": FieldHint(T, "station", ("出发站", "始发站"), "出发车站（站名）", occurrence="first"),
    "到达站": FieldHint(T, "station", ("到达站", "终点站"), "到达车站（站名）", occurrence="last"),
    "出发日期": FieldHint(D, "date", ("出发日期", "乘车日期", "日期"), "出发日期", "date_iso"),
    "出发时间": FieldHint(T, "time", ("出发时间", "开车时间", "时间"), "出发时间 HH:MM", "time"),
    "座位号": FieldHint(T, "seat", ("座位号", "座号", "车厢"), "车厢和座位号，如 05车12A号"),
    "席别": FieldHint(
        T,
        "text",
        ("席别", "座位等级"),
        "座席类别",
        capture=(r"(商务座|特等座|一等座|二等座|软卧|硬卧|软座|硬座|无座|动卧|高级软卧)",),
    ),
    "票价": FieldHint(A, "amount", ("票价", "￥", "¥"), "票价金额", "amount"),
    "乘客姓名": FieldHint(
        T,
        "person",
        ("乘客姓名", "姓名", "旅客"),
        "乘客姓名",
        capture=(
            r"\d{6,10}\*{2,}\d{2,4}[\dXx]?\s*([\u4e00-\u9fa5·]{2,5})",
            r"([\u4e00-\u9fa5·]{2,5})\s*\d{6,10}\*{2,}",
        ),
    ),
    # --- business licence ---
    "统一社会信用代码": FieldHint(
        T,
        "credit_code",
        ("统一社会信用代码", "信用代码"),
        "18位统一社会信用代码",
        "code",
        pattern=r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}",
    ),
    "名称": FieldHint(T, "company", ("名称", "企业名称"), "企业名称"),
    "类型": FieldHint(T, "text", ("类型", "企业类型", "公司类型"), "企业类型"),
    "法定代表人": FieldHint(T, "person", ("法定代表人", "负责人", "经营者"), "法定代表人姓名"),
    "注册资本": FieldHint(T, "text", ("注册资本",), "注册资本（如 壹佰万元整）"),
    "成立日期": FieldHint(D, "date", ("成立日期", "注册日期"), "成立日期", "date_iso"),
    "住所": FieldHint(T, "address", ("住所", "经营场所", "地址"), "住所地址", multiline=True),
    "经营范围": FieldHint(T, "text", ("经营范围",), "经营范围", multiline=True),
    # --- generic zh ---
    "日期": FieldHint(D, "date", ("日期",), "日期", "date_iso"),
    "地址": FieldHint(T, "address", ("地址", "住址", "住所"), "地址", multiline=True),
    # Remarks: free text over several lines; printed under its own name (spec_from_name adds it as the alias).
    "备注": FieldHint(T, "text", multiline=True),
    "电话": FieldHint(T, "phone", ("电话", "联系电话", "Tel"), "电话号码", "phone"),
    "身份证号": FieldHint(T, "id_card", ("身份证号", "公民身份号码", "身份证号码"), "18位身份证号码", "code"),
    "公民身份号码": FieldHint(T, "id_card", ("公民身份号码", "身份证号"), "18位身份证号码", "code"),
    "合计": FieldHint(A, "amount", ("合计", "总计"), "合计金额", "amount"),
    "总金额": FieldHint(A, "amount", ("总金额", "合计", "总计", "实收"), "总金额", "amount"),
}


# The parts of a document that hold one party's fields, by the label a field's name starts with
# ("购买方名称" sits in 购买方), each with the labels printed over that part.
SECTIONS: dict[str, tuple[str, ...]] = {
    "购买方": ("购买方", "购方", "买方", "购货单位"),
    "销售方": ("销售方", "销方", "卖方", "销货单位"),
}


def _printed_key(text: str) -> str:
    """A printed key as PRINTED_KEYS holds it: NFKC, without spaces and colons, lower case."""
    return re.sub(r"[\s:：]", "", unicodedata.normalize("NFKC", text)).lower()


# Labels printed on documents beside values that no lexicon field asks for.
_OTHER_PRINTED_KEYS = (
    "学校", "赛区", "赛区/阶段", "获奖等级", "颁发单位", "颁发日期", "登记机关", "营业期限", "收款员", "机器编号",
)  # fmt: skip
# Printed keys (as _printed_key writes them): the lexicon's aliases longer than one character and the
# labels above. A line that is one of them is a key, not a value.
PRINTED_KEYS: frozenset[str] = frozenset(
    {_printed_key(alias) for hint in LEXICON.values() for alias in hint.aliases if len(alias) > 1}
    | {_printed_key(key) for key in _OTHER_PRINTED_KEYS}
)

# Printed keys of particular dates (开票日期, 成立日期, 有效期, 出生...): a date printed beside one of them
# is that date, not the one a field asks for (unless the key is one of the field's own aliases).
DATE_KEYS: tuple[str, ...] = (
    "开票日期", "报告生成时间", "成立日期", "打印日期", "生成时间", "有效期", "营业期限", "出生",
)  # fmt: skip


def _key(name: str) -> str:
    """Lexicon key: NFKC, lower case, ``Store_name_value`` -> ``store_name``."""
    key = unicodedata.normalize("NFKC", name).strip().lower()
    key = re.sub(r"[_\s]*(value|key)$", "", key)
    return key.replace("-", "_")


# Inference reads a name as "<Chinese part>|<the rest, lower case>" (see _inference_key). Chinese compounds
# name their head last, so kinds that a fragment could also name in passing are matched at the end of the
# Chinese part: 单价 / 交费金额 are amounts, 综合评价 / 前期费用主要用途 / 经费办法 are not; 填表时间 is a moment,
# 学籍取得时间与方式 / 时间要求 are not. English words match whole (sum, not the sum in "resume").
_INFER: list[tuple[str, FieldHint]] = [
    # A period is from one date to another (起止时间 2007.9—2010.6, 工作期限, 领取期间): asked as printed, not
    # as the one date a date field would keep.
    (r"(起止|起讫|期间|期限)", FieldHint(T, "text", ())),
    (r"(日期|(?<![a-z])dated?(?![a-z]))", FieldHint(D, "date", (), "", "date_iso")),
    # A name ending in 日 names a day (生效之日, 到期日, 出生年月日), but not 星期日 / 假日 / 工作日, nor a schedule's
    # column headed 7月1日 (its digits gone, 月日), nor 日 alone (a date printed in 年 | 月 | 日 boxes).
    (r"(年月日|(?<!^)(?<!星期)(?<!假)(?<!工作)(?<!^月)日)\|", FieldHint(D, "date", (), "", "date_iso")),
    # An amount in words (价税合计（大写）: 叁仟肆佰玖拾伍圆整) is asked as printed, not as a number.
    (r"大写", FieldHint(T, "text", ())),
    (r"(sub_?total|小计)", LEXICON["subtotal"]),
    (
        r"((金额|合计|总计|(?<!评)价|费|税额|支付|自付|实付|应付|实收|应收|找零)(小写)?\||(?<![a-z])(total|amount|sum|price|fee)s?(?![a-z]))",
        FieldHint(A, "amount", (), "", "amount"),
    ),
    (r"(?<![a-z])(tax|gst|vat)(?![a-z])", LEXICON["tax"]),
    # 时间 names a moment of any precision: 填表时间 / 入党时间 are dates, 到站时间 a time of day.
    (r"时间\|", FieldHint(T, "date", (), "", "date_or_time")),
    (r"(?<![a-z])time(?![a-z])", FieldHint(T, "time", (), "", "time")),
    # 联系方式 ("how to reach"): on forms, a phone number.
    (r"(tel|phone|fax|mobile|电话|手机|联系方式|联络方式)", FieldHint(T, "phone", (), "", "phone")),
    (r"(addr|地址|住所|住址)", FieldHint(T, "address", (), multiline=True)),
    (r"(信用代码|识别号)", FieldHint(T, "credit_code", (), "", "code")),
    # An ID number, but not the kind of ID a form asks for (身份证件种类 / 类型 / 类别: 身份证, 护照).
    (r"(身份证|身份号码)(?!件?(种类|类型|类别))", FieldHint(T, "id_card", (), "", "code")),
    (r"(no\.?$|number|num|code|id$|号码|编号|代码|单号|号\|)", FieldHint(T, "code", (), "", "code")),
    (r"(主办|承办|颁发|发证|落款|签发|issuer|issued|organi[sz]er)", FieldHint(T, "issuer", ())),
    (r"(company|store|shop|vendor|seller|merchant|公司|单位|商户|店)", FieldHint(T, "company", ())),
    (r"(name|姓名|人\|)", FieldHint(T, "person", ())),
]

# What a name says besides its head: "(奖惩名称、级别、时间)" explains 奖惩情况, "13、" / "*" / "⑭" number or
# mark it, " (2)" asks for an occurrence. "(大写)" / "(小写)" stay: they say how an amount is printed.
_ASIDE = re.compile(r"[(（](?![大小]写)[^()（）]*[)）]?|^[\d\s.、*＊①-⑳]+|[*＊:：\s]+$")


def _inference_key(key: str) -> str:
    """A lexicon key as inference reads it: "<its Chinese characters>|<the rest>" after the asides go."""
    core = _ASIDE.sub("", key).strip() or key
    chinese = "".join(re.findall(r"[\u3400-\u9fff]", core))
    rest = re.sub(r"[\u3400-\u9fff]+", " ", core).strip()
    return f"{chinese}|{rest}"


def hint_for(name: str) -> FieldHint:
    """The lexicon entry for a field name, or one inferred from fragments of the name."""
    key = _key(name)
    if key in LEXICON:
        return LEXICON[key]
    if key.replace("_", " ") in LEXICON:
        return LEXICON[key.replace("_", " ")]
    inferred = _inference_key(key)
    for pattern, hint in _INFER:
        if re.search(pattern, inferred):
            return hint
    return FieldHint(T, "text")


def readable_alias(name: str) -> str:
    """The printed key a field name most likely appears under (``Store_name_value`` -> ``Store name``)."""
    return re.sub(r"[_\s]*(value|key)$", "", name, flags=re.IGNORECASE).replace("_", " ").strip()


_HAN = re.compile(r"[\u3400-\u9fff]")
_HAN_TEXT = re.compile(r"[\u3400-\u9fff（）：，、；。]+")


def language_parts(name: str) -> list[str]:
    """The Chinese and the English half of a bilingual name, each as a form may print it on its own line
    ("学历Education" -> ["学历", "Education"]); [] for a name in one language ("ID号码" is printed whole)."""
    han = len(_HAN.findall(name))
    letters = sum(ch.isascii() and ch.isalpha() for ch in name)
    if han < 2 or letters < 3:
        return []
    return [re.sub(r"[A-Za-z]+", " ", name).strip(), _HAN_TEXT.sub(" ", name).strip()]


def section_for_name(name: str) -> tuple[str, ...]:
    """The printed labels of the document part a field of this name sits in (SECTIONS), or ()."""
    name = name.strip()
    return next((labels for prefix, labels in SECTIONS.items() if name.startswith(prefix)), ())


def spec_from_name(name: str) -> FieldSpec:
    """A FieldSpec for a bare name, with type, aliases, normaliser, multiline and section from the lexicon."""
    hint = hint_for(name)
    aliases = list(dict.fromkeys([*hint.aliases, readable_alias(name)]))
    return FieldSpec(
        name=name.strip(),
        description=hint.description,
        type=hint.type,
        aliases=[a for a in aliases if a],
        normalize=hint.normalize,
        pattern=hint.pattern,
        multiline=hint.multiline,
        section=list(section_for_name(name)),
    )


def multiline_of(spec: FieldSpec) -> bool:
    """Whether a field's value may wrap over lines: the spec's own answer, else the lexicon's."""
    return spec.multiline if spec.multiline is not None else hint_for(spec.name).multiline


def section_of(spec: FieldSpec) -> tuple[str, ...]:
    """The printed labels of the document part a field sits in: the spec's own, else the lexicon's."""
    return tuple(spec.section) if spec.section is not None else section_for_name(spec.name)


def other_sections(spec: FieldSpec) -> tuple[str, ...]:
    """The labels of the lexicon's sections that share none with the field's own (a 购买方 field: 销售方's)."""
    own = set(section_of(spec))
    if not own:
        return ()
    return tuple(label for labels in SECTIONS.values() if not own & set(labels) for label in labels)


# The amounts a document adds up, total = net + tax: Total = Subtotal + Tax, 价税合计 = 金额 + 税额 (合计金额 +
# 合计税额). Matched in this order on the name as inference reads it: "Total Tax" and 合计税额 are the tax;
# 合计金额 is the net amount, which is why a role only counts when all three are asked (sum_roles).
_SUM_ROLES: tuple[tuple[str, str], ...] = (
    ("tax", r"(税额|(?<![a-z])(tax|gst|vat|hst)(?![a-z]))"),
    ("total", r"(价税合计|总计|总额|(?<![a-z])(grand_?)?total(?![a-z]))"),
    ("net", r"(小计|金额|不含税|(?<![a-z])(sub_?total|net)(?![a-z]))"),
)


def sum_role_of(spec: FieldSpec) -> str | None:
    """An amount field's part in total = net + tax: the spec's own, else the lexicon's reading of its name."""
    if spec.sum_role is not None:
        return spec.sum_role
    if spec.normalize != "amount" and spec.type is not FieldType.amount:
        return None
    inferred = _inference_key(_key(spec.name))
    return next((role for role, pattern in _SUM_ROLES if re.search(pattern, inferred)), None)


def sum_roles(specs: list[FieldSpec]) -> dict[str, FieldSpec] | None:
    """The asked fields that are a document's total, net amount and tax, when each role is asked exactly once."""
    by_role: dict[str, list[FieldSpec]] = {}
    for spec in specs:
        role = sum_role_of(spec)
        if role is not None:
            by_role.setdefault(role, []).append(spec)
    if sorted(by_role) != ["net", "tax", "total"] or any(len(members) != 1 for members in by_role.values()):
        return None
    return {role: members[0] for role, members in by_role.items()}


def kind_of(spec: FieldSpec) -> str:
    """The candidate kind of a field: explicit types win, then the lexicon, then the normaliser name."""
    if spec.type is FieldType.enum:
        return "enum"
    if spec.type is FieldType.date:
        return "date"
    if spec.type is FieldType.amount:
        return "amount"
    hint = hint_for(spec.name)
    if hint.kind not in ("text",) and hint.type is spec.type:
        return hint.kind
    if spec.normalize in ("time", "phone", "code"):
        return spec.normalize
    if spec.type is FieldType.number:
        return "number"
    return hint.kind if hint.type is spec.type else "text"

"""Value normalisers: dates to ISO, amounts to plain decimals, times to HH:MM, codes without
spaces, and removal of printed keys ("证书编号：", "No.", "Total:") around values.

Every parser returns ``None`` when the text does not hold a value of its kind, so the
candidate generators can use the same functions to recognise spans.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

_EDGE_PUNCT = " \t\r\n,;:，；：、|·•*_=~-—>"
# Month names and their abbreviations as receipts print them, in English, French, Spanish, German, Italian and
# Portuguese (a Paris bistro's 18AVR2014, a Madrid bar's 12 DIC 2016), without accents (strip_accents).
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january", "janv", "janvier", "ene", "enero", "januar", "gen", "gennaio", "janeiro"),
            ("feb", "february", "fev", "fevr", "fevrier", "febrero", "februar", "febbraio", "fevereiro"),
            ("mar", "march", "mars", "marzo", "marz", "mrz", "marco"),
            ("apr", "april", "avr", "avril", "abr", "abril", "aprile"),
            ("may", "mai", "mayo", "mag", "maggio", "maio"),
            ("jun", "june", "juin", "junio", "juni", "giu", "giugno", "junho"),
            ("jul", "july", "juil", "juillet", "julio", "juli", "lug", "luglio", "julho"),
            ("aug", "august", "aout", "ago", "agosto", "agt"),
            ("sep", "sept", "september", "septembre", "septiembre", "set", "settembre", "setembro"),
            ("oct", "october", "octobre", "octubre", "okt", "oktober", "ott", "ottobre", "outubro"),
            ("nov", "november", "novembre", "noviembre", "novembro"),
            ("dec", "december", "decembre", "dic", "diciembre", "dez", "dezember", "dicembre", "dezembro"),
        ],
        start=1,
    )
    for name in names
}


def strip_accents(text: str) -> str:
    """Each accented letter as its base letter ("févr" -> "fevr", "déc" -> "dec"), for month names; one character
    for one, so spans found in the result are spans of the text (a Hangul syllable, which decomposes into several
    letters, stays as it is; a lone mark, as NFKC writes an acute accent printed for an apostrophe in 27Dec´16, is
    a space)."""
    return "".join(_base_letter(ch) for ch in text)


@functools.lru_cache(maxsize=4096)
def _base_letter(ch: str) -> str:
    base = "".join(part for part in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(part))
    if not base:
        return " "
    return base if len(base) == 1 else ch


_CN_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "O": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "貳": 2, "两": 2, "三": 3, "叁": 3,
    "參": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "陸": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}  # fmt: skip
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def trim(text: str) -> str:
    """Strip separators and stray punctuation at both ends (a trailing '.' is kept: "SDN. BHD.")."""
    return text.strip(_EDGE_PUNCT + "\"'")


def _alias_regex(alias: str) -> str:
    # Spaces inside a printed key are optional (OCR often drops or adds them); a trailing '.' is optional.
    core = alias.strip().rstrip(".:：")
    parts = [re.escape(ch) for ch in core if not ch.isspace()]
    return r"\s*".join(parts) + r"\.?"


@functools.lru_cache(maxsize=8192)
def _key_prefix(alias: str) -> re.Pattern[str]:
    """A printed key at the start of a text, with a currency or unit in brackets and a colon after it.
    Compiled once per alias: a form asks dozens of fields, more than ``re``'s own cache holds."""
    pattern = r"^\s*" + _alias_regex(alias) + r"\s*(?:\(\s*[A-Za-z$¥￥]{1,3}\s*\)|（[^）]{0,4}）)?\s*[:：]?\s*"
    return re.compile(pattern, re.IGNORECASE)


def strip_keys(text: str, aliases: Iterable[str]) -> str:
    """Remove a printed key at the start of ``text`` ("证书编号：A123" -> "A123", "Total: 9.00" -> "9.00")."""
    value = text.strip()
    first = value[:1].lower()
    for alias in sorted({a for a in aliases if a.strip()}, key=len, reverse=True):
        if alias.strip()[:1].lower() != first:  # the key must start the text: skip the regex
            continue
        match = _key_prefix(alias).match(value)
        if match and match.end() < len(value):
            value = value[match.end() :]
            break
    return trim(value)


# ---------------------------------------------------------------- dates


def _valid_date(year: int, month: int, day: int) -> str | None:
    if year < 100:
        year += 2000 if year < 70 else 1900
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _cn_small_number(text: str) -> int | None:
    """二十 -> 20, 十二 -> 12, 二〇二三 -> 2023 (digit by digit when there is no unit)."""
    if not text:
        return None
    if all(ch in _CN_DIGITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    return _cn_section(text)


_CN_NUM = "[零〇○O一二三四五六七八九十两]"
DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"), "ymd"),
    (re.compile(rf"({_CN_NUM}{{4}})\s*年\s*({_CN_NUM}{{1,2}})\s*月\s*({_CN_NUM}{{1,3}})\s*日"), "cn"),
    (re.compile(r"(?<!\d)(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)"), "ymd"),
    # A date run into its time by OCR: "2020-02-2008:49:05".
    (re.compile(r"(?<!\d)(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{2})(?=\d{1,2}:\d{2})"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4}|\d{2})(?![\d./])"), "dmy"),
    # The same run into its time: "16-04-201814:51", "27/06/185:02:32 PM".
    (re.compile(r"(?<!\d)(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4}|\d{2})(?=\d{1,2}:\d{2})"), "dmy"),
    # A month's name, with the year after an apostrophe as tills print it: "27Apr'13", "MAY08'14", "DEC 25 '16".
    (re.compile(r"(?<![A-Za-z\d])(\d{1,2})[\s\-/.]*([A-Za-z]{3,9})[\s\-/.,']*(\d{4}|\d{2})(?!\d)"), "d_mon_y"),
    (
        re.compile(r"(?<![A-Za-z])([A-Za-z]{3,9})[\s\-/.]*(\d{1,2})(?:st|nd|rd|th)?[\s,\-/.']+(\d{4}|\d{2})(?!\d)"),
        "mon_d_y",
    ),
    (re.compile(r"(?<!\d)((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)"), "ymd"),
]


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """All date spans in ``text`` as (start, end, iso)."""
    text = strip_accents(nfkc(text))
    found: list[tuple[int, int, str]] = []
    for pattern, order in DATE_PATTERNS:
        pos = 0
        # Overlapping search: "REG #19- 21/03/2018" first matches "19- 21/03" (invalid), then the real date.
        while (m := pattern.search(text, pos)) is not None:
            pos = m.start() + 1
            if any(s <= m.start() < e or s < m.end() <= e for s, e, _ in found):
                continue
            iso = _date_from_groups(m.groups(), order)
            if iso:
                found.append((m.start(), m.end(), iso))
                pos = m.end()
    return sorted(found)


def _date_from_groups(groups: tuple[str | None, ...], order: str) -> str | None:
    a, b, c = (str(g) for g in groups)
    if order == "ymd":
        return _valid_date(int(a), int(b), int(c))
    if order == "cn":
        y, mo, d = _cn_small_number(a), _cn_small_number(b), _cn_small_number(c)
        return _valid_date(y, mo, d) if y and mo and d else None
    if order == "dmy":
        first, second, year = int(a), int(b), int(c)
        # Day first (the common convention outside the US) unless that is impossible.
        if first > 12 >= second:
            return _valid_date(year, second, first)
        if second > 12 >= first:
            return _valid_date(year, first, second)
        return _valid_date(year, second, first)
    if order == "d_mon_y":
        month = MONTHS.get(b.lower())
        return _valid_date(int(c), month, int(a)) if month else None
    if order == "mon_d_y":
        month = MONTHS.get(a.lower())
        return _valid_date(int(c), month, int(b)) if month else None
    return None


# A month alone, as forms ask for it ("入党时间 2018.7", "填表日期 2019年5月"): the whole text, a plausible year.
_YEAR_MONTH = re.compile(r"^((?:19|20)\d{2})\s*[年./-]\s*(1[0-2]|0?[1-9])\s*月?$")


def parse_date(text: str) -> str | None:
    """The first date in ``text`` as YYYY-MM-DD ("20/03/2018", "2023年5月20日", "20 MAR 2018"), or
    YYYY-MM when the whole text is a year and month ("2019.10", "2015年7月")."""
    dates = find_dates(text)
    if dates:
        return dates[0][2]
    m = _YEAR_MONTH.match(nfkc(text).strip().rstrip("。.,，"))
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}" if m else None


# What else a Chinese "…时间" field holds, kept as printed: a span ("2016年3月至今", "2019.6-2020.4",
# "2014年12月5日—12月30日"), a year ("2013年") or a length of time ("2个月", "15天").
_SPAN_OF_TIME = re.compile(r"^(?:19|20)\d{2}[\d\s年月日号./\-—–~～－至到今]*$")
_SPAN_SEPARATOR = re.compile(r"至|到|[—–~～－]|-\s*(?:19|20)\d{2}")
_YEAR_ALONE = re.compile(r"^((?:19|20)\d{2})\s*年?$")
_DURATION = re.compile(r"^[\d一二两三四五六七八九十半]+\s*个?\s*(?:年|月|天|日|周|星期|小时|分钟)(?:左右)?$")


def parse_date_or_time(text: str) -> str | None:
    """What a Chinese "…时间" field holds: a date (as ``parse_date``), a time of day, or a span, a year or a
    length of time as printed."""
    clean = nfkc(text).strip().rstrip("。.,，")
    if _SPAN_OF_TIME.match(clean) and _SPAN_SEPARATOR.search(clean):
        return normalize_text(clean)
    year = _YEAR_ALONE.match(clean)
    if year:
        return year.group(1)
    if _DURATION.match(clean):
        return normalize_text(clean)
    return parse_date(text) or parse_time(text)


# ---------------------------------------------------------------- amounts

# Thousands commas ("1,234.50"), a decimal comma ("28,02", "1.234,56": cents are always two digits, so
# "1,234" stays a thousand), plain numbers, and cents alone (".70", as receipts print a tax under a dollar).
# A number run on by a hyphen and a digit is a date or a phone number (2018-02-15, 03-7731 8169), not an amount.
_AMOUNT_RE = re.compile(
    r"(?<![\d.,/:\-])-?(?:RM|MYR|USD|CNY|RMB|\$|¥|￥|€|£)?\s*"
    r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:\.\d{3})*,\d{2}|\d{1,12}(?:\.\d{1,2})|\d{1,12}|\.\d{2})"
    r"(?![\d/:]|[.,]\d|\s*%|-\d)"
)
_DECIMAL_COMMA = re.compile(r"^[\d.]*,\d{2}$")
_CN_AMOUNT_RE = re.compile(r"[零壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億圆元角分整正]{2,}")


def format_amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def parse_cn_amount(text: str) -> str | None:
    """Chinese uppercase money: 壹佰元整 -> "100.00", 叁仟贰佰伍拾元零伍角 -> "3250.50"."""
    text = text.replace("萬", "万").replace("億", "亿").replace("圆", "元").strip()
    match = re.fullmatch(r"(?:(.*?)元)?(?:零?(.)角)?(?:零?(.)分)?[整正]?", text)
    if not match or not any(match.groups()):
        return None
    yuan_text, jiao, fen = match.groups()
    total = Decimal(0)
    if yuan_text:
        value = _cn_integer(yuan_text)
        if value is None:
            return None
        total += value
    for digit, scale in ((jiao, Decimal("0.1")), (fen, Decimal("0.01"))):
        if digit:
            if digit not in _CN_DIGITS:
                return None
            total += _CN_DIGITS[digit] * scale
    return format_amount(total)


def _cn_integer(text: str) -> int | None:
    total = 0
    for big, scale in (("亿", 10**8), ("万", 10**4)):
        if big in text:
            head, text = text.split(big, 1)
            value = _cn_section(head)
            if value is None:
                return None
            total += value * scale
    rest = _cn_section(text) if text else 0
    return None if rest is None else total + rest


def _cn_section(text: str) -> int | None:
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            return None
    return total + current


def find_amounts(text: str) -> list[tuple[int, int, str]]:
    """Amount spans in ``text`` as (start, end, "1234.50"); Chinese uppercase amounts included."""
    text = nfkc(text)
    found: list[tuple[int, int, str]] = []
    for m in _AMOUNT_RE.finditer(text):
        raw = m.group(1)
        raw = raw.replace(".", "").replace(",", ".") if _DECIMAL_COMMA.match(raw) else raw.replace(",", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            continue
        if m.group(0).lstrip().startswith("-"):
            value = -value
        found.append((m.start(), m.end(), format_amount(value)))
    for m in _CN_AMOUNT_RE.finditer(text):
        parsed = parse_cn_amount(m.group(0))
        if parsed:
            found.append((m.start(), m.end(), parsed))
    return sorted(found)


def parse_amount(text: str) -> str | None:
    """The amount in ``text`` as a plain decimal "1234.50" (currency signs, thousands commas removed)."""
    text = nfkc(text).strip()
    cn = parse_cn_amount(re.sub(r"^[（(]?大写[)）]?[:：]?", "", text))
    if cn:
        return cn
    amounts = find_amounts(text)
    # A value with a decimal part beats a bare integer in the same text ("2 x 3.50" -> 3.50 is rarer; keep last).
    decimals = [a for a in amounts if re.search(r"[.,]\d{1,2}$", text[a[0] : a[1]].rstrip())]
    chosen = (decimals or amounts)[-1:] if amounts else []
    return chosen[0][2] if chosen else None


# ---------------------------------------------------------------- times, codes

_TIME_RE = re.compile(
    r"(?<!\d)([01]?\d|2[0-3])\s*[:：时]\s*([0-5]\d)(?:\s*[:：分]\s*([0-5]\d))?\s*(秒)?\s*([AaPp]\.?\s?[Mm]\.?|[AaPp](?![A-Za-z]))?"
)


def find_times(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _TIME_RE.finditer(nfkc(text)):
        hour, minute, meridiem = int(m.group(1)), int(m.group(2)), (m.group(5) or "").lower()
        if meridiem.startswith("p") and hour < 12:
            hour += 12
        if meridiem.startswith("a") and hour == 12:
            hour = 0
        out.append((m.start(), m.end(), f"{hour:02d}:{minute:02d}"))
    return out


def parse_time(text: str) -> str | None:
    times = find_times(text)
    return times[0][2] if times else None


def normalize_code(text: str) -> str:
    """Codes and IDs: no spaces, NFKC, upper case; a leading "No." is dropped."""
    value = re.sub(r"^(?:No|NO|no|Nº|№)\s*[.:：]?\s*", "", nfkc(text).strip())
    return re.sub(r"\s+", "", value).strip(_EDGE_PUNCT).upper()


_CJK = "\u3400-\u9fff"
_CJK_OR_PUNCT = rf"[{_CJK}（）：，、；。]"


def _tidy_cjk(text: str) -> str:
    """Chinese text as printed: brackets around Chinese are full-width, and OCR's spaces between
    Chinese characters are dropped ("广州睿思烘焙坊 (科技路店)" -> "广州睿思烘焙坊（科技路店）")."""
    if not re.search(f"[{_CJK}]", text):
        return text
    text = re.sub(rf"\(([^()]*[{_CJK}][^()]*)\)", r"（\1）", text)
    return re.sub(rf"(?<={_CJK_OR_PUNCT})\s+(?={_CJK_OR_PUNCT})", "", text)


def normalize_text(text: str) -> str:
    return _tidy_cjk(re.sub(r"\s+", " ", trim(text)))


NORMALIZERS: dict[str, Callable[[str], str | None]] = {
    "date_iso": parse_date,
    "date": parse_date,
    "amount": parse_amount,
    "time": parse_time,
    "date_or_time": parse_date_or_time,
    "code": normalize_code,
    "no_spaces": lambda s: re.sub(r"\s+", "", s),
    "upper": lambda s: normalize_text(s).upper(),
    "lower": lambda s: normalize_text(s).lower(),
    "text": normalize_text,
    "phone": normalize_text,
}


@functools.lru_cache(maxsize=65536)
def normalize_value(text: str, normalizer: str | None) -> str | None:
    """Apply a named normaliser; ``None`` means the text holds no value of that kind.  Cached: every field of
    a document normalises the same proposals."""
    func = NORMALIZERS.get(normalizer or "text", normalize_text)
    value = func(text)
    return value if value else None

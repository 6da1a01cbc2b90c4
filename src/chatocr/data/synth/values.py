"""Value formats: how a date or amount is printed vs how its label is written.

Labels follow one convention (dates ``YYYY-MM-DD``, times ``HH:MM``, amounts ``1234.50``);
documents print the same value in the many ways real ones do.  Identifier generators
compute real check digits (unified social credit code, resident ID number).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

CN_DIGITS = "〇一二三四五六七八九"
EN_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def random_date(rng: random.Random, start_year: int = 2015, end_year: int = 2025) -> dt.date:
    start = dt.date(start_year, 1, 1).toordinal()
    end = dt.date(end_year, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(start, end))


def iso(day: dt.date) -> str:
    return day.isoformat()


def _cn_number(n: int) -> str:
    """1..31 as printed in Chinese dates: 十, 十二, 二十, 三十一."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def cn_date(day: dt.date, style: str) -> str:
    """A Chinese printed date; styles: ymd (2023年5月12日), ymd0 (2023年05月12日), dash, slash, hanzi."""
    if style == "ymd":
        return f"{day.year}年{day.month}月{day.day}日"
    if style == "ymd0":
        return f"{day.year}年{day.month:02d}月{day.day:02d}日"
    if style == "dash":
        return day.isoformat()
    if style == "slash":
        return f"{day.year}/{day.month:02d}/{day.day:02d}"
    if style == "hanzi":
        year = "".join(CN_DIGITS[int(d)] for d in str(day.year))
        return f"{year}年{_cn_number(day.month)}月{_cn_number(day.day)}日"
    raise ValueError(style)


def en_date(day: dt.date, style: str) -> str:
    """An English receipt date; styles: dmy (12/05/2023), dmy_dash, dmon (12 MAY 2023), ymd."""
    if style == "dmy":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    if style == "dmy_dash":
        return f"{day.day:02d}-{day.month:02d}-{day.year}"
    if style == "dmon":
        return f"{day.day:02d} {EN_MONTHS[day.month - 1]} {day.year}"
    if style == "ymd":
        return day.isoformat()
    raise ValueError(style)


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def amount_label(value: Decimal) -> str:
    """The label form of an amount: plain decimal with two places, no sign or separators."""
    return f"{money(value):.2f}"


def amount_printed(value: Decimal, thousands: bool = False) -> str:
    return f"{money(value):,.2f}" if thousands else f"{money(value):.2f}"


_UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UPPER_UNITS = ["", "拾", "佰", "仟"]
_UPPER_SECTIONS = ["", "万", "亿"]


def rmb_upper(value: Decimal) -> str:
    """The 大写 form of an RMB amount, e.g. 1234.50 -> 壹仟贰佰叁拾肆圆伍角 (as invoices print it)."""
    value = money(value)
    cents = int(value * 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    text = ""
    if yuan:
        number = str(yuan)
        zero = False
        for i, ch in enumerate(number):
            d, pos = int(ch), len(number) - 1 - i
            if d == 0:
                zero = True
            else:
                if zero:
                    text += "零"
                    zero = False
                text += _UPPER_DIGITS[d] + _UPPER_UNITS[pos % 4]
            # close a 万/亿 section unless all four of its digits are zero
            if pos % 4 == 0 and pos > 0 and (yuan // 10**pos) % 10000:
                text += _UPPER_SECTIONS[pos // 4]
                zero = False  # 壹拾万伍仟: no 零 right after a section unit
        text += "圆"
    if jiao:
        text += _UPPER_DIGITS[jiao] + "角"
    elif fen and text:
        text += "零"
    if fen:
        text += _UPPER_DIGITS[fen] + "分"
    if not jiao and not fen:
        text = (text or "零圆") + "整"
    return text


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
REGION_CODES = [
    "330106",
    "330108",
    "320102",
    "320505",
    "440106",
    "440305",
    "370102",
    "510107",
    "420111",
    "110108",
    "310115",
    "120104",
    "500103",
    "350102",
    "430104",
    "340104",
    "410105",
]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    return len(code) == 18 and all(c in USCC_CHARS for c in code) and uscc_check_char(code[:17]) == code[17]


def uscc(rng: random.Random) -> str:
    """A unified social credit code (GB 32100-2015) with valid organisation-code and final check digits."""
    body = "".join(rng.choice(USCC_CHARS[:10] if rng.random() < 0.7 else USCC_CHARS) for _ in range(8))
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    org = body + ("X" if check == 10 else "0" if check == 11 else str(check))
    first17 = "91" + rng.choice(REGION_CODES) + org
    return first17 + uscc_check_char(first17)


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id(rng: random.Random) -> str:
    """An 18-digit resident ID number with a valid check character."""
    birth = random_date(rng, 1960, 2005)
    first17 = rng.choice(REGION_CODES) + birth.strftime("%Y%m%d") + f"{rng.randint(0, 999):03d}"
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def masked_id(rng: random.Random) -> str:
    """As printed on train tickets: the birth date digits hidden, e.g. 3301061990****1234."""
    full = resident_id(rng)
    return full[:10] + "****" + full[14:]


def digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))

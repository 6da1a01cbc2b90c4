"""When is a predicted value right?  Normalisation and the tolerant / strict matchers.

Tolerant match (the headline F1), as the extraction issue defines it:

1. equal after normalisation: NFKC, casefold, whitespace collapsed (or removed
   entirely when the dataset says so, or when either side holds CJK text, where
   spaces are OCR noise), optionally punctuation removed;
2. when the label reads as a date: the prediction denotes the same calendar day
   (ambiguous day/month orders count when one reading agrees); a year and month alone
   ("2019.10", "2015年7月") the same month;
3. when the label reads as a time of day: the prediction denotes the same minute ("5:53pm" = "17:53");
   otherwise, when it reads as an amount: the prediction denotes the same number
   ("RM 54.50", "54.5", "$54.50" all equal "54.50");
4. for other text: normalised edit similarity >= 0.9 (OCR slips in long names).

Dates and amounts never fall back to edit similarity: "1234567.50" and "1234567.56"
are 0.9 similar but different amounts.

Strict match: the strings are identical after trimming surrounding whitespace.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from rapidfuzz.distance import Levenshtein

from chatocr.extract.normalize import MONTHS, strip_accents

SIMILARITY_THRESHOLD = 0.9

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_SPACE = re.compile(r"\s+")
_PUNCT_CATEGORIES = ("P", "S")


@dataclass(frozen=True)
class MatchOptions:
    """Per-dataset matching options."""

    ignore_whitespace: bool = False  # WildReceipt transcriptions drop spaces inside boxes
    ignore_punctuation: bool = False
    similarity_threshold: float = SIMILARITY_THRESHOLD


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def normalize(text: str, options: MatchOptions | None = None, *, cjk: bool | None = None) -> str:
    """NFKC, casefold, whitespace collapsed or removed, punctuation optionally removed."""
    opts = options or MatchOptions()
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    if opts.ignore_punctuation:
        text = "".join(" " if unicodedata.category(ch)[0] in _PUNCT_CATEGORIES else ch for ch in text).strip()
    drop_spaces = opts.ignore_whitespace or (has_cjk(text) if cjk is None else cjk)
    return _SPACE.sub("" if drop_spaces else " ", text)


# --- amounts -----------------------------------------------------------------------------------

# Currency marks before or after the number; "Rs", "R" and "kr" only next to a digit ("Rs13.13", "R35.42").
_CURRENCY = re.compile(
    r"(?i)^(?:rm|usd|rmb|cny|eur|gbp|myr|sgd|inr|aud|cad|hk\$|us\$|s\$|a\$|r\$|[$¥￥€£₹])|^(?:rs\.?|r|kr)(?=\d)"
    r"|(?:元|圆|rm|usd|rmb|eur|[€£₹]|kr)$"
)
_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
# A decimal comma ("55,43", "112,73€"): two decimals after the only comma, no point.
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d{2}$")


def parse_amount(text: str) -> Decimal | None:
    """The number an amount string denotes, or None when it is not a plain amount.

    Digit strings with a leading zero ("0440019") are codes, not amounts.
    """
    s = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    for _ in range(2):  # a prefix and a suffix ("RM54.50", "54.50元", "$-1.00")
        s = _CURRENCY.sub("", s).strip()
    if _DECIMAL_COMMA.match(s):
        s = s.replace(",", ".")
    if not s or not any(ch.isdigit() for ch in s) or not _NUMBER.match(s):
        return None
    digits = s.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1] != ".":
        return None
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:
        return None


# --- dates -------------------------------------------------------------------------------------

_SEP = r"\s*[-/.]\s*"
_YMD = re.compile(rf"^(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})$")
_YMD_ZH = re.compile(r"^(\d{2,4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$")
_XXY = re.compile(rf"^(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{2}}|\d{{4}})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Month names (extract.normalize.MONTHS: six languages), the year after an apostrophe as tills print it (27Apr'13).
_D_MON_Y = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-/.,]*([a-z]{3,9})\.?[\s\-/.,']*(\d{2}|\d{4})$")
# A two-digit year after the day needs a separator: "May 2016" is a month, not May 20, 2016.
_MON_D_Y = re.compile(r"^([a-z]{3,9})\.?[\s\-/.,]*(\d{1,2})(?:st|nd|rd|th)?(?:[\s\-/.,']+|(?=\d{4}$))(\d{2}|\d{4})$")


def _year(text: str) -> int:
    year = int(text)
    if year >= 100:
        return year
    return year + 2000 if year < 70 else year + 1900  # FUNSD forms are from the 1980s-90s


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_dates(text: str) -> set[date]:
    """Every calendar day the string can denote (both orders for 03/06/2018); empty when not a date."""
    s = strip_accents(unicodedata.normalize("NFKC", text)).strip().casefold()
    candidates: list[date | None] = []
    if m := _YMD.match(s) or _YMD_ZH.match(s) or _COMPACT.match(s):
        candidates.append(_valid(_year(m.group(1)), int(m.group(2)), int(m.group(3))))
    elif m := _XXY.match(s):
        a, b, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        candidates += [_valid(year, b, a), _valid(year, a, b)]
    elif m := _D_MON_Y.match(s):
        if (month := MONTHS.get(m.group(2))) is not None:
            candidates.append(_valid(_year(m.group(3)), month, int(m.group(1))))
    elif (m := _MON_D_Y.match(s)) and (month := MONTHS.get(m.group(1))) is not None:
        candidates.append(_valid(_year(m.group(3)), month, int(m.group(2))))
    return {d for d in candidates if d is not None}


# A month alone ("2019.10", "2015年7月", "2019-10"): forms ask for months (入党时间); read before amounts.
_YEAR_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


def parse_month(text: str) -> tuple[int, int] | None:
    """(year, month) when the string is a year and month alone, else None."""
    m = _YEAR_MONTH.match(unicodedata.normalize("NFKC", text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return int(m.group(1)), int(m.group(2))


# A time of day alone: "17:53", "5:53pm", "05:53 PM", "17:53:08" (seconds ignored).
_TIME = re.compile(r"^(\d{1,2})\s*[:：.]\s*(\d{2})(?:\s*[:：]\s*\d{2})?\s*([ap])?\.?\s*m?\.?$")


def parse_time(text: str) -> tuple[int, int] | None:
    """(hour, minute) on a 24-hour clock when the string is a time of day alone, else None."""
    m = _TIME.match(unicodedata.normalize("NFKC", text).strip().casefold())
    if not m:
        return None
    hour, minute, meridiem = int(m.group(1)), int(m.group(2)), m.group(3)
    if meridiem == "p" and hour < 12:
        hour += 12
    if meridiem == "a" and hour == 12:
        hour = 0
    return (hour, minute) if hour < 24 and minute < 60 else None


# --- matchers ----------------------------------------------------------------------------------


def similarity(a: str, b: str) -> float:
    """Normalised Levenshtein similarity in [0, 1] (1 - distance / longer length)."""
    if not a and not b:
        return 1.0
    return float(Levenshtein.normalized_similarity(a, b))


def strict_match(label: str, prediction: str | None) -> bool:
    return prediction is not None and prediction.strip() == label.strip()


def tolerant_match(label: str, prediction: str | None, options: MatchOptions | None = None) -> bool:
    """Whether ``prediction`` counts as ``label`` under the tolerant rule (module docstring)."""
    if prediction is None:
        return False
    opts = options or MatchOptions()
    cjk = has_cjk(label) or has_cjk(prediction)
    norm_label, norm_pred = normalize(label, opts, cjk=cjk), normalize(prediction, opts, cjk=cjk)
    if norm_label == norm_pred:
        return True
    label_dates = parse_dates(label)
    if label_dates:
        return bool(label_dates & parse_dates(prediction))
    label_month = parse_month(label)
    if label_month is not None:
        return parse_month(prediction) == label_month
    label_time = parse_time(label)
    if label_time is not None and ":" in label + prediction:
        return parse_time(prediction) == label_time
    label_amount = parse_amount(label)
    if label_amount is not None:
        return parse_amount(prediction) == label_amount
    return similarity(norm_label, norm_pred) >= opts.similarity_threshold


def anls_score(label: str, prediction: str | None, options: MatchOptions | None = None, tau: float = 0.5) -> float:
    """Average-normalised-Levenshtein term for one answer: 1 - NL when NL < tau, else 0 (null scores 0)."""
    if prediction is None:
        return 0.0
    opts = options or MatchOptions()
    cjk = has_cjk(label) or has_cjk(prediction)
    distance = 1.0 - similarity(normalize(label, opts, cjk=cjk), normalize(prediction, opts, cjk=cjk))
    return 1.0 - distance if distance < tau else 0.0

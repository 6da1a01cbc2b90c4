"""Deterministic candidate values for each field, found from the layout.

Generators (each tags its candidates with ``source``):

- ``pair:*``   label-value pairing: a printed key (a field alias) followed by the value on the
  same line, in the right neighbour on the same row, or on the line below;
- ``span:*``   typed spans anywhere: dates, amounts, times, codes/IDs, phone numbers, train numbers,
  stations, seats, 统一社会信用代码 and ID card numbers;
- ``capture``  field-specific patterns from the lexicon ("XXX 同学", "在……竞赛中");
- ``position:*`` priors: the store/company name near the top or on a line with SDN BHD / 有限公司,
  the address block under it, the issuing organisation in a certificate's sign-off;
- ``line``     every line (only when candidates are switched off: the model then picks a line).

Scores are heuristic priors in 0..1; the choose stage takes the best or asks the model.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from chatocr.document import Document, Line
from chatocr.extract.normalize import (
    find_amounts,
    find_dates,
    find_times,
    nfkc,
    normalize_value,
    strip_keys,
    trim,
)
from chatocr.fields.lexicon import DATE_KEYS, PRINTED_KEYS, hint_for, kind_of, multiline_of, other_sections, section_of
from chatocr.fields.spec import FieldSpec
from chatocr.layout import rows


@dataclass
class DocLine:
    index: int  # position in DocView.lines, the "[n]" reference shown to the model
    page: int
    line: Line
    row: int  # row number across the document
    rank_in_row: int
    # The line's (x0, y0, x1, y1), computed once: features and proposals read it many times per field.
    bounds: tuple[float, float, float, float] = field(init=False)

    def __post_init__(self) -> None:
        self.bounds = self.line.bounds

    @property
    def text(self) -> str:
        return self.line.text


class DocView:
    """The OCR lines of a document in reading order, with their rows, for pairing and prompts."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.lines: list[DocLine] = []
        self.rows: list[list[int]] = []
        self.page_heights: dict[int, float] = {p.page: float(p.height or 1) for p in document.pages}
        for page in document.pages:
            for row_lines in rows(page.lines):
                row_ids = []
                for rank, line in enumerate(row_lines):
                    self.lines.append(DocLine(len(self.lines), page.page, line, len(self.rows), rank))
                    row_ids.append(len(self.lines) - 1)
                self.rows.append(row_ids)
        self.full_text = "\n".join(line.text for line in self.lines)

    def right_of(self, index: int) -> DocLine | None:
        """The next line on the same row; failing that, the nearest line to the right at about the same height
        (photographed receipts slant, so a key and its value can land in different rows)."""
        row = self.rows[self.lines[index].row]
        pos = row.index(index)
        if pos + 1 < len(row):
            return self.lines[row[pos + 1]]
        me = self.lines[index]
        _, y0, x1, y1 = me.bounds
        cy, height = (y0 + y1) / 2, max(1.0, y1 - y0)
        best: DocLine | None = None
        for other in self.lines:
            if other.page != me.page or other.index == index:
                continue
            ox0, oy0, _, oy1 = other.bounds
            beside = ox0 >= x1 - 0.2 * height and abs((oy0 + oy1) / 2 - cy) <= 0.8 * height
            if beside and (best is None or ox0 < best.bounds[0]):
                best = other
        return best

    def below(self, index: int) -> DocLine | None:
        """The nearest line in the next rows that overlaps this line horizontally."""
        me = self.lines[index]
        x0, _, x1, y1 = me.bounds
        height = max(1.0, me.bounds[3] - me.bounds[1])
        for row_id in range(me.row + 1, min(len(self.rows), me.row + 3)):
            for j in self.rows[row_id]:
                other = self.lines[j]
                if other.page != me.page:
                    return None
                ox0, oy0, ox1, _ = other.bounds
                if oy0 - y1 > 2.5 * height:
                    return None
                if min(x1, ox1) - max(x0, ox0) > 0 or abs(ox0 - x0) < 2 * height:
                    return other
        return None

    def left_of(self, index: int) -> DocLine | None:
        """The previous line on the same row (the printed key of a value in the next cell)."""
        row = self.rows[self.lines[index].row]
        pos = row.index(index)
        return self.lines[row[pos - 1]] if pos > 0 else None

    def above(self, index: int) -> DocLine | None:
        """The nearest line in the two rows above that overlaps this line horizontally (a column header or a
        key printed over its value). Within a row, the lowest of the lines that overlap it: a staggered row holds
        the key 尺寸 just over its value 2mx2m and, higher up, the 展位费用： that starts further left."""
        me = self.lines[index]
        x0, y0, x1, _ = me.bounds
        height = max(1.0, me.bounds[3] - y0)
        for row_id in range(me.row - 1, max(-1, me.row - 3), -1):
            overlapping = []
            for j in self.rows[row_id]:
                other = self.lines[j]
                if other.page != me.page:
                    return None
                ox0, _, ox1, oy1 = other.bounds
                if y0 - oy1 > 3.0 * height:
                    return None
                overlap = min(x1, ox1) - max(x0, ox0)
                if overlap > 0:
                    overlapping.append((oy1, overlap, -j, other))
            if overlapping:
                return max(overlapping, key=lambda entry: entry[:3])[3]
        return None

    def relative_y(self, index: int) -> float:
        item = self.lines[index]
        return item.bounds[1] / self.page_heights.get(item.page, 1.0)


@dataclass
class Candidate:
    text: str  # the value as printed (key stripped)
    refs: list[int]  # DocView line indices it came from
    score: float
    source: str
    value: str | None = None  # normalised value
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ helpers


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", nfkc(text)).lower()


@functools.lru_cache(maxsize=4096)
def _alias_pattern(alias: str) -> re.Pattern[str]:
    core = nfkc(alias).strip().rstrip(":：")
    body = r"[\s\-]*".join(re.escape(ch) for ch in core if not ch.isspace())
    if re.search(r"[A-Za-z]", core):
        # Long keys may be glued to the previous word by OCR ("OrderTotal"); short ones ("No") may not.
        body = ("" if len(core) >= 5 else r"(?<![A-Za-z])") + body + r"(?![a-z])"
    return re.compile(body, re.IGNORECASE)


# Keys that look like "total" but are not the amount paid.
_NOT_TOTAL = re.compile(
    r"sub\s*-?\s*total|total\s*(qty|quantity|item|items|tax|gst|discount|saving|savings|excl|exclusive|before|tip)|"
    r"(qty|quantity|items?)\s*total|excl|exclusive|before\s*(gst|tax)|discount|saving|change|cash|tender|"
    r"\bgst\b\s*\d+%?\s*$|\bpaid\b|\bvisa\b|\bmaster\b|\bcard\b|points|includes?\s*\d+\s*%|included\s*in|"
    r"rounding\s*(adj)?\s*[:]?\s*$|service|charge|\d+\s*%\s*supplies",
    re.IGNORECASE,
)
_STRONG_TOTAL = re.compile(
    r"grand\s*total|total\s*(incl|inclusive|amount|amt|payable|due|rm|\(rm\)|sales)|nett?\s*total|"
    r"round(ed|ing)?\s*total|total\s*round|amount\s*due|balance\s*due|合计|总计|实收|应收",
    re.IGNORECASE,
)

_COMPANY_SUFFIX = re.compile(
    r"\b(sdn\.?\s*bhd|bhd|s/b|sdn|enterprise|trading|restaurant|restoran|hardware|mart|market|supermarket|store|"
    r"stores|shop|cafe|bakery|pharmacy|plt|co\.|company|corporation|corp|inc|llc|ltd|limited|industries|"
    r"holdings|station|services|food|kedai|motor|book|stationery)\b|有限公司|公司|商店|超市|酒店|餐厅|饭店|药房|商行|"
    # A shop's name, with its branch in brackets: 广州睿思烘焙坊（科技路店）.
    r"(?:店|坊|馆|铺|行|屋|社)\s*(?:[(（][^)）]{1,12}[)）])?$",
    re.IGNORECASE,
)
_NOT_COMPANY = re.compile(
    r"receipt|invoice|tax\s*inv|cash\s*bill|welcome|thank|gst\s*(no|reg|id)|reg\s*no|tel|fax|phone|date|"
    r"发票|收据|欢迎|电话|日期|小票|www\.|@|http",
    re.IGNORECASE,
)
_ADDRESS_WORD = re.compile(
    r"\b(jalan|jln|taman|tmn|lorong|lot|no\.?|blok|block|lebuh|persiaran|kampung|kg|bandar|batu|level|bangunan|"
    r"menara|wisma|kompleks|complex|seksyen|section|mukim|"
    r"kuala|lumpur|selangor|johor|bahru|penang|pulau|pinang|melaka|perak|pahang|kedah|sabah|sarawak|"
    r"street|st\.|road|rd\.?|ave\.?|avenue|blvd|suite|ste|floor|fl|drive|dr\.?|lane|ln|hwy|highway|"
    r"way|plaza|city)\b|(street|blvd|avenue|road|highway|drive|boulevard)|(?<=[a-z])(st|ave|rd|dr)\.?$|[A-Z]{2},?\s*\d{5}|(?<!\d)\d{5}(?!\d)|"
    r"路|街|号|区|市|省|县|镇|村|大道|巷|弄|楼|室",
    re.IGNORECASE,
)
_PHONE_RE = re.compile(r"(?<![\d])(\+?\(?\d{2,4}\)?[\s\-.]?\d{3,4}[\s\-.]?\d{3,5})(?![\d])")
_CREDIT_RE = re.compile(r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Z])")
_ID_CARD_RE = re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{6,10}\*{2,}\d{3,4}[\dXx]?)(?![\dXx])")
_TRAIN_RE = re.compile(r"(?<![A-Za-z0-9])([GCDZTKLYSgcdztklys]\d{1,4})(?![\d])")
_STATION_RE = re.compile(r"([\u4e00-\u9fa5]{1,8}站)")
_SEAT_RE = re.compile(r"(\d{1,2}\s*车\s*\d{1,3}\s*[A-Fa-f]?\s*号(?:\s*[上中下]铺)?|\d{1,2}车无座)")
_CODE_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{0,4}[-]?\d[\dA-Za-z\-/]{3,29})(?![A-Za-z0-9])")


def typed_spans(kind: str, text: str) -> list[tuple[int, int, str]]:
    """(start, end, normalised) spans of a kind inside one line."""
    text = nfkc(text)
    if kind == "date":
        return find_dates(text)
    if kind == "amount":
        return find_amounts(text)
    if kind == "time":
        return find_times(text)
    regex = {
        "phone": _PHONE_RE, "credit_code": _CREDIT_RE, "id_card": _ID_CARD_RE, "train_no": _TRAIN_RE,
        "station": _STATION_RE, "seat": _SEAT_RE, "code": _CODE_RE,
    }.get(kind)  # fmt: skip
    if regex is None:
        return []
    out = []
    for m in regex.finditer(text):
        span = m.group(1)
        if kind == "phone" and len(re.sub(r"\D", "", span)) < 7:
            continue
        if kind == "code" and sum(ch.isdigit() for ch in span) < 4:
            continue
        out.append((m.start(1), m.end(1), span))
    return out


TYPED_KINDS = {"date", "amount", "time", "phone", "credit_code", "id_card", "train_no", "station", "seat", "code"}


# ------------------------------------------------------------------ generators


# Printed keys of dates other than the one asked for: a date next to them is not our date.
_DATE_KEYS = re.compile("|".join(re.escape(key) for key in DATE_KEYS))


def pair_candidates(view: DocView, spec: FieldSpec, kind: str) -> list[Candidate]:
    """Label-value pairing: the value after a printed key, right of it, or below it."""
    aliases = [a for a in dict.fromkeys([*spec.aliases, spec.name]) if a.strip()]
    patterns = [(a, _alias_pattern(a)) for a in sorted(aliases, key=len, reverse=True)]
    out: list[Candidate] = []
    for item in view.lines:
        text = nfkc(item.text)
        for alias, pattern in patterns:
            match = pattern.search(text)
            if not match:
                continue
            at_start = match.start() <= 2
            base = 0.9 if at_start else 0.75
            # A key glued to preceding CJK text is part of a longer key ("合计金额", "销售方名称" for "名称").
            before = text[: match.start()].rstrip()
            if before and re.search(r"[\u4e00-\u9fff]$", before) and not re.search(r"[:：]", before[-2:]):
                base -= 0.3
            base += _role_adjustment(view, item, spec)
            if kind == "amount" and _is_total_field(spec):
                if _NOT_TOTAL.search(text):
                    base -= 0.45
                elif _STRONG_TOTAL.search(text):
                    base += 0.05
            if _is_column_header(view, item, text, match):
                break  # "项目 | 单价 | 数量 | 金额": a table column, not the key of one value
            rest = text[match.end() :]
            long_text = kind == "address" or multiline_of(spec)
            out.extend(_values_after_key(view, item, rest, kind, base, alias, long_text))
            break
    return out


def _role_adjustment(view: DocView, item: DocLine, spec: FieldSpec) -> float:
    """Fields of one section (购买方 / 销售方): favour keys in their own section, reject keys in another's."""
    own = section_of(spec)
    if not own:
        return 0.0
    others = other_sections(spec)
    # The nearest section label on this line or the three lines above decides the section.
    for j in range(item.index, max(-1, item.index - 4), -1):
        text = view.lines[j].text
        if any(word in text for word in own):
            return 0.1
        if any(word in text for word in others):
            return -0.5
    return 0.0


_ROUNDING = re.compile(r"(?<![a-z])round", re.IGNORECASE)


def _prefer_largest_total(view: DocView, cands: list[Candidate]) -> None:
    """Pick the amount paid among the total pairings: after a rounding line, the first total below it;
    otherwise the largest (totals incl. tax exceed subtotals)."""
    pairs = [c for c in cands if c.source.startswith("pair") and c.value]
    if not pairs:
        return
    top = max(c.score for c in pairs)
    strong = [c for c in pairs if c.score >= top - 0.1]
    rounding = [item.index for item in view.lines if _ROUNDING.search(item.text)]
    after = [c for c in strong if rounding and c.refs[0] > rounding[0]]
    try:
        best = min(after, key=lambda c: c.refs[0]) if after else max(strong, key=lambda c: float(c.value or 0))
    except ValueError:
        return
    best.score = min(1.0, best.score + 0.06)


def _is_total_field(spec: FieldSpec) -> bool:
    """The amount paid (not a subtotal or a tax), for the total-key ranking.

    Kept here rather than as a lexicon flag: it is a prefix rule on the name ("total", "Total_value",
    "total amount", "TOTAL (RM)") that no single lexicon entry matches, plus the zh total entries.
    """
    name = spec.name.lower()
    return name.startswith("total") or name in ("价税合计", "合计", "总金额")


def _looks_like_key(view: DocView, item: DocLine) -> bool:
    """A printed key rather than a value: a known key, or a short label opening a key-value row."""
    text = nfkc(item.text).strip()
    squashed = re.sub(r"[\s:：]", "", text).lower()
    if squashed in PRINTED_KEYS or text.endswith((":", "：")):
        return True
    row = view.rows[item.row]
    return len(row) > 1 and row[0] == item.index and bool(re.fullmatch(r"[\u4e00-\u9fa5/ ]{2,8}", text))


def _is_column_header(view: DocView, item: DocLine, text: str, match: re.Match[str]) -> bool:
    """The key fills its cell and shares its row with at least two other short, digit-free cells."""
    if trim(text[: match.start()] + text[match.end() :]):
        return False
    row = view.rows[item.row]
    cells = [view.lines[j].text.strip() for j in row]
    if len(cells) < 3 or any(len(c) > 12 or re.search(r"\d", c) for c in cells):
        return False
    # In a key/value row the cell after a key is its value; in a header row it is another header (or nothing).
    pos = row.index(item.index)
    return pos == len(row) - 1 or _looks_like_key(view, view.lines[row[pos + 1]])


def _continued(view: DocView, cand: Candidate, long_text: bool) -> Candidate:
    """Long values (经营范围, 住所, addresses) wrap onto the lines below, aligned with the value's first line."""
    if not long_text:
        return cand
    last = view.lines[cand.refs[-1]]
    x0 = last.bounds[0]
    height = max(1.0, last.bounds[3] - last.bounds[1])
    while len(cand.refs) < 8:
        nxt = view.below(cand.refs[-1])
        if nxt is None or abs(nxt.bounds[0] - x0) > 1.5 * height:
            break
        text = nfkc(nxt.text).strip()
        if re.search(r"^[^:：]{1,8}[:：]", text) or len(view.rows[nxt.row]) > 1:
            break  # the next key/value row
        joiner = "" if re.search(r"[\u4e00-\u9fff，；、（）]$", cand.text) else " "
        cand = Candidate(cand.text + joiner + text, [*cand.refs, nxt.index], cand.score, cand.source, cand.value)
    return cand


def _values_after_key(
    view: DocView, item: DocLine, rest: str, kind: str, base: float, alias: str, long_text: bool = False
) -> list[Candidate]:
    rest_clean = trim(re.sub(r"^\s*(?:\([^)]{0,6}\)|（[^）]{0,6}）)?\s*[:：]?", "", rest))
    found: list[Candidate] = []
    if kind in TYPED_KINDS:
        spans = typed_spans(kind, rest_clean)
        if kind == "amount":
            # "Total Incl. GST@6%": a bare integer next to a key is rarely the amount; look right/below.
            spans = [sp for sp in spans if re.search(r"[.,]\d{2}$|[$¥￥元]", rest_clean[sp[0] : sp[1]])] or [
                sp for sp in spans if not rest_clean[sp[1] :].lstrip().startswith("%")
            ][:0]
        if spans:
            start, end, value = spans[-1] if kind == "amount" else spans[0]
            found.append(Candidate(rest_clean[start:end], [item.index], base, "pair:same_line", value))
            return found
    elif len(rest_clean) >= 1 and re.search(r"\w", rest_clean):
        if _plausible_text(kind, rest_clean):
            found.append(_continued(view, Candidate(rest_clean, [item.index], base, "pair:same_line"), long_text))
        return found
    right = view.right_of(item.index)
    # "Total | Due: | 285.80": the key continues in the next cell; the value is further right.
    for _ in range(2):
        if right is None or kind not in TYPED_KINDS or typed_spans(kind, right.text):
            break
        if len(right.text.strip()) > 12 or re.search(r"\d", right.text):
            break
        right = view.right_of(right.index)
    for neighbour, source, factor in ((right, "pair:right", 0.95), (None, "pair:below", 0.7)):
        if neighbour is None and source == "pair:below":
            neighbour = view.below(item.index)
        if neighbour is None:
            continue
        text = strip_keys(nfkc(neighbour.text), [alias])
        if _looks_like_key(view, neighbour):
            break  # an empty value: the next thing printed is another key
        if kind in TYPED_KINDS:
            spans = typed_spans(kind, text)
            if spans:
                start, end, value = spans[-1] if kind == "amount" else spans[0]
                found.append(Candidate(text[start:end], [neighbour.index], base * factor, source, value))
                break
        elif text and re.search(r"\w", text) and _plausible_text(kind, text):
            found.append(_continued(view, Candidate(text, [neighbour.index], base * factor, source), long_text))
            break
    return found


def _plausible_text(kind: str, text: str) -> bool:
    """Names and addresses are mostly letters and are not registration numbers ("Company No: 1174703-K")."""
    if kind not in ("company", "issuer", "person", "address", "station"):
        return True
    letters = sum(ch.isalpha() for ch in text)
    return letters >= 0.4 * len(text.replace(" ", "")) and not re.match(r"(no|reg)\b", text, re.IGNORECASE)


def span_candidates(view: DocView, kind: str, own_aliases: tuple[str, ...] = ()) -> list[Candidate]:
    out = []
    base = {"date": 0.55, "time": 0.5, "credit_code": 0.7, "id_card": 0.6, "train_no": 0.45, "seat": 0.6,
            "station": 0.45, "phone": 0.35, "amount": 0.2, "code": 0.2}.get(kind, 0.2)  # fmt: skip
    for item in view.lines:
        for start, end, value in typed_spans(kind, item.text):
            text = nfkc(item.text)[start:end]
            # Earlier occurrences rank slightly higher (document dates and codes sit near the top).
            score = base - 0.1 * view.relative_y(item.index)
            other_key = _DATE_KEYS.search(item.text)
            if kind == "date" and other_key and not any(other_key.group(0) in a for a in own_aliases):
                score -= 0.25
            if kind == "date" and re.search(r"\d{1,2}[:：]\d{2}\s*开", item.text):
                score += 0.1  # 火车票: "2018年12月27日 09:17开"
            out.append(Candidate(text, [item.index], score, f"span:{kind}", value))
    return out


def _row_names(view: DocView, row: list[int]) -> list[tuple[str, list[int]]]:
    """The texts of one row, a lone 站 box joined to the name on its left (red paper tickets print
    "北京西    站" with the OCR boxing 站 alone)."""
    names: list[tuple[str, list[int]]] = []
    for index in row:
        text = trim(nfkc(view.lines[index].text))
        if text == "站" and names:
            names[-1] = (names[-1][0] + text, [*names[-1][1], index])
        else:
            names.append((text, [index]))
    return names


def station_row_candidates(view: DocView) -> list[Candidate]:
    """火车票: departure and arrival printed on one row as two short names ("厦门北   苏州"), often without 站."""
    out = []
    for row in view.rows[:12]:
        names = _row_names(view, row)
        if len(names) < 2:
            continue
        (first, first_refs), (last, last_refs) = names[0], names[-1]
        if all(re.fullmatch(r"[\u4e00-\u9fa5]{2,8}", n) for n in (first, last)) and "车" not in first + last:
            out.append(Candidate(first, first_refs, 0.55, "position:station_row"))
            out.append(Candidate(last, last_refs, 0.55, "position:station_row"))
    return out


def capture_candidates(view: DocView, spec: FieldSpec) -> list[Candidate]:
    hint = hint_for(spec.name)
    out = []
    for pattern in hint.capture:
        regex = re.compile(pattern)
        for item in view.lines:
            m = regex.search(nfkc(item.text).strip())
            if m:
                out.append(Candidate(trim(m.group(1)), [item.index], 0.8, "capture"))
    return out


_REG_NO = re.compile(r"\(?\s*(?:co\.?\s*(?:reg\.?\s*)?no\.?\s*[:.]?\s*)?\d{4,}[\-.]*\s*[A-Z]?\s*\)?\s*$", re.IGNORECASE)
_STOP_LINE = re.compile(
    r"(?<![a-z])gst(?![a-z])|reg\b|reg\.|regist|tel\b|tel\s*[:.]|fax|invoice|receipt|co\.?\s*no|company\s*no|phone|"
    r"date|cashier|"
    r"电话|发票|日期|www\.|@|http",
    re.IGNORECASE,
)
_SUFFIX_WORDS = re.compile(r"\b(co\.?|\(m\)|sdn\.?|bhd\.?|s/b|enterprise|trading|plt|ltd\.?|inc\.?|llc)", re.IGNORECASE)


def _company_text(text: str) -> str:
    """A top line without its trailing registration number: "99 SPEED MART S/B (519537-X)" -> "99 SPEED MART S/B"."""
    return trim(_REG_NO.sub("", trim(nfkc(text))))


def company_candidates(view: DocView) -> list[Candidate]:
    out = []
    for item in view.lines[:15]:
        text = _company_text(item.text)
        rel = view.relative_y(item.index)
        row = view.rows[item.row]
        if len(row) > 1:
            if item.index != row[0]:
                continue
            # A name split into cells of one row ("SIN THYE &" | "COMPANY") is read whole.
            text = _company_text(" ".join(view.lines[j].text for j in row))
        if rel > 0.4 or len(text) < 3:
            continue
        letters = sum(ch.isalpha() for ch in text)
        if letters < 0.5 * len(text.replace(" ", "")) or _NOT_COMPANY.search(text) or _STOP_LINE.search(text):
            continue
        if re.search(
            r"goods|sold|returnable|refund|thank|welcome|member|table|cashier|open|daily|hours|order|"
            r"store\s*#|#\s*\d|\d{1,2}:\d{2}",
            text,
            re.IGNORECASE,
        ):
            continue
        if sum(ch.isdigit() for ch in text) > 0.2 * len(text):
            continue
        if _address_like(text) and not _COMPANY_SUFFIX.search(text):
            continue
        if len(text) >= 4 and max(text.count(ch) for ch in set(text)) > 0.4 * len(text):
            continue  # OCR noise from a logo or a rule line ("本本本本本")
        refs = list(row) if len(row) > 1 else [item.index]
        if _COMPANY_SUFFIX.search(text):
            score = 0.85 - 0.02 * item.index
            # "POPULAR BOOK" / "CO. (M) SDN BHD" printed on two lines: join the name with its suffix line.
            if len(re.sub(r"[^A-Za-z]", "", _SUFFIX_WORDS.sub("", text))) < 3:
                before = [j for j in range(item.index - 1, max(-1, item.index - 4), -1)]
                for j in before:
                    prev = trim(nfkc(view.lines[j].text))
                    upper_name = prev.upper() == prev and re.fullmatch(r"[A-Z0-9&'. ]{2,30}", prev)
                    if upper_name and not _STOP_LINE.search(prev):
                        refs.insert(0, j)
                        if not _SUFFIX_WORDS.fullmatch(prev.strip()):
                            break
                    else:
                        break
                score += 0.05
            # "SWC" / "ENTERPRISE" / "SDN" / "BHD": suffix words printed on the lines below.
            for j in range(item.index + 1, min(len(view.lines), item.index + 3)):
                nxt = trim(nfkc(view.lines[j].text))
                if _SUFFIX_WORDS.sub("", nxt).strip(" .()") == "" and nxt:
                    refs.append(j)
                else:
                    break
            text = " ".join(_company_text(view.lines[j].text) for j in refs)
        else:
            score = 0.45 - 0.03 * item.index
        out.append(Candidate(text, refs, score, "position:company"))
    return out


# Organisations that issue certificates and run competitions, and (weaker: a recipient's school
# or employer is printed in the same form) any organisation name.
_ISSUER_STRONG = r"组委会|委员会|协会|学会|研究会|联合会|基金会|教育厅|教育局|教育部|办公室|秘书处|中心|团委|工作组"
_ISSUER_ANY = _ISSUER_STRONG + r"|大学|学院|学校|中学|小学|公司|集团|研究院|研究所|厅|局|部"
_ISSUER_LINE = re.compile(
    rf"^(?:(?:主办|承办|颁发|发证)(?:单位|机关)?\s*[:：]?\s*)?"  # a printed key, when there is one
    rf"(.{{2,40}}?(?:{_ISSUER_ANY}))(?:[（(]?盖章[)）]?)?$"
)
_ADDRESSEE = re.compile(r"同学|同志|先生|女士|老师|小组|团队|荣获|获得|授予|在.+中")


def issuer_candidates(view: DocView) -> list[Candidate]:
    """Organisation names that make up a whole line, ranked as the sign-off of the document.

    On a certificate the recipient's school ("南京理工大学 尹怡奕 同学") and the issuing committee
    ("全国大学生数学建模竞赛组委会", above the date, beside the seal) have the same form; the issuer
    is the one low on the page, near the date, with an issuing-body suffix, and not beside the
    recipient's name.
    """
    out = []
    date_rows = {item.row for item in view.lines if find_dates(nfkc(item.text))}
    for item in view.lines:
        text = trim(nfkc(item.text))
        match = _ISSUER_LINE.match(text)
        if not match or _ADDRESSEE.search(text):
            continue
        name = trim(match.group(1))
        score = 0.5 + 0.25 * min(1.0, view.relative_y(item.index))
        if re.search(rf"(?:{_ISSUER_STRONG})$", name):
            score += 0.1
        if any(row in date_rows for row in (item.row, item.row + 1, item.row + 2)):
            score += 0.1  # the sign-off block: issuer, then the date
        row_text = " ".join(view.lines[j].text for j in view.rows[item.row])
        if _ADDRESSEE.search(row_text):
            score -= 0.35  # the recipient's affiliation
        out.append(Candidate(name, [item.index], min(score, 0.95), "position:issuer"))
    return out


def _address_like(text: str) -> bool:
    if _STOP_LINE.search(text):
        return False
    return bool(_ADDRESS_WORD.search(text)) and sum(ch.isalpha() for ch in text) >= 3


_ZH_ADDRESS = re.compile(
    r"^(?:地址[:：]?)?([\u4e00-\u9fa5]{1,10}(?:省|市|自治区|区|县)[\u4e00-\u9fa5A-Za-z0-9\-()（）#]{2,40}"
    r"(?:路|街|道|巷|弄|号|室|楼|层|大厦|广场|中心|村|组))"
)


_LEADING_REG = re.compile(
    r"\(?\s*(?:co\.?\s*)?(?:no\.?|reg\.?)?\s*[:.]?\s*[A-Z]{0,3}\s*\d{5,}[\-.\s]*[A-Z]?\s*\)?", re.IGNORECASE
)
_STATE = re.compile(
    r"(selangor|johor|kedah|kelantan|melaka|negeri sembilan|pahang|perak|perlis|pulau pinang|penang|sabah|"
    r"sarawak|terengganu|kuala lumpur|putrajaya|labuan|malaysia|darul ehsan|darul takzim)[ ,.]*(malaysia)?[ .]*",
    re.IGNORECASE,
)


def address_candidates(view: DocView) -> list[Candidate]:
    """The block of address-like lines near the top (joined), and each address line alone."""
    out: list[Candidate] = []
    for item in view.lines:
        text = nfkc(item.text).strip()
        m = _ZH_ADDRESS.match(text)
        # "河西国泰生活超市(工业园路店)" is a shop with its branch, not an address (超市 ends in 市).
        if m and not _COMPANY_SUFFIX.search(text):
            out.append(Candidate(m.group(1), [item.index], 0.8, "position:zh_address"))
    block: list[DocLine] = []
    for item in view.lines[:25]:
        text = trim(nfkc(item.text))
        if view.relative_y(item.index) > 0.5:
            break
        if not block:
            reg_like = _REG_NO.fullmatch(text) or _LEADING_REG.fullmatch(text)
            if _address_like(text) and not _COMPANY_SUFFIX.search(text) and not reg_like:
                block.append(item)
            continue
        if _STOP_LINE.search(text) or _REG_NO.fullmatch(text) or len(block) >= 5 or _PHONE_RE.fullmatch(text):
            break
        if _address_like(text) or re.fullmatch(r"[A-Za-z0-9 ,.&'/\-]{3,60}", text):
            block.append(item)
            if re.search(r"\b\d{5}\b", text) and not re.search(r"\d{5}\s*$", text) and len(block) >= 2:
                pass
            continue
        break
    # The address usually ends at the line holding the postcode (plus a state name after it).
    post = [k for k, b in enumerate(block) if re.search(r"(?<!\d)\d{5}(?!\d)", b.text)]
    if post:
        end = post[-1] + 1
        if end < len(block) and _STATE.fullmatch(trim(block[end].text)):
            end += 1
        block = block[:end]
    if block:
        joined = trim(" ".join(nfkc(b.text).strip() for b in block))
        out.append(Candidate(joined, [b.index for b in block], 0.75, "position:address_block"))
        for b in block:
            out.append(Candidate(trim(nfkc(b.text)), [b.index], 0.4, "position:address_line"))
    return out


def line_candidates(view: DocView, spec: FieldSpec, limit: int) -> list[Candidate]:
    out = []
    for item in view.lines[:limit]:
        text = strip_keys(nfkc(item.text), spec.aliases)
        if text:
            out.append(Candidate(text, [item.index], 0.1, "line"))
    return out


def _apply_occurrence(cands: list[Candidate], occurrence: str | None) -> None:
    """For fields sharing a key (购买方/销售方 名称): favour the first or the last pairing on the page."""
    if not occurrence or len(cands) < 2:
        return
    ordered = sorted(cands, key=lambda c: c.refs[0])
    favoured = ordered[0] if occurrence == "first" else ordered[-1]
    for cand in cands:
        cand.score += 0.08 if cand is favoured else -0.08


def generate(view: DocView, spec: FieldSpec, *, use_pairing: bool = True, use_spans: bool = True) -> list[Candidate]:
    """All candidates for one field, normalised, merged by value and sorted best first."""
    kind = kind_of(spec)
    hint = hint_for(spec.name)
    cands: list[Candidate] = []
    if use_pairing:
        pairs = pair_candidates(view, spec, kind)
        _apply_occurrence(pairs, hint.occurrence)
        cands += pairs
    # A bare code-like span without its printed key is too weak to offer (it is any number on the page).
    if use_spans and kind in TYPED_KINDS and (kind != "code" or spec.pattern):
        spans = span_candidates(view, kind, (*spec.aliases, spec.name))
        if kind == "station":
            spans += station_row_candidates(view)
            _apply_occurrence(spans, hint.occurrence)
        cands += spans
    if kind == "amount" and _is_total_field(spec):
        _prefer_largest_total(view, cands)
    cands += capture_candidates(view, spec)
    if kind == "company":
        cands += company_candidates(view)
    if kind == "issuer":
        cands += issuer_candidates(view)
    if kind == "address":
        cands += address_candidates(view)
    return finish(cands, spec)


def finish(cands: list[Candidate], spec: FieldSpec) -> list[Candidate]:
    """Normalise, drop what does not parse or match the field's pattern, merge duplicates, sort."""
    merged: dict[str, Candidate] = {}
    for cand in cands:
        if cand.value is None or spec.normalize in ("date_iso", "amount", "time", "code"):
            cand.value = normalize_value(cand.text, spec.normalize)
        if not cand.value:
            continue
        if not spec.matches(cand.value):
            continue
        key = _squash(cand.value)
        if key in merged:
            kept = merged[key]
            best = max(kept, cand, key=lambda c: c.score)
            other = cand if best is kept else kept
            # Agreement between different generators is evidence (two keys printing the same amount is not:
            # a subtotal often equals the total).
            if other.source.split(":")[0] != best.source.split(":")[0]:
                best.score = min(1.0, best.score + 0.05 * min(other.score, 0.5) * 2)
            best.notes.append(other.source)
            merged[key] = best
        else:
            merged[key] = cand
    return sorted(merged.values(), key=lambda c: (-c.score, c.refs[0]))

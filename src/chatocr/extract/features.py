"""Features of (field, proposal) pairs for the learned reader.

Nothing here names a particular field: a field enters through its spec (its name, aliases and
kind) and the reader learns from data how much each signal counts.  The signals:

- how alike the field's name and aliases are to the printed key of the proposal: the text before
  the value on its own line, the cell to its left, the line above it (character-level similarity,
  so it works for Chinese and English keys and for names never seen in training);
- whether the value fits the field's kind (a date for a date field, an amount for an amount);
- where the value sits (position on the page, relative size, how far from its key);
- what the value looks like (length, digits, letters, CJK, whether it is itself a key);
- how sure the OCR was of it, against the document's other lines;
- the field-specific rule generators' view (``chatocr.extract.candidates``), as one more signal.

Field-independent features are computed once per document (:class:`DocFeatures`); per field only
the name similarities and the kind fit are added, vectorised over all proposals.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from chatocr.extract.candidates import Candidate, DocLine, DocView, generate
from chatocr.extract.normalize import nfkc, parse_amount, parse_date, parse_time
from chatocr.extract.proposals import INLINE_KEY, SPAN_KINDS, Proposal, continues, document_proposals
from chatocr.extract.value_kinds import CLASSES, ValueKindModel, coarse_kind
from chatocr.fields.lexicon import KINDS, PRINTED_KEYS, kind_of, language_parts, readable_alias
from chatocr.fields.spec import FieldSpec

FEATURES_VERSION = 17

BASE_FEATURES = [
    "log_len", "digit_frac", "alpha_frac", "cjk_frac", "upper_frac", "n_words",
    "is_date", "is_amount", "is_time", "typed_kind", "n_refs",
    "rel_y", "rel_x0", "rel_x1", "line_pos", "height_ratio",
    "starts_line", "value_keylike", "has_colon",
    "src_line", "src_after_key", "src_typed", "src_block", "src_row_cells", "src_rule",
    "src_pairs_in_line", "src_spaced_key", "src_name_prefix", "src_before_key",
    "amount_rank", "is_max_amount", "repeats",
    "continues_below", "gap_below", "block_gap", "ocr_conf",
]  # fmt: skip
FIELD_FEATURES = [
    "field_kind", "type_fit",
    "sim_inline", "part_inline", "sim_left", "part_left", "sim_above", "part_above",
    "sim_best", "best_relation", "sim_self", "part_self", "name_cover", "region_cover",
    "gap_left", "gap_above",
    "occ_requested", "key_ordinal", "occ_match", "n_key_lines",
    "rule_score", "rule_rank", "rule_source",
    "value_is_other_field", "key_is_other_field", "own_minus_other_key",
    "key_gap", "cover_gap", "region_gap", "doc_key_max",
    "sim_column", "sim_row", "table_cover", "column_in_name", "row_in_name",
    "kind_prob", "none_prob", "key_prob", "neighbour_key_prob",
]  # fmt: skip
FEATURES = BASE_FEATURES + FIELD_FEATURES
CATEGORICAL = ["typed_kind", "field_kind", "best_relation", "rule_source"]

OCCURRENCE = re.compile(r"\s*[(（]\s*(\d{1,2})\s*[)）]\s*$")
_RULE_SOURCES = {"pair": 1, "span": 2, "position": 3, "capture": 4, "line": 5}
# Similarity a line must reach to count as a printed key of the field (for the n-th occurrence).
KEY_LINE_SIMILARITY = 0.8
# Section labels: lines of at most this many characters, within this many line heights of a value.
SECTION_LABEL_CHARS = 6
SECTION_REACH = 3.0
# A column header: the nearest digit-free line above a value, overlapping it, within this many line heights.
TABLE_REACH = 15.0


_NOT_WORD = re.compile(r"[\W_]+")


def squash(text: str) -> str:
    """Compare keys without case, width, spaces, punctuation or underscores."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def occurrence_of(name: str) -> tuple[str, int]:
    """A field name without its occurrence suffix, and the occurrence it asks for ("姓名 (2)" -> ("姓名", 2))."""
    match = OCCURRENCE.search(name)
    return (name[: match.start()].strip(), int(match.group(1))) if match else (name.strip(), 1)


def field_names(spec: FieldSpec) -> tuple[list[str], int]:
    """The squashed names a field may be printed under, and the occurrence it asks for ("姓名 (2)" -> 2)."""
    base, occurrence = occurrence_of(spec.name)
    raw = [base, readable_alias(base), *language_parts(base), *spec.aliases]
    names = [n for n in dict.fromkeys(squash(r) for r in raw) if n]
    return names, occurrence


def _similarities(names: list[str], texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(ratio, partial ratio) in 0..1 of each text against the best-matching name.  The partial ratio
    measures containment ("名称" in "购买方名称"); a one-character text only counts by its plain ratio."""
    if not texts or not names:
        return np.zeros(len(texts)), np.zeros(len(texts))
    ratio = process.cdist(names, texts, scorer=fuzz.ratio, dtype=np.float32, workers=1).max(axis=0) / 100.0
    partial = process.cdist(names, texts, scorer=fuzz.partial_ratio, dtype=np.float32, workers=1).max(axis=0) / 100.0
    short = np.array([len(t) < 2 for t in texts])
    partial = np.where(short, ratio, partial)
    empty = np.array([not t for t in texts])
    return np.where(empty, 0.0, ratio).astype(np.float64), np.where(empty, 0.0, partial).astype(np.float64)


def _fractions(text: str) -> tuple[float, float, float, float]:
    n = max(1, len(text.replace(" ", "")))
    digits = sum(ch.isdigit() for ch in text)
    letters = [ch for ch in text if ch.isascii() and ch.isalpha()]
    cjk = sum("\u3400" <= ch <= "\u9fff" for ch in text)
    upper = sum(ch.isupper() for ch in letters) / len(letters) if letters else 0.0
    return digits / n, len(letters) / n, cjk / n, upper


def _kind_fit(kind: str, flags: np.ndarray, typed: list[str | None]) -> np.ndarray:
    """1 when the value is of the field's kind, 0 when it is not, -1 when the kind says nothing."""
    is_date, is_amount, is_time = flags[:, 0], flags[:, 1], flags[:, 2]
    if kind == "date":
        return is_date.copy()
    if kind == "amount" or kind == "number":
        return is_amount.copy()
    if kind == "time":
        return is_time.copy()
    if kind in SPAN_KINDS:
        return np.array([1.0 if t == kind else 0.0 for t in typed])
    return np.full(len(typed), -1.0)


def spaced_keys(view: DocView, line_keys: list[str]) -> list[str]:
    """Each line's text as a key, where a key printed with wide spaces between its characters (合    计,
    名    称) and boxed by the OCR one character at a time reads as the whole key on every one of its
    characters: two or more single-Han-character lines next to each other on a row."""
    out = list(line_keys)
    for row in view.rows:
        run: list[int] = []
        for j in [*row, -1]:
            if j >= 0 and len(line_keys[j]) == 1 and "\u3400" <= line_keys[j] <= "\u9fff":
                run.append(j)
                continue
            if len(run) >= 2:
                whole = "".join(line_keys[k] for k in run)
                for k in run:
                    out[k] = whole
            run = []
    return out


@dataclass
class LineTable:
    """What every proposal's features read of the document's lines, computed once per document."""

    heights: list[float]
    median_h: float
    median_confidence: float  # the OCR confidence of the document's typical line
    widths: dict[int, float]  # page number -> page width
    line_keys: list[str]  # squashed text of each line
    key_texts: list[str]  # each line as a key: a spaced-out key's characters (合 | 计) each read as the whole (合计)
    inline_keys: list[str]  # squashed key part of each "key: value" line ("" when none)
    counts: dict[str, int]  # how often each squashed line text is printed
    bounds: np.ndarray  # (lines, 4)
    pages: np.ndarray
    short: np.ndarray  # lines short enough to be section labels
    wordy: np.ndarray  # digit-free lines: table keys (a column's header "金额", a row's label "合 计")
    middles: np.ndarray
    line_widths: np.ndarray
    around: dict[int, tuple[str, int, int, str]]  # line index -> its surroundings, filled as they are read
    key_probs: np.ndarray | None = None  # how much each line reads as a printed key (value_kinds), once read

    @classmethod
    def of(cls, view: DocView) -> LineTable:
        lines = view.lines
        heights = [max(1.0, ln.bounds[3] - ln.bounds[1]) for ln in lines]
        line_keys = [squash(ln.text) for ln in lines]
        bounds = np.array([ln.bounds for ln in lines], dtype=np.float64).reshape(-1, 4)
        inline_keys = []
        for ln in lines:
            m = INLINE_KEY.match(nfkc(ln.text))
            inline_keys.append(squash(m.group(1)) if m else "")
        counts: dict[str, int] = {}
        for key in line_keys:
            counts[key] = counts.get(key, 0) + 1
        return cls(
            heights=heights,
            median_h=float(np.median(heights)) if heights else 1.0,
            median_confidence=float(np.median([ln.line.confidence for ln in lines])) if lines else 1.0,
            widths={p.page: float(p.width or 1) for p in view.document.pages},
            line_keys=line_keys,
            key_texts=spaced_keys(view, line_keys),
            inline_keys=inline_keys,
            counts=counts,
            bounds=bounds,
            pages=np.array([ln.page for ln in lines]),
            # Short labels to the left of a value, within a few line heights (a section's vertical label 购买方
            # beside its 名称 row): the region a value sits in, read whatever the reading order.
            short=np.array([0 < len(k) <= SECTION_LABEL_CHARS for k in line_keys], dtype=bool),
            wordy=np.array([not re.search(r"\d", ln.text) and bool(k) for ln, k in zip(lines, line_keys, strict=True)]),
            middles=(bounds[:, 1] + bounds[:, 3]) / 2,
            line_widths=bounds[:, 2] - bounds[:, 0],
            around={},
        )

    def surroundings(self, first: DocLine) -> tuple[str, int, int, str]:
        found = self.around.get(first.index)
        if found is None:
            found = self.around[first.index] = self._read_surroundings(first)
        return found

    def _read_surroundings(self, first: DocLine) -> tuple[str, int, int, str]:
        """What sits around a line, the same for every proposal starting on it: the short section labels
        to its left; the column header above it and the label starting its row (a table cell's keys)."""
        x0, y0, x1, _ = first.bounds
        height = self.heights[first.index]
        short, wordy, bounds, line_pages, line_keys = self.short, self.wordy, self.bounds, self.pages, self.line_keys
        middles, widths_ = self.middles, self.line_widths
        near = (
            short
            & (line_pages == first.page)
            & (bounds[:, 2] <= x0 + height)
            & (np.abs(middles - (y0 + height / 2)) <= SECTION_REACH * height)
        )
        same_page = wordy & (line_pages == first.page)
        overlap = np.minimum(bounds[:, 2], x1) - np.maximum(bounds[:, 0], x0)
        header = np.flatnonzero(
            same_page
            & (bounds[:, 3] <= y0 + 0.2 * height)
            & (y0 - bounds[:, 3] <= TABLE_REACH * height)
            & (overlap > 0.3 * np.minimum(widths_, max(1.0, x1 - x0)))
        )
        column = int(header[np.argmax(bounds[header, 3])]) if header.size else -1
        starts = np.flatnonzero(
            same_page & (np.abs(middles - (y0 + height / 2)) <= 0.5 * height) & (bounds[:, 2] <= x0 + 0.5 * height)
        )
        row = int(starts[np.argmin(bounds[starts, 0])]) if starts.size else -1
        # The row label, with the fragments of a spaced-out one ("合" | "计") and the column header.
        label = [j for j in starts.tolist() if j == row or len(line_keys[j]) <= 2]
        # A column header spaced out as one (金    额: 金 | 额) reads whole.
        table_keys = "".join(line_keys[j] for j in label) + (self.key_texts[column] if column >= 0 else "")
        return "".join(line_keys[j] for j in np.flatnonzero(near)), column, row, table_keys


@dataclass
class DocFeatures:
    """What the reader needs of a document, computed once and shared by every field."""

    view: DocView
    proposals: list[Proposal]
    base: np.ndarray  # (P, len(BASE_FEATURES))
    flags: np.ndarray  # (P, 3): is_date, is_amount, is_time
    inline_ids: np.ndarray  # (P,) index into inline_keys, -1 when none
    left_ids: np.ndarray  # (P,) DocView line index of the cell to the left, -1 when none
    above_ids: np.ndarray  # (P,) DocView line index above, -1 when none
    first_ids: np.ndarray  # (P,) the proposal's first line
    gap_left: np.ndarray
    gap_above: np.ndarray
    inline_keys: list[str]  # squashed
    values: list[str]  # squashed proposal texts
    context: list[str]  # squashed text around each proposal (key, left, above and two lines up)
    region: list[str]  # squashed short labels to the left of each proposal (section labels)
    column_ids: np.ndarray  # (P,) DocView line index of the column header above the proposal, -1 when none
    row_ids: np.ndarray  # (P,) DocView line index of the label that starts the proposal's row, -1 when none
    table: list[str]  # squashed row label + column header of each proposal (a table cell's two keys)
    kind_probs: np.ndarray  # (P, len(CLASSES)): what each proposal's text looks like (value_kinds)
    lines_table: LineTable  # the per-line parts, shared with the DocFeatures of a field's extra proposals
    kinds: ValueKindModel | None = None

    def __post_init__(self) -> None:
        self.context_chars = [set(c) for c in self.context]
        self.region_chars = [set(c) for c in self.region]
        self.table_chars = [set(c) for c in self.table]
        self.name_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # Per line, so shared by every DocFeatures of the same document (see field_rows' extra proposals).
        self.line_cache: dict[str, np.ndarray] = {}
        self.before_key_cache: dict[str, list[Proposal]] = {}
        self._printed_lines: list[_PrintedLine] | None = None

    @property
    def line_keys(self) -> list[str]:
        """Each line as a key (a spaced-out key's characters read whole: LineTable.key_texts)."""
        return self.lines_table.key_texts

    @property
    def line_inline_keys(self) -> list[str]:
        """The squashed key part of each "key: value" line ("" when none)."""
        return self.lines_table.inline_keys

    def line_key_probs(self) -> np.ndarray:
        """How much each line of the document reads as a printed key (value_kinds' "key"), read once."""
        table_ = self.lines_table
        if table_.key_probs is None:
            texts = [ln.text for ln in self.view.lines]
            table_.key_probs = (
                self.kinds.probabilities(texts)[:, CLASSES.index("key")]
                if self.kinds is not None and texts
                else np.zeros(len(texts))
            )
        return table_.key_probs

    @property
    def printed_lines(self) -> list[_PrintedLine]:
        """The document's lines as the glued-key proposals read them, read once for every field."""
        if self._printed_lines is None:
            self._printed_lines = printed_lines(self.view)
        return self._printed_lines

    @classmethod
    def build(
        cls,
        view: DocView,
        proposals: list[Proposal] | None = None,
        kinds: ValueKindModel | None = None,
        lines_table: LineTable | None = None,
    ) -> DocFeatures:
        """Features of ``proposals`` (default: every generator's proposals for the document); ``kinds`` reads
        what each proposal's text looks like (without it, those features are 0); ``lines_table``: the
        document's :class:`LineTable` when already read (a field's extra proposals reuse it)."""
        props = proposals if proposals is not None else document_proposals(view)
        table_ = lines_table if lines_table is not None else LineTable.of(view)
        lines, n_lines, heights, median_h = view.lines, max(1, len(view.lines)), table_.heights, table_.median_h
        widths, counts = table_.widths, table_.counts

        amounts: list[float] = []
        parsed_amounts: list[float | None] = []
        rows, flags_rows = [], []
        inline_index: dict[str, int] = {}
        inline_ids, left_ids, above_ids, first_ids, gap_l, gap_a = [], [], [], [], [], []
        values, context, region = [], [], []
        values_raw = [p.text for p in props]
        column_ids, row_ids, table = [], [], []
        for prop in props:
            printed = parse_amount(prop.text) if re.search(r"\d", prop.text) else None
            value = float(printed) if printed is not None else None
            parsed_amounts.append(value)
            if value is not None:
                amounts.append(value)
        order = sorted(set(amounts), reverse=True)
        rank = {v: i for i, v in enumerate(order)}

        for prop, amount in zip(props, parsed_amounts, strict=True):
            first = lines[prop.refs[0]]
            x0, y0, x1, _ = first.bounds
            height = heights[first.index]
            page_w = widths.get(first.page, 1.0)
            squashed = squash(prop.text)
            digit, alpha, cjk, upper = _fractions(prop.text)
            is_date = 1.0 if re.search(r"\d", prop.text) and parse_date(prop.text) else 0.0
            is_amount = 1.0 if amount is not None else 0.0
            is_time = 1.0 if parse_time(prop.text) else 0.0
            flags_rows.append((is_date, is_amount, is_time))
            text = prop.text.strip()
            keylike = 1.0 if text.endswith((":", "：")) or squashed in PRINTED_KEYS else 0.0
            amount_rank = rank[amount] / max(1, len(order)) if amount is not None else -1.0
            rows.append(
                (
                    float(np.log1p(len(text))), digit, alpha, cjk, upper, float(len(text.split())),
                    is_date, is_amount, is_time,
                    float(SPAN_KINDS.index(prop.typed) + 1) if prop.typed in SPAN_KINDS else 0.0,
                    float(len(prop.refs)),
                    view.relative_y(first.index), x0 / page_w, x1 / page_w, first.index / n_lines, height / median_h,
                    0.0 if prop.inline_key else 1.0, keylike, 1.0 if re.search(r"[:：]", text) else 0.0,
                    *(1.0 if any(s.startswith(g) for s in prop.sources) else 0.0
                      for g in ("line", "after_key", "typed", "block", "row_cells", "rule",
                                "pairs_in_line", "spaced_key", "name_prefix", "before_key")),
                    amount_rank, 1.0 if amount is not None and rank[amount] == 0 else 0.0,
                    float(counts.get(squashed, 0)),
                    *_wrapping(view, prop, height),
                    # How much less sure the OCR is of the proposal's least sure line than of the document's
                    # typical line (a misread value does not match); relative, so that clean text reads as 0.
                    min(lines[i].line.confidence for i in prop.refs) - table_.median_confidence,
                )
            )  # fmt: skip
            if prop.inline_key:
                key = squash(prop.inline_key)
                before = view.left_of(first.index)
                # A spaced-out key the OCR split in two ("名" | "称：个人"): the fragment on the left is part of it.
                if (
                    len(key) <= 2
                    and before is not None
                    and len(squash(before.text)) <= 3
                    and ":" not in nfkc(before.text)
                ):
                    key = squash(before.text) + key
                inline_ids.append(inline_index.setdefault(key, len(inline_index)))
            else:
                inline_ids.append(-1)
            left = view.left_of(first.index) if not prop.inline_key else None
            above = view.above(first.index)
            left_ids.append(left.index if left else -1)
            above_ids.append(above.index if above else -1)
            first_ids.append(first.index)
            gap_l.append((x0 - left.bounds[2]) / height if left else -1.0)
            gap_a.append((y0 - above.bounds[3]) / height if above else -1.0)
            values.append(squashed)
            around = [prop.inline_key]
            around += [lines[j].text for j in (left_ids[-1], above_ids[-1]) if j >= 0]
            around += [lines[j].text for j in range(max(0, first.index - 2), first.index)]
            context.append(squash(" ".join(around)))
            surroundings = table_.surroundings(first)
            region.append(surroundings[0])
            column_ids.append(surroundings[1])
            row_ids.append(surroundings[2])
            table.append(surroundings[3])
        width = len(BASE_FEATURES)
        return cls(
            view=view,
            proposals=props,
            base=np.array(rows, dtype=np.float64).reshape(-1, width),
            flags=np.array(flags_rows, dtype=np.float64).reshape(-1, 3),
            inline_ids=np.array(inline_ids, dtype=np.int64),
            left_ids=np.array(left_ids, dtype=np.int64),
            above_ids=np.array(above_ids, dtype=np.int64),
            first_ids=np.array(first_ids, dtype=np.int64),
            gap_left=np.array(gap_l),
            gap_above=np.array(gap_a),
            inline_keys=list(inline_index),
            values=values,
            context=context,
            region=region,
            column_ids=np.array(column_ids, dtype=np.int64),
            row_ids=np.array(row_ids, dtype=np.int64),
            table=table,
            kind_probs=kinds.probabilities(values_raw) if kinds is not None else np.zeros((len(props), len(CLASSES))),
            lines_table=table_,
            kinds=kinds,
        )


@dataclass
class FieldRows:
    """The feature matrix of one field over a document's proposals (plus the field's rule candidates)."""

    proposals: list[Proposal]
    matrix: np.ndarray
    rule_candidates: list[Candidate]


def _pick(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    out = np.zeros(len(ids))
    mask = ids >= 0
    if values.size:
        out[mask] = values[ids[mask]]
    return out


def rule_proposals(view: DocView, spec: FieldSpec) -> list[Candidate]:
    """The field-specific rule candidates, offered to the reader as proposals with their rule score."""
    if not spec.extractive:
        return []
    return generate(view, spec)


def _name_similarity(doc: DocFeatures, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(proposal texts, printed keys of the proposals) against one other asked field's printed names: a
    proposal that reads like another field's name is a key, and a proposal under another field's key is that
    field's."""
    cache_key = "\x1f".join(names)
    cached = doc.name_cache.get(cache_key)
    if cached is None:
        value_r, _ = _similarities(names, doc.values)
        # The lines are the document's, whatever proposals this DocFeatures holds: computed once per name.
        line_r = doc.line_cache.get(cache_key)
        if line_r is None:
            line_r = doc.line_cache[cache_key] = _similarities(names, doc.line_keys)[0]
        inline_r, _ = _similarities(names, doc.inline_keys)
        key_r = np.maximum.reduce(
            [_pick(inline_r, doc.inline_ids), _pick(line_r, doc.left_ids), _pick(line_r, doc.above_ids)]
        )
        cached = doc.name_cache[cache_key] = (value_r, key_r)
    return cached


def other_printed_names(spec: FieldSpec, schema_fields: Sequence[str | FieldSpec]) -> list[list[str]]:
    """The printed names of every other asked field (a bare name's, or a spec's name and aliases), without
    the ones this field shares with them."""
    own = set(field_names(spec)[0])
    out = []
    for other in schema_fields:
        other_spec = other if isinstance(other, FieldSpec) else FieldSpec(name=other)
        if other_spec.name == spec.name:
            continue
        names = [n for n in field_names(other_spec)[0] if n not in own]
        if names:
            out.append(names)
    return out


def _coverage(name_chars: list[set[str]], texts: list[set[str]], keys: list[str]) -> np.ndarray:
    """For each text, the largest share of one name's characters it holds; ``keys`` (the texts as strings)
    compute each distinct text once (the proposals of one line share their surroundings)."""
    done: dict[str, float] = {}
    out = np.empty(len(texts))
    for i, (key, text) in enumerate(zip(keys, texts, strict=True)):
        value = done.get(key)
        if value is None:
            value = done[key] = max((len(chars & text) / len(chars) for chars in name_chars), default=0.0)
        out[i] = value
    return out


def other_field_similarity(doc: DocFeatures, others: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The most any other asked field's printed names resemble each proposal, and each proposal's key."""
    n = len(doc.proposals)
    value_other, key_other = np.zeros(n), np.zeros(n)
    for names in others:
        value_r, key_r = _name_similarity(doc, names)
        value_other, key_other = np.maximum(value_other, value_r[:n]), np.maximum(key_other, key_r[:n])
    return value_other, key_other


def _cut_after_word_chars(text: str, count: int) -> int:
    """The index in ``text`` just after its first ``count`` word characters (squash() keeps only those)."""
    seen = cut = 0
    while cut < len(text) and seen < count:
        seen += 1 if _NOT_WORD.fullmatch(text[cut].casefold()) is None else 0
        cut += 1
    return cut


def before_key_proposals(
    view: DocView,
    other_names: list[str],
    min_chars: int = 2,
    cache: dict[str, list[Proposal]] | None = None,
    lines: list[_PrintedLine] | None = None,
) -> list[Proposal]:
    """A value run into the next printed key with no space ("居民身份证证件号码" when 证件号码 is asked too):
    the text of a line before another asked field's name.  ``cache`` keeps each name's proposals for the
    document's other fields (every field of a form looks for the names of all the others); ``lines``: the
    document's :func:`printed_lines`, when already read."""
    cache = {} if cache is None else cache
    if lines is None and any(n not in cache for n in other_names):
        lines = printed_lines(view)
    out: list[tuple[int, int, Proposal]] = []
    for order, name in enumerate(other_names):
        found = cache.get(name)
        if found is None:
            found = cache[name] = []
            for item in lines or []:
                position = item.squashed.find(name) if len(name) >= min_chars else -1
                if position > 0:
                    value = item.text[: _cut_after_word_chars(item.text, position)].strip(" :：")
                    if value:
                        found.append(Proposal(value, [item.index], {"before_key"}))
        out.extend((prop.refs[0], order, prop) for prop in found)
    # In reading order, then by name, whatever was cached first.
    return [prop for _, _, prop in sorted(out, key=lambda entry: entry[:2])]


@dataclass
class _PrintedLine:
    """A line as the glued-key proposals read it: its text (NFKC), squashed text, and the squashed prefixes up to each
    of its first spaces or full stops (with where the prefix ends and the rest starts)."""

    index: int
    text: str
    squashed: str
    prefixes: list[tuple[str, int, int]]


def printed_lines(view: DocView) -> list[_PrintedLine]:
    out = []
    for item in view.lines:
        text = nfkc(item.text)
        cuts = [(squash(text[: m.start()]), m.start(), m.end()) for m in list(re.finditer(r"[\s.]+", text))[:6]]
        out.append(_PrintedLine(item.index, text, squash(text), cuts))
    return out


def name_prefix_proposals(
    view: DocView, names: list[str], min_chars: int = 2, lines: list[_PrintedLine] | None = None
) -> list[Proposal]:
    """Values glued to their key with no colon or space ("姓氏易楠壮" for "1.Surname(Familyname)(x)姓氏"):
    a line that starts with the end of the field's name (two characters or more) proposes the rest.
    ``lines``: the document's :func:`printed_lines`, when already read for another field."""
    out = []
    for item in lines if lines is not None else printed_lines(view):
        text, line = item.text, item.squashed
        best = 0
        for name in names:
            for size in range(min(len(name), len(line) - 1), min_chars - 1, -1):
                if line.startswith(name[-size:]):
                    best = max(best, size)
                    break
        if not best:
            # An OCR slip in the key ("DepaItment CORPORATE AFFAIRS"): a prefix up to a space or a full stop
            # that reads like the name.
            for prefix, start, end in item.prefixes:
                if len(prefix) >= 3 and any(fuzz.ratio(prefix, name) >= 80 for name in names):
                    value = text[end:].strip(" :：")
                    if value:
                        out.append(Proposal(value, [item.index], {"name_prefix"}, inline_key=text[:start]))
            continue
        # The printed text up to the character after the matched key (the key counts word characters only).
        cut = _cut_after_word_chars(text, best)
        value = text[cut:].strip(" :：")
        if value:
            out.append(Proposal(value, [item.index], {"name_prefix"}, inline_key=text[:cut]))
    return out


def field_rows(doc: DocFeatures, spec: FieldSpec, schema_fields: Sequence[str | FieldSpec] | None = None) -> FieldRows:
    """Features of every proposal for one field; the field's rule candidates join as extra proposals.

    ``schema_fields`` are all the fields asked of the document (specs, or bare names): the printed names of
    the others tell keys from values (on a form asked 学生姓名 and 出生日期, the cell 出生日期 right of
    学生姓名 is a key; on an invoice asked 金额 and 税额, 合计金额 is the key of 金额, not of 税额)."""
    names, occurrence = field_names(spec)
    other_names = other_printed_names(spec, schema_fields or [])
    value_other, key_other = other_field_similarity(doc, other_names)
    kind = kind_of(spec)
    rules = rule_proposals(doc.view, spec)
    # Rule candidates map onto proposals of the same text; the others become proposals of their own.
    by_text = {value: i for i, value in enumerate(doc.values)}
    rule_score = np.zeros(len(doc.proposals))
    rule_rank = np.full(len(doc.proposals), 99.0)
    rule_source = np.zeros(len(doc.proposals))
    extra: list[Proposal] = []
    extra_rule: list[tuple[float, float, float]] = []
    for rank, cand in enumerate(rules):
        source = float(_RULE_SOURCES.get(cand.source.split(":")[0], 6))
        key = squash(cand.text)
        idx = by_text.get(key)
        if idx is not None:
            if cand.score > rule_score[idx]:
                rule_score[idx], rule_rank[idx], rule_source[idx] = cand.score, rank, source
        else:
            extra.append(Proposal(cand.text, list(cand.refs), {f"rule:{cand.source}"}))
            extra_rule.append((cand.score, float(rank), source))
    # The same text on another line is another printing of it (a form's second applicant's 居民身份证, glued to
    # the key after it): kept, so an occurrence that may not read the first one can read it.
    seen = {(value, tuple(p.refs)) for value, p in zip(doc.values, doc.proposals, strict=True)}
    seen |= {(squash(p.text), tuple(p.refs)) for p in extra}
    others = [n for group in other_names for n in group]
    glued = before_key_proposals(doc.view, others, cache=doc.before_key_cache, lines=doc.printed_lines)
    for prop in [*name_prefix_proposals(doc.view, names, lines=doc.printed_lines), *glued]:
        if (squash(prop.text), tuple(prop.refs)) not in seen:
            seen.add((squash(prop.text), tuple(prop.refs)))
            extra.append(prop)
            extra_rule.append((0.0, 99.0, 0.0))
    if extra:
        more = DocFeatures.build(doc.view, extra, doc.kinds, doc.lines_table)
        more.line_cache = doc.line_cache
        doc = _concat(doc, more)
        rule_score = np.concatenate([rule_score, [r[0] for r in extra_rule]])
        rule_rank = np.concatenate([rule_rank, [r[1] for r in extra_rule]])
        rule_source = np.concatenate([rule_source, [r[2] for r in extra_rule]])
        # Extra proposals are scored against the other names on their own (they are not in the cache).
        extra_value, extra_key = other_field_similarity(more, other_names)
        value_other = np.concatenate([value_other, extra_value])
        key_other = np.concatenate([key_other, extra_key])

    line_r, line_p = _similarities(names, doc.line_keys)
    lik_r, lik_p = _similarities(names, doc.line_inline_keys)
    key_r, key_p = _similarities(names, doc.inline_keys)
    sim_inline, part_inline = _pick(key_r, doc.inline_ids), _pick(key_p, doc.inline_ids)
    # A line as a key: its whole text, or its own "key:" part when it is a "key: value" line.
    as_key_r, as_key_p = np.maximum(line_r, lik_r), np.maximum(line_p, lik_p)
    sim_left, part_left = _pick(as_key_r, doc.left_ids), _pick(as_key_p, doc.left_ids)
    sim_above, part_above = _pick(as_key_r, doc.above_ids), _pick(as_key_p, doc.above_ids)
    stacked = np.stack([sim_inline, sim_left, sim_above], axis=1)
    sim_best = stacked.max(axis=1)
    best_relation = np.where(sim_best > 0, stacked.argmax(axis=1) + 1, 0).astype(float)
    self_r, self_p = _similarities(names, doc.values)
    name_chars = [set(n) for n in names if n]
    cover = _coverage(name_chars, doc.context_chars, doc.context)
    region_cover = _coverage(name_chars, doc.region_chars, doc.region)
    table_cover = _coverage(name_chars, doc.table_chars, doc.table)

    # The n-th printed key of the field, in reading order ("姓名 (2)": the second 姓名 on the form).
    key_lines = [i for i in range(len(doc.line_keys)) if as_key_r[i] >= KEY_LINE_SIMILARITY]
    ordinal_of = {line: k + 1 for k, line in enumerate(key_lines)}
    key_line = np.where(
        best_relation == 1,
        doc.first_ids,
        np.where(best_relation == 2, doc.left_ids, np.where(best_relation == 3, doc.above_ids, -1)),
    )
    key_ordinal = np.array([float(ordinal_of.get(int(k), 0)) for k in key_line])
    kinds = KINDS.index(kind) if kind in KINDS else 0
    n = len(doc.proposals)
    typed = [p.typed for p in doc.proposals]
    line_keys = doc.line_key_probs()
    field_part = np.column_stack(
        [
            np.full(n, float(kinds)), _kind_fit(kind, doc.flags, typed),
            sim_inline, part_inline, sim_left, part_left, sim_above, part_above,
            sim_best, best_relation, self_r, self_p, cover, region_cover,
            doc.gap_left, doc.gap_above,
            np.full(n, float(occurrence)), key_ordinal, (key_ordinal == occurrence).astype(float),
            np.full(n, float(len(key_lines))),
            rule_score, rule_rank, rule_source,
            value_other, key_other, sim_best - key_other,
            # Against the field's other proposals: is this one next to the document's best key for the field?
            _gap(sim_best), _gap(cover), _gap(region_cover),
            # How well any line of the document prints the field's name (a field never named is likely absent).
            np.full(n, float(max(as_key_r.max(initial=0.0), key_r.max(initial=0.0)))),
            # A table cell: its column's header and its row's label ("合计" + "金额" spell 合计金额).
            _pick(as_key_r, doc.column_ids), _pick(as_key_r, doc.row_ids), table_cover,
            _within_names(names, doc.line_keys, doc.column_ids), _within_names(names, doc.line_keys, doc.row_ids),
            doc.kind_probs[:, CLASSES.index(coarse_kind(spec))], doc.kind_probs[:, 0],
            # Whether the proposal reads as a printed key itself (a neighbouring question, not its answer),
            # and whether the line to its left or above does (it sits where some field's value is printed).
            doc.kind_probs[:, CLASSES.index("key")],
            np.maximum(_pick(line_keys, doc.left_ids), _pick(line_keys, doc.above_ids)),
        ]
    )  # fmt: skip
    matrix = np.hstack([doc.base, field_part]) if n else np.zeros((0, len(FEATURES)))
    return FieldRows(doc.proposals, matrix, rules)


def _within_names(names: list[str], line_keys: list[str], ids: np.ndarray) -> np.ndarray:
    """1 where the line (a column header, a row label) is printed inside one of the field's names: 金额 and
    合计 inside 合计金额, where 税额 is not."""
    inside = {k: float(any(k in n for n in names)) for k in {line_keys[i] for i in ids.tolist() if i >= 0}}
    return np.array([inside.get(line_keys[i], 0.0) if i >= 0 and line_keys[i] else 0.0 for i in ids.tolist()])


def _wrapping(view: DocView, prop: Proposal, height: float) -> tuple[float, float, float]:
    """Whether the value wraps on: a line below its last one continues it (a cell's second line left out),
    that line's gap, and the widest gap between the value's own lines (in line heights)."""
    lines = view.lines
    last = lines[prop.refs[-1]]
    nxt = view.below(last.index)
    follows = nxt is not None and nxt.index not in prop.refs and continues(view, lines[prop.refs[0]], nxt)
    gap_below = (nxt.bounds[1] - last.bounds[3]) / height if follows and nxt is not None else -1.0
    tops = sorted((lines[j].bounds[1], lines[j].bounds[3]) for j in prop.refs)
    inner = [(b[0] - a[1]) / height for a, b in itertools.pairwise(tops) if b[0] > a[0] + 0.5 * height]
    return (1.0 if follows else 0.0), gap_below, max(inner, default=0.0)


def _gap(values: np.ndarray) -> np.ndarray:
    """How far each proposal is below the best of its field."""
    return values.max(initial=0.0) - values if values.size else values


def _concat(a: DocFeatures, b: DocFeatures) -> DocFeatures:
    """Proposals of ``a`` then ``b`` (same document); ``b``'s inline-key ids are shifted past ``a``'s."""
    shift = len(a.inline_keys)
    return DocFeatures(
        view=a.view,
        proposals=[*a.proposals, *b.proposals],
        base=np.vstack([a.base, b.base]),
        flags=np.vstack([a.flags, b.flags]),
        inline_ids=np.concatenate([a.inline_ids, np.where(b.inline_ids >= 0, b.inline_ids + shift, -1)]),
        left_ids=np.concatenate([a.left_ids, b.left_ids]),
        above_ids=np.concatenate([a.above_ids, b.above_ids]),
        first_ids=np.concatenate([a.first_ids, b.first_ids]),
        gap_left=np.concatenate([a.gap_left, b.gap_left]),
        gap_above=np.concatenate([a.gap_above, b.gap_above]),
        inline_keys=[*a.inline_keys, *b.inline_keys],
        values=[*a.values, *b.values],
        context=[*a.context, *b.context],
        region=[*a.region, *b.region],
        column_ids=np.concatenate([a.column_ids, b.column_ids]),
        row_ids=np.concatenate([a.row_ids, b.row_ids]),
        table=[*a.table, *b.table],
        kind_probs=np.vstack([a.kind_probs, b.kind_probs]),
        lines_table=a.lines_table,
        kinds=a.kinds,
    )

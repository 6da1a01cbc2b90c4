"""Finding a value a model wrote in the OCR text: the line(s) it came from, or nothing.

The generate strategy lets the model write values; only values found here come back, with the
page, box and OCR confidence of the lines that hold them.  The search is tolerant of OCR slips
(spaces, case, full-width forms, a wrong character in a long name) but not of a different value:

- dates are compared as calendar days ("2020年9月24日" in the text grounds "2020-09-24");
- amounts as numbers ("RM 54.50" grounds "54.5"), never by edit similarity;
- every digit must be there, in order: "7 years" is not "5 years", however similar the rest;
- other text exactly after squashing (NFKC, no whitespace, lower case), else by partial-ratio
  similarity on one line or a run of up to three consecutive lines (wrapped addresses).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz

from chatocr.document import Box, union_box
from chatocr.extract.candidates import DocView
from chatocr.extract.normalize import find_amounts, find_dates, nfkc, parse_amount, parse_date, strip_keys
from chatocr.fields.spec import FieldSpec, FieldType

# Partial-ratio similarity (0..1) a value must reach against its line(s): the same bar as the
# other strategies' grounding (extractor.GROUND_MIN_SIMILARITY), so every strategy grounds alike.
MIN_SIMILARITY = 0.8
# Shorter values must occur exactly: one slip in three characters is another value.
MIN_FUZZY_CHARS = 4
# Values that wrap: a run of at most this many consecutive lines is searched as one text.
MAX_WINDOW_LINES = 3


@dataclass
class Evidence:
    refs: list[int]  # DocView line indices, in reading order
    raw: str  # the text as the OCR read it
    similarity: float  # 0..1
    page: int
    box: Box
    ocr_confidence: float


def squash_with_map(text: str) -> tuple[str, list[int]]:
    """NFKC, whitespace removed, lower case; and for each kept character its position in ``nfkc(text)``."""
    chars: list[str] = []
    positions: list[int] = []
    for pos, ch in enumerate(nfkc(text)):
        if ch.isspace():
            continue
        low = ch.lower()
        chars.append(low if len(low) == 1 else ch)
        positions.append(pos)
    return "".join(chars), positions


def _digits(text: str) -> str:
    return re.sub(r"\D", "", nfkc(text))


def value_kind(spec: FieldSpec) -> str:
    if spec.type is FieldType.date or spec.normalize in ("date", "date_iso"):
        return "date"
    if spec.type is FieldType.amount or spec.normalize == "amount":
        return "amount"
    return "text"


class Grounder:
    """The OCR text of one document prepared once for locating many values."""

    def __init__(self, view: DocView) -> None:
        self.view = view
        self.windows: list[tuple[list[int], str]] = []  # (line indices, text joined with spaces)
        lines = view.lines
        for start in range(len(lines)):
            for size in range(1, MAX_WINDOW_LINES + 1):
                refs = list(range(start, min(len(lines), start + size)))
                if len(refs) < size or lines[refs[-1]].page != lines[start].page:
                    break
                self.windows.append((refs, " ".join(lines[i].text for i in refs)))
        self._squashed = [squash_with_map(text) for _, text in self.windows]

    def locate(self, value: str, spec: FieldSpec) -> Evidence | None:
        """The smallest run of lines that holds ``value`` (printed key stripped), or None."""
        text = strip_keys(value, spec.aliases)
        if not text.strip():
            return None
        kind = value_kind(spec)
        if kind == "date" and (iso := parse_date(text)):
            return self._by_parse(lambda hay: [(s, e) for s, e, v in find_dates(hay) if v == iso])
        if kind == "amount" and (amount := parse_amount(text)):
            found = self._by_parse(lambda hay: [(s, e) for s, e, v in find_amounts(hay) if v == amount])
            return found or self._by_text(text, exact_only=True)
        return self._by_text(text, exact_only=False)

    # -- searches ------------------------------------------------------------------------
    def _evidence(self, refs: list[int], raw: str, similarity: float) -> Evidence:
        lines = [self.view.lines[i] for i in refs]
        return Evidence(
            refs=refs,
            raw=raw.strip(),
            similarity=similarity,
            page=lines[0].page,
            box=union_box([item.line.box for item in lines]),
            ocr_confidence=min(item.line.confidence for item in lines),
        )

    def _by_parse(self, spans_of: Callable[[str], list[tuple[int, int]]]) -> Evidence | None:
        for refs, text in self.windows:  # windows grow per start line: the first hit is the smallest
            spans = spans_of(nfkc(text))
            if spans:
                start, end = spans[0]
                return self._evidence(self._trim(refs, nfkc(text), start, end), nfkc(text)[start:end], 1.0)
        return None

    def _trim(self, refs: list[int], joined: str, start: int, end: int) -> list[int]:
        """The lines of a window that the span [start, end) of its joined text touches."""
        kept, pos = [], 0
        for i in refs:
            length = len(nfkc(self.view.lines[i].text))
            if pos < end and start < pos + length:
                kept.append(i)
            pos += length + 1  # the joining space
        return kept or refs[:1]

    def _by_text(self, text: str, *, exact_only: bool) -> Evidence | None:
        needle, _ = squash_with_map(text)
        if not needle:
            return None
        for (refs, joined), (hay, positions) in zip(self.windows, self._squashed, strict=True):
            at = hay.find(needle)
            if at >= 0:
                start, end = positions[at], positions[at + len(needle) - 1] + 1
                return self._evidence(self._trim(refs, nfkc(joined), start, end), nfkc(joined)[start:end], 1.0)
        if exact_only or len(needle) < MIN_FUZZY_CHARS:
            return None
        digits = _digits(needle)
        best: tuple[float, int, int, int] | None = None  # (score, window, start, end)
        for w, (hay, _positions) in enumerate(self._squashed):
            if len(hay) < len(needle) * MIN_SIMILARITY:
                continue  # partial_ratio would search the shorter text in the longer: "7" inside "7years"
            align = fuzz.partial_ratio_alignment(needle, hay, score_cutoff=MIN_SIMILARITY * 100)
            if align is None:
                continue
            if best is None or align.score > best[0] + 1e-9:
                best = (align.score, w, align.dest_start, align.dest_end)
        if best is None:
            return None
        score, w, d_start, d_end = best
        refs, joined = self.windows[w]
        positions = self._squashed[w][1]
        start, end = positions[d_start], positions[max(d_start, d_end - 1)] + 1
        raw = nfkc(joined)[start:end]
        if len(squash_with_map(raw)[0]) < len(needle) * MIN_SIMILARITY:
            return None
        if digits and digits not in _digits(raw):
            return None  # another digit is another value ("5 years", a code), however similar the rest
        return self._evidence(self._trim(refs, nfkc(joined), start, end), raw, score / 100)

"""Proposals: every span of a document that could be some field's value, with the printed text
that may be its key.

The learned reader (:mod:`chatocr.extract.reader`) scores proposals against a field; it can only
answer what is proposed, so these generators aim at recall, not precision.  They know nothing of
any field: what a field is (its name, aliases, kind) enters only through the reader's features.

Each generator is a small function registered under a name (``@proposal_generator("line")``) and
returns :class:`Proposal` objects; :func:`document_proposals` runs them all once per document and
merges proposals of the same text from the same lines.  ``PROPOSALS_VERSION`` is recorded in the
reader's manifest: a model trained on other proposals warns when loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from chatocr.extract.candidates import DocLine, DocView, typed_spans
from chatocr.extract.normalize import nfkc, trim

PROPOSALS_VERSION = 5


# "Key: value" inside one line: a short key, then a colon (ASCII or full-width).
INLINE_KEY = re.compile(r"^\s*([^:：]{1,40}?)\s*[:：]\s*(.+?)\s*$")
# Typed spans worth proposing on their own inside a longer line (dates in "Date: 12/01/2019 10:22").
SPAN_KINDS = ("date", "amount", "time", "phone", "credit_code", "id_card", "code", "train_no", "station", "seat")
# A wrapped value continues on at most this many lines below its first one.
MAX_BLOCK_LINES = 6


@dataclass
class Proposal:
    text: str  # the value as printed, key stripped
    refs: list[int]  # DocView line indices it is made of
    sources: set[str] = field(default_factory=set)
    inline_key: str = ""  # text before the value on its first line ("" when the value starts the line)
    typed: str | None = None  # the kind the span was found as ("date", "amount", ...), else None


Generator = Callable[[DocView], Iterable[Proposal]]
GENERATORS: dict[str, Generator] = {}


def proposal_generator(name: str) -> Callable[[Generator], Generator]:
    """Register a generator; every registered generator runs on every document."""

    def decorator(func: Generator) -> Generator:
        GENERATORS[name] = func
        return func

    return decorator


def _spaces(text: str) -> str:
    return re.sub(r"\s+", " ", nfkc(text)).strip()


def _clean(text: str) -> str:
    return trim(re.sub(r"\s+", " ", nfkc(text)))


@proposal_generator("line")
def whole_lines(view: DocView) -> Iterable[Proposal]:
    """Every OCR line as it is (a value printed alone in its cell, a store name, a table cell)."""
    for item in view.lines:
        text = _clean(item.text)
        if text:
            yield Proposal(text, [item.index], {"line"})


@proposal_generator("after_key")
def after_inline_key(view: DocView) -> Iterable[Proposal]:
    """The part after "key:" inside a line ("证书编号：A123" -> "A123", key "证书编号")."""
    for item in view.lines:
        match = INLINE_KEY.match(nfkc(item.text))
        if not match:
            continue
        value = _clean(match.group(2))
        if value:
            yield Proposal(value, [item.index], {"after_key"}, inline_key=_clean(match.group(1)))


_PAIR_SEPARATORS = " ★☆□■|/;；,，"
# A short Chinese key, a space, then its value ("现职业 法律顾问").
_SPACED_KEY = re.compile(r"^\s*([\u4e00-\u9fff]{2,8})\s+(\S.*?)\s*$")


@proposal_generator("pairs_in_line")
def pairs_in_one_line(view: DocView) -> Iterable[Proposal]:
    """Each value of a line holding several "key: value" pairs ("*职务：法定代表人★证件类型：身份证").

    Between two colons sit a value and the next pair's key; where they part is not marked, so every
    plausible cut is proposed: at a separator, or (no separator) 2-6 characters before the next colon."""
    for item in view.lines:
        text = nfkc(item.text)
        colons = [m.start() for m in re.finditer(r"[:：]", text)]
        if len(colons) < 2:
            continue
        for number, colon in enumerate(colons):
            if number + 1 == len(colons):
                values = [_clean(text[colon + 1 :])]
            else:
                segment = text[colon + 1 : colons[number + 1]]
                cuts = [k for k in range(1, len(segment)) if segment[k] in _PAIR_SEPARATORS]
                if not cuts:
                    cuts = [len(segment) - k for k in range(2, 7) if len(segment) - k > 0]
                values = list(dict.fromkeys(_clean(segment[:cut]) for cut in cuts))  # ordered: same answers every run
            for value in values:
                if value:
                    yield Proposal(value, [item.index], {"pairs_in_line"}, inline_key=_key_before(text, colon))


def _key_before(text: str, colon: int) -> str:
    """The key that ends at a colon: back to the previous separator or colon (at most 12 characters)."""
    start = colon
    while start > 0 and colon - start < 12 and text[start - 1] not in _PAIR_SEPARATORS + ":：":
        start -= 1
    return _clean(text[start:colon])


@proposal_generator("spaced_key")
def after_spaced_key(view: DocView) -> Iterable[Proposal]:
    """A short Chinese key followed by a space and the value, with no colon."""
    for item in view.lines:
        match = _SPACED_KEY.match(nfkc(item.text))
        if match and not INLINE_KEY.match(nfkc(item.text)):
            yield Proposal(_clean(match.group(2)), [item.index], {"spaced_key"}, inline_key=match.group(1))


@proposal_generator("typed")
def typed_values(view: DocView) -> Iterable[Proposal]:
    """Dates, amounts, times, phone numbers, codes and IDs inside lines; the text before the span is its key."""
    for item in view.lines:
        text = nfkc(item.text)
        for kind in SPAN_KINDS:
            for start, end, _value in typed_spans(kind, text):
                span = _clean(text[start:end])
                if not span:
                    continue
                key = _clean(re.sub(r"[:：]\s*$", "", text[:start]))
                yield Proposal(span, [item.index], {f"typed:{kind}"}, inline_key=key, typed=kind)


def continues(view: DocView, first: DocLine, nxt: DocLine) -> bool:
    """A line below that carries on a wrapped value: left-aligned or centred with it (receipt headers are
    centred), alone in its row, not a new key."""
    height = max(1.0, first.bounds[3] - first.bounds[1])
    fx0, _, fx1, _ = first.bounds
    nx0, _, nx1, _ = nxt.bounds
    left_aligned = abs(nx0 - fx0) <= 1.5 * height
    centred = abs((nx0 + nx1) / 2 - (fx0 + fx1) / 2) <= 2.0 * height
    if not (left_aligned or centred):
        return False
    if len(view.rows[nxt.row]) > 1:
        return False
    return not INLINE_KEY.match(nfkc(nxt.text))


@proposal_generator("block")
def wrapped_blocks(view: DocView) -> Iterable[Proposal]:
    """A line with the lines that continue it below (addresses, 经营范围, long names), 2..6 lines."""
    for item in view.lines:
        match = INLINE_KEY.match(nfkc(item.text))
        # Pieces keep their own punctuation ("12 Harbour Road," then "Kowloon Bay"); only the ends are trimmed.
        head = _spaces(match.group(2) if match else item.text)
        key = _clean(match.group(1)) if match else ""
        if not head:
            continue
        refs, texts = [item.index], [head]
        current = item
        while len(refs) < MAX_BLOCK_LINES:
            nxt = view.below(current.index)
            if nxt is None or nxt.index in refs or not continues(view, item, nxt):
                break
            refs.append(nxt.index)
            texts.append(_spaces(nxt.text))
            current = nxt
            yield Proposal(_clean(_join(texts)), list(refs), {"block"}, inline_key=key)


@proposal_generator("row_cells")
def row_remainder(view: DocView) -> Iterable[Proposal]:
    """The cells of a row after its first one, joined ("Total | RM | 12.50" -> "RM 12.50")."""
    for row in view.rows:
        if len(row) < 3:
            continue
        texts = [_clean(view.lines[j].text) for j in row[1:]]
        yield Proposal(_join(texts), list(row[1:]), {"row_cells"})


def _join(texts: list[str]) -> str:
    """Join wrapped pieces: no space between CJK pieces, one space otherwise."""
    out = ""
    for piece in texts:
        if not piece:
            continue
        glue = (
            ""
            if (out and re.search(r"[\u3400-\u9fff，；、（）]$", out) and re.match(r"[\u3400-\u9fff]", piece))
            else " "
        )
        out = piece if not out else out + glue + piece
    return out


def document_proposals(view: DocView) -> list[Proposal]:
    """All generators' proposals for one document; the same text from the same lines is one proposal."""
    merged: dict[tuple[str, tuple[int, ...]], Proposal] = {}
    for generate in GENERATORS.values():
        for prop in generate(view):
            key = (prop.text, tuple(prop.refs))
            kept = merged.get(key)
            if kept is None:
                merged[key] = prop
                continue
            kept.sources |= prop.sources
            kept.inline_key = kept.inline_key or prop.inline_key
            kept.typed = kept.typed or prop.typed
    return list(merged.values())


__all__ = [
    "GENERATORS",
    "INLINE_KEY",
    "PROPOSALS_VERSION",
    "SPAN_KINDS",
    "Proposal",
    "continues",
    "document_proposals",
    "proposal_generator",
]

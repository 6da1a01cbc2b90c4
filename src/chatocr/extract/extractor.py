"""Key information extraction as named stages:

    ocr -> layout -> candidates -> choose -> normalise -> derive -> ground -> validate

:class:`Extractor` keeps the OCR engine and the LLM backend loaded between calls, so the
server, the batch runner and the evaluation reuse one instance.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from chatocr.backends.base import LLMBackend, create_backend
from chatocr.document import Box, Document, union_box
from chatocr.errors import BackendError, MalformedReplyError
from chatocr.extract.candidates import Candidate, DocView, finish, generate, line_candidates
from chatocr.extract.features import DocFeatures, field_rows, occurrence_of
from chatocr.extract.normalize import find_amounts, nfkc, normalize_value, strip_keys, trim
from chatocr.extract.prompt import (
    PROMPT_VERSION,
    Prompt,
    build_prompt,
    choice_probability,
    detect_language,
    parse_choice,
)
from chatocr.extract.proposals import Proposal
from chatocr.extract.reader import LearnedReader, ReaderAnswer, load_reader
from chatocr.fields.lexicon import sum_role_of, sum_roles
from chatocr.fields.spec import FieldSpec, FieldType, Schema
from chatocr.io.loader import Source
from chatocr.options import Options
from chatocr.pipeline import ProgressCallback, page_progress, run_ocr
from chatocr.result import ExtractionResult, FieldItem, FieldResult

log = logging.getLogger(__name__)

# hybrid strategy: a candidate this strong and this far ahead of the next is taken without the model.
DECISIVE_SCORE = 0.8
DECISIVE_MARGIN = 0.15
# hybrid strategy: the model overrides the best-scored candidate only when it is at least this sure.
MODEL_OVERRIDE_PROBABILITY = 0.6
# rules strategy / fallback: below this prior a candidate is not an answer.
MIN_RULE_SCORE = 0.3
# grounding: partial-ratio similarity (0..100) a value must reach against its source lines.
GROUND_MIN_SIMILARITY = 80.0

# Backends whose models write values themselves under `auto` (the generate strategy).
GENERATE_BACKENDS = ("openai", "transformers")

# learned strategy: a competing value scored at least this high is reported beside the answer (alternatives).
ALTERNATIVE_MIN_SCORE = 0.15

# Amounts add up to the cent.
SUM_TOLERANCE = 0.005
# The smallest coin of the currencies whose cash totals are rounded (5 sen, 5 cents): a rounded total is a
# multiple of it, and the adjustment is less than it.
CASH_ROUNDING = 0.05
# A rounding adjustment as the OCR may return it: -0.02, (0.02), RM0.02, or its "0." lost (",02", "02").
ADJUSTMENT_CENTS = re.compile(r"^\s*[-+(]?\s*(?:RM|\$)?\s*0?[.,]?(\d{2})\)?\s*$")
# The largest tax a net amount may carry when two unread amounts are taken for a net amount and its tax: VAT and
# sales-tax rates run from 0 to 27%.
MAX_TAX_SHARE = 0.3

# Share of a document's time that OCR takes in progress reports (the rest is the fields).
OCR_SHARE = 0.8


@dataclass
class Choice:
    candidate: Candidate | None
    confidence: float
    by_model: bool
    model_probability: float | None = None


def make_field(
    value: str | None = None,
    *,
    raw: str | None = None,
    confidence: float = 0.0,
    page: int | None = None,
    box: Box | None = None,
    derived_from: str | None = None,
) -> FieldResult:
    return FieldResult(value=value, raw=raw, confidence=confidence, page=page, box=box, derived_from=derived_from)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", nfkc(text)).lower()


# ------------------------------------------------------------------ stages


def stage_candidates(view: DocView, spec: FieldSpec, options: Options, *, use_pairing: bool = True) -> list[Candidate]:
    if not spec.extractive:
        return []
    if not options.extract.use_candidates:
        return finish(line_candidates(view, spec, options.extract.max_prompt_lines), spec)
    return generate(view, spec, use_pairing=use_pairing)


def context_lines(view: DocView, candidates: list[Candidate], limit: int) -> list[tuple[int, str]]:
    """The lines the candidates came from with one neighbour each side, at most ``limit`` lines."""
    wanted: set[int] = set()
    for cand in candidates:
        for ref in cand.refs:
            wanted.update(range(max(0, ref - 1), min(len(view.lines), ref + 2)))
    chosen = sorted(wanted)[:limit]
    return [(i, view.lines[i].text) for i in chosen]


REPLY_TOKENS = 24


def fitted_prompt(
    backend: LLMBackend, spec: FieldSpec, offered: list[Candidate], context: list[tuple[int, str]], language: str
) -> Prompt:
    """Build the prompt, dropping context lines (then the last candidates) until it fits the model's context."""
    budget = backend.context_tokens - REPLY_TOKENS - 16
    while True:
        prompt = build_prompt(spec, [c.text for c in offered], context, language=language)
        used = backend.count_tokens("\n".join(m.content for m in prompt.messages))
        if used <= budget:
            return prompt
        if len(context) > 4:
            # Keep the lines around the best candidates: drop from the far end of the document first.
            best = offered[0].refs[0] if offered and offered[0].refs else 0
            context = sorted(context, key=lambda item: abs(item[0] - best))[: len(context) * 3 // 4]
            context.sort()
        elif len(offered) > 1:
            offered = offered[:-1]
        else:
            return prompt


def stage_choose(
    view: DocView,
    spec: FieldSpec,
    candidates: list[Candidate],
    options: Options,
    backend_getter: Any,
    language: str,
) -> Choice:
    """Pick a candidate (or none): directly when decisive, else by asking the model."""
    if not candidates:
        return Choice(None, 0.0, False)
    top = candidates[0]
    second = candidates[1].score if len(candidates) > 1 else 0.0
    strategy = effective_strategy(options)
    decisive = top.score >= DECISIVE_SCORE and top.score - second >= DECISIVE_MARGIN
    if strategy == "rules" or (strategy == "hybrid" and decisive):
        if top.score < MIN_RULE_SCORE:
            return Choice(None, 1.0 - top.score, False)
        return Choice(top, top.score, False)
    # Without candidates the model picks among the document's lines themselves.
    limit = options.extract.max_candidates if options.extract.use_candidates else options.extract.max_prompt_lines
    offered = candidates[:limit]
    backend: LLMBackend = backend_getter()
    context = context_lines(view, offered, options.extract.max_prompt_lines)
    prompt = fitted_prompt(backend, spec, offered, context, language)
    offered = offered[: len(prompt.options)]  # the prompt may have kept fewer candidates to fit the context
    answer: int | None = None
    completion = None
    for attempt in range(2):
        completion = backend.complete(prompt.messages, json_schema=prompt.json_schema, max_tokens=24)
        try:
            answer = parse_choice(completion.text, spec.name, len(offered))
            break
        except (ValueError, TypeError) as exc:
            if attempt == 1:
                raise MalformedReplyError(
                    f"the model's reply for field {spec.name!r} is not a valid choice: {completion.text[:120]!r}",
                    hint=str(exc),
                ) from None
    assert completion is not None
    probability = choice_probability(completion.token_logprobs, answer)
    if strategy == "hybrid" and answer != 0 and (probability is None or probability < MODEL_OVERRIDE_PROBABILITY):
        # The model disagrees with the best-scored candidate but is unsure: keep the candidate, with less confidence.
        if top.score < MIN_RULE_SCORE:
            return Choice(None, 1.0 - top.score, True, probability)
        return Choice(top, top.score * 0.8, True, probability)
    if answer is None:
        return Choice(None, probability if probability is not None else 0.5, True, probability)
    chosen = offered[answer]
    # Confidence: the model's probability for its choice blended with the candidate's prior.
    conf = chosen.score if probability is None else 0.5 * probability + 0.5 * chosen.score
    return Choice(chosen, conf, True, probability)


def effective_strategy(options: Options) -> str:
    """Resolve ``auto``: the learned reader answers on the embedded default (the 135M model lowers accuracy
    when it overrides a ranking, see benchmarks/results/extract.md); a server or checkpoint model writes the
    values itself (generate: candidates would cap it, see issue 12); another model the user picks explicitly
    is consulted (hybrid)."""
    strategy = options.extract.strategy
    if strategy != "auto":
        return strategy
    if options.backend.name in GENERATE_BACKENDS:
        return "generate"
    explicit = options.backend.name != "local" or options.backend.model is not None
    return "hybrid" if explicit else "learned"


def stage_derive(spec: FieldSpec, full_text: str) -> FieldResult:
    """Enum fields: the first rule whose text occurs in the document, else the default."""
    text = nfkc(full_text)
    for rule in spec.rules:
        for needle in rule.if_text_contains:
            if nfkc(needle) in text:
                return make_field(rule.then, confidence=0.9, derived_from=f"rule: text contains {needle!r}")
    if spec.choices:
        for choice in spec.choices:
            if choice in text and choice != spec.default:
                return make_field(choice, confidence=0.85, derived_from=f"text contains {choice!r}")
    if spec.default is not None:
        return make_field(spec.default, confidence=0.6, derived_from="default (no rule matched)")
    return make_field(None, confidence=0.5)


def grounded(raw: str, view: DocView, refs: list[int]) -> bool:
    """True when ``raw`` fuzzily occurs in the OCR text of its source lines (or anywhere if none)."""
    needle = _squash(raw)
    if not needle:
        return False
    sources = [view.lines[i].text for i in refs] if refs else [item.text for item in view.lines]
    haystacks = [*sources, "".join(sources)]
    for hay in haystacks:
        hay_s = _squash(hay)
        if needle in hay_s:
            return True
        if len(needle) >= 4 and fuzz.partial_ratio(needle, hay_s) >= GROUND_MIN_SIMILARITY:
            return True
    return False


def stage_ground(spec: FieldSpec, choice: Choice, view: DocView, *, calibrated: bool = False) -> FieldResult:
    """Turn a choice into a FieldResult whose value is traceable to OCR lines, or null.

    ``calibrated``: the choice's confidence is already a calibrated probability (the learned reader)
    and is reported as it is, instead of being scaled by the OCR confidence."""
    cand = choice.candidate
    if cand is None:
        return make_field(None, confidence=round(min(1.0, max(0.0, choice.confidence)), 4))
    raw = strip_keys(cand.text, spec.aliases)
    if not grounded(raw, view, cand.refs):
        # Never log the value itself: logs must not hold document content.
        log.info("field %s: the chosen value is not in the OCR text; answered null", spec.name)
        return make_field(None, confidence=0.0)
    value = cand.value or normalize_value(raw, spec.normalize)
    ocr_conf = min(view.lines[i].line.confidence for i in cand.refs) if cand.refs else 1.0
    box: Box | None = union_box([view.lines[i].line.box for i in cand.refs]) if cand.refs else None
    derived = raw if spec.type in (FieldType.date, FieldType.amount) and value != raw else None
    confidence = max(0.0, min(1.0, choice.confidence))
    if not calibrated:
        confidence *= 0.5 + 0.5 * ocr_conf
    return make_field(
        value,
        raw=raw,
        confidence=round(confidence, 4),
        page=view.lines[cand.refs[0]].page if cand.refs else None,
        box=box,
        derived_from=derived,
    )


def acceptable(spec: FieldSpec, text: str) -> bool:
    """A proposal the field can answer with: it normalises to a value and fits the field's pattern."""
    raw = strip_keys(text, spec.aliases)
    value = normalize_value(raw, spec.normalize) if raw else None
    if not value:
        return False
    return spec.matches(value)


def acceptor(spec: FieldSpec) -> Callable[[str], bool]:
    """``acceptable`` for one field, fast for the common case: a plain text field takes any text that does
    not start like one of its printed keys (only those can be stripped to nothing)."""
    if spec.normalize not in (None, "text") or spec.pattern:
        return lambda text: acceptable(spec, text)
    starts = {alias.strip()[:1].lower() for alias in spec.aliases if alias.strip()}

    def accept(text: str) -> bool:
        if text.lstrip()[:1].lower() in starts:
            return acceptable(spec, text)
        return bool(trim(text))

    return accept


def stage_read(
    reader: LearnedReader,
    doc: DocFeatures,
    spec: FieldSpec,
    schema: Schema,
    min_confidence: float | None = None,
    exclude: Callable[[Proposal], bool] | None = None,
) -> tuple[FieldResult, list[int]]:
    """The learned reader's answer for one field, grounded like any other choice, and the lines it is read from;
    ``exclude`` drops proposals other fields answer with."""
    answer = reader.read(doc, spec, schema.fields, accept=acceptor(spec), threshold=min_confidence, exclude=exclude)
    if answer.proposal is None:
        return make_field(None, confidence=round(answer.probability, 4)), []
    prop = answer.proposal
    choice = Choice(Candidate(prop.text, list(prop.refs), answer.raw_probability, "reader"), answer.probability, False)
    field = stage_ground(spec, choice, doc.view, calibrated=True)
    runner = answer.runner_up
    if field.value is not None and runner is not None and answer.runner_up_probability >= ALTERNATIVE_MIN_SCORE:
        other = stage_ground(
            spec, Choice(Candidate(runner.text, list(runner.refs), 0.0, "reader"), 1.0, False), doc.view
        )
        if other.value is not None and other.value != field.value:
            item = FieldItem(
                value=other.value,
                raw=other.raw,
                confidence=round(answer.runner_up_probability, 4),
                page=other.page,
                box=other.box,
            )
            field.alternatives = [item]
    return field, list(prop.refs) if field.value is not None else []


def occurrence_groups(schema: Schema) -> list[list[FieldSpec]]:
    """Fields asking for different occurrences of one printed key ("姓名", "姓名 (2)", "姓名 (3)")."""
    groups: dict[str, list[FieldSpec]] = {}
    for spec in schema.fields:
        if spec.extractive:
            groups.setdefault(occurrence_of(spec.name)[0], []).append(spec)
    return [members for members in groups.values() if len(members) > 1]


def in_reading_order(members: list[FieldSpec], fields: dict[str, FieldResult], lines: dict[str, list[int]]) -> None:
    """Hand a group's answers to its occurrences in reading order: "姓名 (2)" is the second of them on the page.
    Each answer was read for one occurrence, but which cell is the first is a matter of order, not of the
    scores (two applicants' rows look alike). Fields left null stay null."""
    answered = sorted((spec for spec in members if lines[spec.name]), key=lambda spec: occurrence_of(spec.name)[1])
    if len(answered) < 2:
        return
    # DocView numbers lines in reading order (page, row, left to right).
    ordered = sorted(((fields[s.name], lines[s.name]) for s in answered), key=lambda pair: min(pair[1]))
    for spec, (field, refs) in zip(answered, ordered, strict=True):
        fields[spec.name], lines[spec.name] = field, refs


def reads_any_of(taken: frozenset[int]) -> Callable[[Proposal], bool]:
    """Whether a proposal is read from any of these lines."""
    return lambda prop: not taken.isdisjoint(prop.refs)


def one_field_per_value(
    reader: LearnedReader,
    doc: DocFeatures,
    schema: Schema,
    threshold: float | None,
    fields: dict[str, FieldResult],
    lines: dict[str, list[int]],
) -> None:
    """A printed value answers one field. When two fields (other than occurrences of one key) answer with the
    same value from the same lines, the surer keeps it and the other reads again without it: a roll invoice's
    合计金额（小写） total is 价税合计, and 金额 (the pre-tax amount it does not print) is then null, not the same
    total read from the amount in words."""
    group = {spec.name: occurrence_of(spec.name)[0] for spec in schema.fields}
    claims: list[tuple[str, str | None, set[int]]] = []  # (the field's key group, its value, its lines)
    for spec in sorted(
        (spec for spec in schema.fields if spec.extractive and lines.get(spec.name)),
        key=lambda spec: -fields[spec.name].confidence,
    ):
        others = [(value, held) for owner, value, held in claims if owner != group[spec.name]]
        first = set(lines[spec.name])
        if any(value == fields[spec.name].value and held & first for value, held in others):
            # An amount printed again elsewhere is the same sum restated (a total in figures and in words, on
            # the TOTAL and the CASH line): it stays the surer field's. A name or a text printed again may answer
            # another field (the applicant who also signs): only its printing on the surer field's lines is taken.
            restated = {value for value, held in others if held & first} if spec.normalize == "amount" else set()

            def claimed(
                prop: Proposal,
                spec: FieldSpec = spec,
                others: list[tuple[str | None, set[int]]] = others,
                restated: set[str | None] = restated,
            ) -> bool:
                refs = set(prop.refs)
                touched = {value for value, held in others if held & refs} | restated
                return bool(touched) and normalize_value(prop.text, spec.normalize) in touched

            fields[spec.name], lines[spec.name] = stage_read(reader, doc, spec, schema, threshold, claimed)
        if lines[spec.name]:
            claims.append((group[spec.name], fields[spec.name].value, set(lines[spec.name])))


def _amount(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


AmountValues = list[tuple[ReaderAnswer, float]]


def amount_values(reader: LearnedReader, doc: DocFeatures, schema: Schema, spec: FieldSpec) -> AmountValues:
    """The values the reader finds for an amount field (LearnedReader.values), each with the amount it reads as."""
    found = []
    for answer in reader.values(doc, spec, schema.fields, accept=acceptor(spec)):
        amount = _amount(normalize_value(answer.proposal.text, spec.normalize)) if answer.proposal else None
        if amount is not None:
            found.append((answer, amount))
    return found


def amounts_add_up(
    reader: LearnedReader, doc: DocFeatures, schema: Schema, fields: dict[str, FieldResult], lines: dict[str, list[int]]
) -> None:
    """A document's total is its net amount plus its tax (Total = Subtotal + Tax; 价税合计 = 金额 + 税额). When all
    three are asked and the reader's answers do not add up, two of them decide the third: a value the third field
    may answer with that completes the sum answers (a tax read from a neighbouring line, a subtotal left null).
    It is right when the two answers it completes are, so its confidence is theirs multiplied (or its own, if
    higher), and it may be below the null threshold: the arithmetic is evidence the per-field scores do not see.

    Only one answer changes: two changed or filled at once were, on development documents, as often a coincidence
    (a roll invoice's two line items adding up to its total, read as its 金额 and 税额) as a correction, unless the
    two are printed side by side (net_and_tax_side_by_side). A tax is a
    share of the net amount, above zero: 8.90 + 89.60 = 98.50 does not make 89.60 the tax, and a receipt without
    tax does not read a printed 0.00 as its tax."""
    roles = sum_roles([spec for spec in schema.fields if spec.extractive])
    if roles is None:
        return
    known = {role: _amount(fields[spec.name].value) for role, spec in roles.items()}
    if all(amount is not None for amount in known.values()) and adds_up(known):
        return
    if adds_up({"net": known["tax"], "tax": known["net"], "total": known["total"]}):
        # The net amount and the tax read each other's value (金额 and 税额 side by side under their headers): a
        # tax is the smaller share, so the two answers trade places, their evidence with them.
        net, tax = roles["net"].name, roles["tax"].name
        fields[net], fields[tax] = (
            fields[tax].model_copy(update={"alternatives": None}),
            fields[net].model_copy(update={"alternatives": None}),
        )
        lines[net], lines[tax] = lines[tax], lines[net]
        return
    found: dict[str, AmountValues] = {}  # each role's values, read once for both checks

    def values_of(role: str) -> AmountValues:
        if role not in found:
            found[role] = amount_values(reader, doc, schema, roles[role])
        return found[role]

    best: tuple[float, str, ReaderAnswer] | None = None
    for role in roles:
        others = {other: amount for other, amount in known.items() if other != role}
        if any(amount is None for amount in others.values()):
            continue
        for answer, amount in values_of(role):
            if amount == known[role] or not adds_up({**others, role: amount}):
                continue
            if best is None or answer.raw_probability > best[0]:
                best = (answer.raw_probability, role, answer)
    if best is None:
        if known["total"] is not None:
            net_and_tax_side_by_side(doc.view, roles, known["total"], values_of, fields, lines)
        return
    _, role, answer = best
    completed = math.prod(fields[roles[other].name].confidence for other in roles if other != role)
    answer_with(roles[role], answer, max(answer.probability, completed), doc.view, fields, lines)


def net_and_tax_side_by_side(
    view: DocView,
    roles: dict[str, FieldSpec],
    total: float,
    values_of: Callable[[str], AmountValues],
    fields: dict[str, FieldResult],
    lines: dict[str, list[int]],
) -> None:
    """The net amount and the tax both unread (or read wrong) while the total is read: two amounts printed side by
    side on one row, the net amount left of the tax, that add up to the total answer them (a VAT invoice's 合计 row,
    ``合 计  ¥18567.30  ¥2413.74``, above 价税合计 ¥20981.04). Two amounts on one row that add up to the total with a
    plausible tax are rarely a coincidence; two line items on two rows adding up to it are (see amounts_add_up).

    Each answer is right when the total is, so it takes the total's confidence (or its own, if higher); an answer
    surer than the total is not replaced."""
    confidence = fields[roles["total"].name].confidence
    if any(
        fields[roles[role].name].value is not None and fields[roles[role].name].confidence > confidence
        for role in ("net", "tax")
    ):
        return
    # Values printed on one line each, with that line.
    options = {
        role: [
            (answer, amount, view.lines[answer.proposal.refs[0]])
            for answer, amount in values_of(role)
            if answer.proposal is not None and len(answer.proposal.refs) == 1
        ]
        for role in ("net", "tax")
    }
    best: tuple[float, ReaderAnswer, ReaderAnswer] | None = None
    for net_answer, net, left in options["net"]:
        for tax_answer, tax, right in options["tax"]:
            if (
                left.row == right.row
                and left.bounds[2] <= right.bounds[0]
                and tax <= MAX_TAX_SHARE * net
                and adds_up({"net": net, "tax": tax, "total": total})
            ):
                score = net_answer.raw_probability * tax_answer.raw_probability
                if best is None or score > best[0]:
                    best = (score, net_answer, tax_answer)
    if best is not None:
        for role, answer in zip(("net", "tax"), best[1:], strict=True):
            answer_with(roles[role], answer, max(answer.probability, confidence), view, fields, lines)


def total_after_rounding(
    reader: LearnedReader, doc: DocFeatures, schema: Schema, fields: dict[str, FieldResult], lines: dict[str, list[int]]
) -> None:
    """A receipt paid in cash rounds its total to the smallest coin and prints both totals, with the adjustment
    between them (Total Sales 98.37 / Rounding Adj -0.02 / Total After Adj 98.35): the amount paid is the total.
    When a total's answer is not a multiple of 0.05, a value the reader found for the field that is, printed below
    it and apart from it by an adjustment the document prints, answers instead, at the same confidence. The
    adjustment is an amount under one coin printed anywhere, or a line between the two totals that prints the
    cents of their difference: the OCR often loses a small amount's "0." (-0.02 read as ",02" or "02")."""
    adjustments: set[float] | None = None  # the amounts under one coin the document prints, read once
    for spec in schema.fields:
        answer = _amount(fields[spec.name].value) if spec.extractive and sum_role_of(spec) == "total" else None
        if answer is None or _cash_rounded(answer) or not lines.get(spec.name):
            continue
        if adjustments is None:
            printed = {abs(float(value)) for item in doc.view.lines for *_, value in find_amounts(item.text)}
            adjustments = {amount for amount in printed if 0 < amount < CASH_ROUNDING}
        below = doc.view.lines[max(lines[spec.name])].row
        if not adjustments and not any(
            item.row > below and ADJUSTMENT_CENTS.match(item.text) for item in doc.view.lines
        ):
            continue  # no adjustment printed: most totals are not multiples of 0.05, and the field is not read again
        for option, rounded in amount_values(reader, doc, schema, spec):
            prop, difference = option.proposal, abs(rounded - answer)
            if (
                prop is not None
                and _cash_rounded(rounded)
                and 0 < difference < CASH_ROUNDING
                and min(prop.refs) > max(lines[spec.name])
                and (
                    round(difference, 2) in adjustments
                    or _cents_printed_between(doc.view, lines[spec.name], prop.refs, difference)
                )
            ):
                answer_with(spec, option, fields[spec.name].confidence, doc.view, fields, lines)
                break


def _cents_printed_between(view: DocView, above: list[int], below: list[int], difference: float) -> bool:
    """Whether a line on a row between two values prints nothing but the cents of their difference."""
    first, last = view.lines[max(above)].row, view.lines[min(below)].row
    cents = f"{round(difference * 100):02d}"
    return any(
        (match := ADJUSTMENT_CENTS.match(item.text)) is not None and match.group(1) == cents
        for item in view.lines
        if first < item.row < last
    )


def _cash_rounded(amount: float) -> bool:
    return round(amount * 100) % round(CASH_ROUNDING * 100) == 0


def answer_with(
    spec: FieldSpec,
    answer: ReaderAnswer,
    confidence: float,
    view: DocView,
    fields: dict[str, FieldResult],
    lines: dict[str, list[int]],
) -> None:
    """Answer a field with one of the reader's values instead of its best, at the confidence given."""
    prop = answer.proposal
    assert prop is not None  # the reader's values are proposals
    choice = Choice(Candidate(prop.text, list(prop.refs), answer.raw_probability, "reader"), confidence, False)
    field = stage_ground(spec, choice, view, calibrated=True)
    if field.value is not None:
        fields[spec.name], lines[spec.name] = field, list(prop.refs)


def adds_up(amounts: dict[str, float | None]) -> bool:
    """Whether net + tax = total, to the cent, with a tax above zero and below the net amount."""
    net, tax, total = amounts["net"], amounts["tax"], amounts["total"]
    if net is None or tax is None or total is None:
        return False
    return 0 < tax < net and abs(net + tax - total) < SUM_TOLERANCE


def ground_value(value: str, document: Document) -> bool:
    """Public check used by callers that get a value from elsewhere (e.g. a free-text model)."""
    return grounded(value, DocView(document), [])


# ------------------------------------------------------------------ the reusable extractor


class Extractor:
    """Reusable extraction: the OCR engine and LLM backend stay loaded between calls.

    >>> ex = Extractor(Options.create(**{"extract.strategy": "rules"}))
    >>> result = ex.run("receipt.jpg", load_schema(template="receipt"))  # doctest: +SKIP
    """

    def __init__(self, options: Options | None = None, *, backend: LLMBackend | None = None) -> None:
        self.options = options or Options()
        self._backend = backend

    @property
    def backend(self) -> LLMBackend:
        if self._backend is None:
            import chatocr.backends  # noqa: F401  (registers the built-in backends)

            self._backend = create_backend(self.options.backend)
        return self._backend

    def run(
        self, source: Source, schema: Schema, name: str | None = None, progress: ProgressCallback | None = None
    ) -> ExtractionResult:
        started = time.perf_counter()
        on_page = page_progress(progress, OCR_SHARE) if progress is not None else None
        document = run_ocr(source, self.options.ocr, name=name, on_page=on_page)
        assert isinstance(document, Document)
        if progress is not None:
            progress(OCR_SHARE, "extracting fields")
        result = self.run_document(document, schema)
        if progress is not None:
            progress(1.0, "fields extracted")
        ocr_seconds = time.perf_counter() - started - sum(result.timings.values())
        result.timings = {"ocr": round(ocr_seconds, 3), **result.timings}
        return result

    def run_document(self, document: Document, schema: Schema, *, use_pairing: bool = True) -> ExtractionResult:
        """Extract from an already OCR'd document (the benchmarks cache OCR and call this)."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        view = DocView(document)
        language = self.language_for(schema, view.full_text)
        timings["layout"] = time.perf_counter() - t0
        fields: dict[str, FieldResult] = {}
        if effective_strategy(self.options) == "learned":
            return self._read_document(document, schema, view, timings)
        if effective_strategy(self.options) == "generate":
            from chatocr.extract.generation import generate_document  # imports this module

            return generate_document(document, schema, view, language, self.options, lambda: self.backend, timings)
        t_cand = t_choose = 0.0
        for spec in schema.fields:
            if not spec.extractive:
                fields[spec.name] = stage_derive(spec, view.full_text)
                continue
            t1 = time.perf_counter()
            candidates = stage_candidates(view, spec, self.options, use_pairing=use_pairing)
            t2 = time.perf_counter()
            try:
                choice = stage_choose(view, spec, candidates, self.options, lambda: self.backend, language)
            except BackendError:
                raise
            t_cand += t2 - t1
            t_choose += time.perf_counter() - t2
            fields[spec.name] = stage_ground(spec, choice, view)
        timings["candidates"] = t_cand
        timings["choose"] = t_choose
        result = ExtractionResult(
            file=document.file, fields=fields, document=document, timings={k: round(v, 3) for k, v in timings.items()}
        )
        return result

    def _read_document(
        self, document: Document, schema: Schema, view: DocView, timings: dict[str, float]
    ) -> ExtractionResult:
        """The learned strategy: proposals once per document, then the reader per field."""
        t0 = time.perf_counter()
        reader = load_reader(self.options.extract.reader_model)
        doc = DocFeatures.build(view, kinds=reader.value_kinds)
        timings["proposals"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        fields: dict[str, FieldResult] = {}
        lines: dict[str, list[int]] = {}
        threshold = self.options.extract.min_confidence
        for spec in schema.fields:
            if spec.extractive:
                fields[spec.name], lines[spec.name] = stage_read(reader, doc, spec, schema, threshold)
            else:
                fields[spec.name] = stage_derive(spec, view.full_text)
        # Occurrences of one printed key are different cells: the surest keeps its lines, the others read again
        # without them.
        for members in occurrence_groups(schema):
            members.sort(key=lambda spec: -fields[spec.name].confidence if lines[spec.name] else 1.0)
            taken: set[int] = set()
            for spec in members:
                if taken.intersection(lines[spec.name]):
                    fields[spec.name], lines[spec.name] = stage_read(
                        reader, doc, spec, schema, threshold, reads_any_of(frozenset(taken))
                    )
                taken.update(lines[spec.name])
            in_reading_order(members, fields, lines)
        one_field_per_value(reader, doc, schema, threshold, fields, lines)
        amounts_add_up(reader, doc, schema, fields, lines)
        total_after_rounding(reader, doc, schema, fields, lines)
        timings["read"] = time.perf_counter() - t1
        return ExtractionResult(
            file=document.file, fields=fields, document=document, timings={k: round(v, 3) for k, v in timings.items()}
        )

    def proposals(self, document: Document, schema: Schema) -> dict[str, list[str]]:
        """What the strategy could have answered each field with: the learned reader's proposals, or the
        rule candidates (the error breakdown of `chatocr eval` tells proposal misses from choice misses)."""
        view = DocView(document)
        out: dict[str, list[str]] = {}
        if effective_strategy(self.options) == "learned":
            doc = DocFeatures.build(view)
            for spec in schema.fields:
                if spec.extractive:
                    out[spec.name] = [p.text for p in field_rows(doc, spec, schema.fields).proposals]
            return out
        for spec in schema.fields:
            if spec.extractive:
                out[spec.name] = [c.text for c in stage_candidates(view, spec, self.options)]
        return out

    def language_for(self, schema: Schema, text: str) -> str:
        if self.options.extract.language != "auto":
            return self.options.extract.language
        if schema.language in ("zh", "en"):
            return schema.language
        return detect_language(text)

    def describe(self) -> dict[str, str]:
        return {"prompt": PROMPT_VERSION, "strategy": effective_strategy(self.options)}

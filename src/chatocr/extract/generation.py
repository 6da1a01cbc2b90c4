"""The generate strategy: the model reads the document and writes every value; chatocr grounds them.

    number lines -> fit to the context (chunks) -> ask (concurrently) -> check per field
    -> ground -> re-ask once for the unfound -> merge chunks per field -> derive enum fields

A strong model is not held back by candidates: it reads the line-numbered layout text and answers
one JSON object whose keys are exactly the requested field names.  It still never decides what comes
back: a value is kept only when :class:`~chatocr.extract.grounding.Grounder` finds it in the OCR
text, and then carries the page, box and confidence of its lines.  A reply that is malformed for one
field (or one chunk of a long document) nulls that field with ``error`` set, never the document.
:func:`build_generate_prompt` is also what ``chatocr data label --style generate`` writes as
training prompts, so fine-tuning data and inference share one text.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chatocr.backends.base import Completion, LLMBackend, Message
from chatocr.backends.json_reply import ReplyInvalid, parse_json_text, schema_errors
from chatocr.document import Document
from chatocr.errors import BackendError, BackendTimeoutError, BackendUnavailableError, MalformedReplyError
from chatocr.extract.candidates import DocView
from chatocr.extract.extractor import make_field, stage_derive
from chatocr.extract.grounding import Evidence, Grounder
from chatocr.extract.normalize import normalize_value, strip_keys
from chatocr.fields.spec import FieldSpec, FieldType, Schema
from chatocr.layout import layout_text
from chatocr.options import Options
from chatocr.result import LIST_JOINER, ExtractionResult, FieldItem, FieldResult

log = logging.getLogger(__name__)

GENERATE_PROMPT_VERSION = "generate-v1"
# Reply budget: a JSON key, quotes and a value of a few words per field; list fields more.
REPLY_TOKENS_PER_FIELD = 40
REPLY_TOKENS_PER_LIST_FIELD = 160
# Confidence of a grounded value when the backend gives no token probabilities: grounding already
# removed invented values, what remains is the chance the model copied the wrong printed value.
NO_LOGPROB_PROBABILITY = 0.9
# Context left unused besides prompt and reply: the token count is estimated (3 bytes a token).
CONTEXT_MARGIN = 0.9

_SYSTEM = {
    "en": (
        "You read the OCR text of a document and copy the value of each requested field exactly as it is "
        "printed, without its printed label (not 'Total:' or 'No.'). Answer null for a field the text does not "
        "hold; never guess, translate or invent a value. Reply with one JSON object whose keys are exactly the "
        "field names."
    ),
    "zh": (
        "你阅读文档的OCR文本，按原文照抄每个所问字段的值，不带印刷的标签（如“证书编号：”“合计：”）。"
        "文本中没有的字段回答 null；不要猜测、翻译或编造。只回答一个 JSON 对象，键恰好是各字段名。"
    ),
}
_KIND_HINT = {
    "en": {
        FieldType.date: "a date, as printed",
        FieldType.amount: "an amount, as printed",
        FieldType.number: "a number, as printed",
        FieldType.list: "every one of them, as a JSON array of strings",
    },
    "zh": {
        FieldType.date: "日期，按原文",
        FieldType.amount: "金额，按原文",
        FieldType.number: "数字，按原文",
        FieldType.list: "全部列出，JSON 字符串数组",
    },
}


# ------------------------------------------------------------------ the prompt


@dataclass
class GeneratePrompt:
    messages: list[Message]
    json_schema: dict[str, Any]
    max_tokens: int


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    if spec.type is FieldType.enum and spec.choices:
        return {"enum": [*spec.choices, None]}
    if spec.type is FieldType.list:
        return {"type": ["array", "null"], "items": {"type": "string"}}
    return {"type": ["string", "null"]}


def generate_schema(fields: list[FieldSpec]) -> dict[str, Any]:
    """One property per field name as the user wrote it: a string or null, an array for list fields."""
    return {
        "type": "object",
        "properties": {spec.name: field_schema(spec) for spec in fields},
        "required": [spec.name for spec in fields],
        "additionalProperties": False,
    }


def describe_field(spec: FieldSpec, language: str) -> str:
    zh = language == "zh"
    parts = [spec.description] if spec.description else []
    if spec.type is FieldType.enum and spec.choices:
        parts.append(("取值之一：" if zh else "one of: ") + ", ".join(spec.choices))
        for rule in spec.rules:
            needles = (" 或 " if zh else " or ").join(f"“{n}”" if zh else f"'{n}'" for n in rule.if_text_contains)
            parts.append(f"文本含{needles}时为{rule.then}" if zh else f"{rule.then} if the text contains {needles}")
        if spec.default:
            parts.append(f"否则为{spec.default}" if zh else f"else {spec.default}")
    elif spec.type in _KIND_HINT["en"]:
        parts.append(_KIND_HINT["zh" if zh else "en"][spec.type])
    return f"- {spec.name}" + (f"：{'；'.join(parts)}" if zh and parts else f": {'; '.join(parts)}" if parts else "")


def build_generate_prompt(
    fields: list[FieldSpec], document_text: str, *, language: str = "en", part: tuple[int, int] | None = None
) -> GeneratePrompt:
    """The chat that asks for every field of ``fields`` at once from ``document_text`` (numbered lines).

    ``part``: (k, n) when the text is the k-th of n chunks of a longer document."""
    lang = "zh" if language == "zh" else "en"
    names = ", ".join(json.dumps(spec.name, ensure_ascii=False) for spec in fields)
    described = "\n".join(describe_field(spec, lang) for spec in fields)
    if lang == "zh":
        where = f"（第 {part[0]}/{part[1]} 部分）" if part else ""
        user = (
            f"文档的OCR文本{where}，[n] 为行号：\n{document_text}\n\n字段：\n{described}\n\n"
            f"回答一个 JSON 对象，键恰好为：{names}。每个值照抄原文，文本中没有则为 null。"
        )
    else:
        where = f" (part {part[0]} of {part[1]})" if part else ""
        user = (
            f"OCR text of the document{where}, [n] is the line number:\n{document_text}\n\nFields:\n{described}\n\n"
            f"Answer one JSON object with exactly these keys: {names}. Each value copied from the text, or null "
            "when the text does not hold it."
        )
    max_tokens = 16 + sum(
        REPLY_TOKENS_PER_LIST_FIELD if spec.type is FieldType.list else REPLY_TOKENS_PER_FIELD for spec in fields
    )
    return GeneratePrompt(
        [Message("system", _SYSTEM[lang]), Message("user", user)], generate_schema(fields), max_tokens
    )


def reask_message(unfound: dict[str, Any], language: str) -> Message:
    """The one follow-up: names the values that are not in the text and asks again for just those."""
    listed = "\n".join(f"- {name}: {json.dumps(value, ensure_ascii=False)}" for name, value in unfound.items())
    if language == "zh":
        text = f"以下值在文档文本中找不到：\n{listed}\n请按上面的文本原样照抄这些字段的值；文本中没有则回答 null。"
    else:
        text = (
            f"These values are not in the document text:\n{listed}\nCopy each of these fields exactly as printed "
            "in the lines above, or answer null when the text does not hold it."
        )
    return Message("user", text)


# ------------------------------------------------------------------ the document as numbered lines


_REF = re.compile(r"\[(\d+)\]")


def numbered_pages(view: DocView) -> list[tuple[int, list[str]]]:
    """Each page's layout text (rows and columns kept), its lines numbered by their DocView index."""
    index_of = {id(item.line): item.index for item in view.lines}
    out: list[tuple[int, list[str]]] = []
    for page in view.document.pages:
        text = layout_text(page, line_refs=True)

        def renumber(match: re.Match[str], page_lines: list[Any] = page.lines, text: str = text) -> str:
            n = int(match.group(1))
            # layout_text numbers a page's own lines; the text of that line follows its reference.
            if n < len(page_lines) and text.startswith(page_lines[n].text, match.end()):
                return f"[{index_of.get(id(page_lines[n]), n)}]"
            return match.group(0)

        rows = [row for row in _REF.sub(renumber, text).split("\n")] if text else []
        out.append((page.page, rows))
    return out


def document_text(view: DocView, language: str = "en") -> str:
    """The whole document as the model reads it (pages marked when there are several)."""
    pages = numbered_pages(view)
    return "\n".join(_page_rows(pages, language))


def _page_rows(pages: list[tuple[int, list[str]]], language: str) -> list[str]:
    rows: list[str] = []
    for number, page_rows in pages:
        if len(pages) > 1:
            rows.append(f"--- 第 {number} 页 ---" if language == "zh" else f"--- page {number} ---")
        rows.extend(page_rows)
    return rows


def chunk_rows(rows: list[str], budget: int, count_tokens: Callable[[str], int]) -> list[list[str]]:
    """Consecutive rows packed into chunks of at most ``budget`` tokens (a longer row is cut)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for row in rows:
        cost = count_tokens(row) + 1
        while cost > budget and row:
            # A row longer than a whole chunk (running text in one line): cut it by characters.
            cut = max(1, len(row) * budget // cost)
            if current:
                chunks.append(current)
                current, used = [], 0
            chunks.append([row[:cut]])
            row = row[cut:]
            cost = count_tokens(row) + 1 if row else 0
        if not row:
            continue
        if current and used + cost > budget:
            chunks.append(current)
            current, used = [], 0
        current.append(row)
        used += cost
    if current:
        chunks.append(current)
    return chunks or [[]]


# ------------------------------------------------------------------ asking


@dataclass
class Answer:
    """One chunk's answer for one field, after checking and grounding."""

    values: list[tuple[str, Evidence]] = field(default_factory=list)  # grounded (value as written, evidence)
    unfound: list[str] = field(default_factory=list)  # written, not in the text
    error: str | None = None
    probability: float = NO_LOGPROB_PROBABILITY


@dataclass
class ChunkReply:
    data: dict[str, Any]  # field -> the reply's (schema-valid) value
    errors: dict[str, str]  # field -> error code
    completion: Completion | None


def value_probability(completion: Completion | None, name: str, value: str) -> float:
    """The model's probability for ``value`` after its key: the product over the tokens that spell it."""
    if completion is None or not completion.token_logprobs:
        return NO_LOGPROB_PROBABILITY
    joined = "".join(t for t, _ in completion.token_logprobs)
    key = joined.find(json.dumps(name, ensure_ascii=False))
    target = json.dumps(value, ensure_ascii=False)[1:-1]
    start = joined.find(target, max(0, key))
    if key < 0 or start < 0 or not target:
        return NO_LOGPROB_PROBABILITY
    end, pos, total = start + len(target), 0, 0.0
    for text, logprob in completion.token_logprobs:
        if pos + len(text) > start and pos < end:
            total += logprob
        pos += len(text)
    return math.exp(total)


def ask(backend: LLMBackend, messages: list[Message], fields: list[FieldSpec], max_tokens: int) -> ChunkReply:
    """Ask once and check the reply field by field: a field the reply gets wrong is an error, the rest stand.

    A server that cannot be reached or does not answer in time fails the document (it can be retried
    whole); any other backend failure (a refusal, an invalid reply after the backend's re-asks) is
    recorded on the fields it concerns."""
    schema = generate_schema(fields)
    completion: Completion | None = None
    try:
        completion = backend.complete(messages, json_schema=schema, max_tokens=max_tokens)
        text: str | None = completion.text
        failure = MalformedReplyError.code
    except (BackendUnavailableError, BackendTimeoutError):
        raise
    except MalformedReplyError as exc:
        text, failure = exc.reply, exc.code  # the backend gave up on the whole reply: salvage its fields
    except BackendError as exc:
        log.info("the backend refused a request (%s); its fields are null", exc.code)
        return ChunkReply({}, {spec.name: exc.code for spec in fields}, None)
    try:
        data = parse_json_text(text or "")
    except ReplyInvalid:
        data = None
    if not isinstance(data, dict):
        return ChunkReply({}, {spec.name: failure for spec in fields}, completion)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in fields:
        if spec.name not in data or schema_errors(data[spec.name], field_schema(spec)):
            errors[spec.name] = MalformedReplyError.code
        else:
            values[spec.name] = data[spec.name]
    return ChunkReply(values, errors, completion)


def _written(value: Any) -> list[str]:
    """The non-empty strings of a reply value (one for a scalar, several for a list)."""
    items = value if isinstance(value, list) else [value]
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


def read_chunk(
    backend: LLMBackend,
    prompt: GeneratePrompt,
    fields: list[FieldSpec],
    grounder: Grounder,
    language: str,
) -> dict[str, Answer]:
    """One chunk: ask, ground, re-ask once naming what was not found, ground again."""
    reply = ask(backend, prompt.messages, fields, prompt.max_tokens)
    answers = {spec.name: Answer(error=reply.errors.get(spec.name)) for spec in fields}
    unfound: dict[str, Any] = {}
    for spec in fields:
        if spec.extractive and spec.name in reply.data:
            _ground_into(answers[spec.name], spec, reply.data[spec.name], grounder, reply.completion)
            if answers[spec.name].unfound:
                unfound[spec.name] = answers[spec.name].unfound
    if not unfound or reply.completion is None:
        return answers
    asked = [spec for spec in fields if spec.name in unfound]
    shown = {name: v[0] if len(v) == 1 else v for name, v in unfound.items()}
    messages = [*prompt.messages, Message("assistant", reply.completion.text[:4000]), reask_message(shown, language)]
    again = ask(backend, messages, asked, prompt.max_tokens)
    for spec in asked:
        answer = answers[spec.name]
        answer.unfound = []
        if spec.name in again.data:
            _ground_into(answer, spec, again.data[spec.name], grounder, again.completion)
    return answers


def _ground_into(
    answer: Answer, spec: FieldSpec, value: Any, grounder: Grounder, completion: Completion | None
) -> None:
    for text in _written(value):
        evidence = grounder.locate(text, spec)
        if evidence is None:
            answer.unfound.append(text)
        else:
            answer.values.append((text, evidence))
            answer.probability = min(answer.probability, value_probability(completion, spec.name, text))
    if answer.unfound:
        # Never log the values themselves: logs must not hold document content.
        log.info("field %s: %d written value(s) not in the OCR text", spec.name, len(answer.unfound))


# ------------------------------------------------------------------ merging and results


def _item(spec: FieldSpec, text: str, evidence: Evidence, probability: float) -> FieldItem | None:
    written = strip_keys(text, spec.aliases)
    value = normalize_value(written, None if spec.type is FieldType.list else spec.normalize)
    if not value or not spec.matches(value):
        return None
    confidence = probability * evidence.similarity * (0.5 + 0.5 * evidence.ocr_confidence)
    return FieldItem(
        value=value, raw=evidence.raw, confidence=round(min(1.0, confidence), 4), page=evidence.page, box=evidence.box
    )


def merge_answers(spec: FieldSpec, answers: list[Answer]) -> FieldResult:
    """One field's result from every chunk's answer, the evidence kept.

    A list field gathers every distinct item in document order; a scalar takes the value most chunks
    agree on, then the most confident, then the first.  An error stands only when no chunk found a value."""
    items: list[FieldItem] = []
    votes: dict[str, int] = {}
    for answer in answers:
        for text, evidence in answer.values:
            item = _item(spec, text, evidence, answer.probability)
            if item is None:
                continue
            key = re.sub(r"\s+", "", item.value).lower()
            votes[key] = votes.get(key, 0) + 1
            if votes[key] == 1:
                items.append(item)
    if not items:
        errors = [a.error for a in answers if a.error]
        return make_field(None, confidence=0.0) if not errors else _failed(errors[0])
    if spec.type is FieldType.list:
        first = items[0]
        return FieldResult(
            value=LIST_JOINER.join(item.value for item in items),
            raw=first.raw,
            confidence=min(item.confidence for item in items),
            page=first.page,
            box=first.box,
            items=items,
        )

    def key_of(item: FieldItem) -> str:
        return re.sub(r"\s+", "", item.value).lower()

    best = max(items, key=lambda item: (votes[key_of(item)], item.confidence))
    derived = best.raw if spec.type in (FieldType.date, FieldType.amount) and best.value != best.raw else None
    return FieldResult(
        value=best.value,
        raw=best.raw,
        confidence=best.confidence,
        page=best.page,
        box=best.box,
        derived_from=derived,
    )


def _failed(code: str) -> FieldResult:
    result = make_field(None, confidence=0.0)
    result.error = code
    return result


# ------------------------------------------------------------------ the strategy


def plan_prompts(
    fields: list[FieldSpec], view: DocView, language: str, context_tokens: int, count_tokens: Callable[[str], int]
) -> list[GeneratePrompt]:
    """The whole document in one prompt when it fits the context, else one prompt per chunk of rows."""
    rows = _page_rows(numbered_pages(view), language)
    whole = build_generate_prompt(fields, "\n".join(rows), language=language)
    overhead = count_tokens("\n".join(m.content for m in build_generate_prompt(fields, "", language=language).messages))
    budget = int(context_tokens * CONTEXT_MARGIN) - whole.max_tokens - overhead
    if count_tokens("\n".join(rows)) <= budget:
        return [whole]
    if budget < 64:
        budget = 64  # a context smaller than the field list: read in small pieces rather than not at all
    chunks = chunk_rows(rows, budget, count_tokens)
    return [
        build_generate_prompt(fields, "\n".join(chunk), language=language, part=(k + 1, len(chunks)))
        for k, chunk in enumerate(chunks)
    ]


def generate_document(
    document: Document,
    schema: Schema,
    view: DocView,
    language: str,
    options: Options,
    backend_getter: Callable[[], LLMBackend],
    timings: dict[str, float],
) -> ExtractionResult:
    """Extract every field of ``schema`` from ``document`` with the generate strategy."""
    t0 = time.perf_counter()
    backend = backend_getter()
    context = options.backend.context_tokens or backend.context_window()
    grounder = Grounder(view)
    prompts = plan_prompts(schema.fields, view, language, context, backend.count_tokens)
    timings["prompt"] = time.perf_counter() - t0
    t1 = time.perf_counter()

    def read(prompt: GeneratePrompt) -> dict[str, Answer]:
        return read_chunk(backend, prompt, schema.fields, grounder, language)

    if len(prompts) == 1:
        per_chunk = [read(prompts[0])]
    else:
        # Chunks go to the server together (bounded by backend.max_in_flight) so a GPU server batches them.
        with ThreadPoolExecutor(max_workers=min(len(prompts), options.backend.max_in_flight)) as pool:
            per_chunk = list(pool.map(read, prompts))
    timings["generate"] = time.perf_counter() - t1
    fields: dict[str, FieldResult] = {}
    for spec in schema.fields:
        if not spec.extractive:
            fields[spec.name] = stage_derive(spec, view.full_text)
        else:
            fields[spec.name] = merge_answers(spec, [chunk[spec.name] for chunk in per_chunk])
    return ExtractionResult(
        file=document.file, fields=fields, document=document, timings={k: round(v, 3) for k, v in timings.items()}
    )

"""The one place where extraction prompts are built.

The model never writes a value: it is shown the relevant document lines and a numbered
list of candidates for ONE field, and answers ``{"<field>": <index or null>}`` under a
JSON schema whose enum lists exactly the allowed indices (grammar-constrained on the
local backend).  The fine-tuning data builder imports :func:`build_prompt` so that
training samples and inference use exactly the same text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from chatocr.backends.base import Message
from chatocr.fields.spec import FieldSpec

PROMPT_VERSION = "choose-v1"

_SYSTEM = {
    "en": (
        "You read the OCR text of a document and decide which candidate is the value of the requested field. "
        "Answer with the number of the right candidate, or null when none of them is the value."
    ),
    "zh": "你阅读文档的OCR文本，判断哪个候选项是所问字段的值。只回答正确候选项的编号；若都不是，回答 null。",
}


@dataclass
class Prompt:
    messages: list[Message]
    json_schema: dict[str, Any]
    options: list[int]  # the indices the model may answer (positions in the candidate list)


def detect_language(text: str) -> str:
    """zh when CJK characters make up a noticeable share of the letters, else en."""
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk >= 0.2 * max(1, cjk + latin) and cjk >= 2 else "en"


def choice_schema(field_name: str, n_options: int) -> dict[str, Any]:
    """{"<field>": {"enum": [0, 1, ..., n-1, null]}}: the reply is always a valid choice."""
    return {
        "type": "object",
        "properties": {field_name: {"enum": [*range(n_options), None]}},
        "required": [field_name],
        "additionalProperties": False,
    }


def build_prompt(
    spec: FieldSpec,
    candidates: list[str],
    context_lines: list[tuple[int, str]],
    *,
    language: str = "en",
) -> Prompt:
    """Build the chat messages and JSON schema that ask the model to choose a candidate.

    ``candidates``: candidate values as printed, in the order the model sees them.
    ``context_lines``: ``(line_number, text)`` of the document lines relevant to this field
    (the lines the candidates came from and their neighbours), in reading order.
    ``language``: "zh" or "en" (prompt language).
    """
    lang = "zh" if language == "zh" else "en"
    doc = "\n".join(f"[{n}] {text}" for n, text in context_lines)
    described = f"{spec.name}" + (f" ({spec.description})" if spec.description else "")
    options = "\n".join(f"{i}: {text}" for i, text in enumerate(candidates))
    if lang == "zh":
        user = (
            f"文档内容：\n{doc}\n\n字段：{described}\n候选项：\n{options}\n\n"
            f'哪个候选项是“{spec.name}”？回答 JSON：{{"{spec.name}": 编号或 null}}'
        )
    else:
        user = (
            f"Document:\n{doc}\n\nField: {described}\nCandidates:\n{options}\n\n"
            f'Which candidate is the {spec.name}? Answer JSON: {{"{spec.name}": number or null}}'
        )
    messages = [Message("system", _SYSTEM[lang]), Message("user", user)]
    return Prompt(messages, choice_schema(spec.name, len(candidates)), list(range(len(candidates))))


def parse_choice(text: str, field_name: str, n_options: int) -> int | None:
    """The chosen index from a reply; raises ValueError when the reply is not a valid choice."""
    data = json.loads(text)
    if not isinstance(data, dict) or field_name not in data:
        raise ValueError(f"reply has no key {field_name!r}")
    choice = data[field_name]
    if choice is None:
        return None
    if isinstance(choice, str) and choice.strip().isdigit():
        choice = int(choice.strip())
    if not isinstance(choice, int) or isinstance(choice, bool) or not 0 <= choice < n_options:
        raise ValueError(f"{choice!r} is not one of 0..{n_options - 1} or null")
    return choice


def choice_probability(token_logprobs: list[tuple[str, float]], answer: int | None) -> float | None:
    """Probability the model gave its answer: the product over the tokens that spell it."""
    import math

    target = "null" if answer is None else str(answer)
    texts = [t for t, _ in token_logprobs]
    joined = "".join(texts)
    # Find the answer after the key's colon; sum the log-probabilities of the tokens covering it.
    colon = joined.find(":")
    start = joined.find(target, colon + 1 if colon >= 0 else 0)
    if start < 0:
        return None
    end, pos, total = start + len(target), 0, 0.0
    for text, logprob in token_logprobs:
        t_start, t_end = pos, pos + len(text)
        if t_end > start and t_start < end:
            total += logprob
        pos = t_end
    return math.exp(total)

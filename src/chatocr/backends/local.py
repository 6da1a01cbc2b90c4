"""The ``local`` backend: llama-cpp-python running a GGUF model on the CPU, offline.

Decoding is greedy and, when a JSON schema is given, constrained by a llama.cpp
grammar generated from it, so the reply is always JSON with exactly the requested
keys.  Give string fields a ``maxLength``: the grammar then closes a runaway string
instead of running into ``max_tokens`` (which raises MalformedReplyError).

We drive llama.cpp's token loop ourselves (rather than ``create_chat_completion``)
to read the log-probability of each generated token from the last position's
logits: the library's own logprobs need ``logits_all=True``, which keeps a
vocabulary-sized row of floats for every prompt token (about 400 MB at 2048 tokens
for SmolLM2's 49k vocabulary).

One ``Llama`` object per (model file, context size, threads) is created per process
and shared by every backend instance; a lock serialises calls because a llama.cpp
context is not thread-safe.  The KV cache is reused across calls for the longest
common prompt prefix, so a shared system prompt is evaluated once.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatocr.backends.base import BACKENDS, Completion, LLMBackend, Message
from chatocr.backends.models import LocalModel, resolve_local_model
from chatocr.errors import BackendError, MalformedReplyError, MissingDependencyError
from chatocr.options import BackendOptions

log = logging.getLogger(__name__)

# ChatML, used when a GGUF carries no chat template (SmolLM2 and our fine-tunes are ChatML models).
_CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def grammar_schema(schema: Any) -> Any:
    """Rewrite ``{"type": ["string", "null"], "maxLength": 40}`` as an ``anyOf`` of single types.

    llama.cpp's schema-to-grammar converter ignores ``maxLength``, ``pattern`` and the like
    when ``type`` is a list; split that way they are enforced.  Bounding string lengths is
    what stops a small model's runaway string before ``max_tokens`` is reached.
    """
    if isinstance(schema, list):
        return [grammar_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: grammar_schema(value) if key != "enum" else value for key, value in schema.items()}
    kinds = schema.get("type")
    if isinstance(kinds, list) and len(kinds) > 1:
        shared = {k: v for k, v in schema.items() if k in ("description", "title")}
        specific = {k: v for k, v in schema.items() if k not in ("type", "description", "title")}
        schema = {**shared, "anyOf": [{"type": kind, **(specific if kind != "null" else {})} for kind in kinds]}
    return schema


def default_threads() -> int:
    """All cores, at most 8: prompt evaluation dominates our latency and scales with cores."""
    return max(1, min(8, os.cpu_count() or 1))


def _import_llama_cpp() -> Any:
    # llama.cpp's OpenMP workers spin while waiting by default; on a small, busy CPU that
    # steals the cores the other workers need and is several times slower.  Must be set
    # before the library is loaded.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependencyError(
            "the local backend needs llama-cpp-python", hint="pip install 'chatocr[local]'"
        ) from None
    return llama_cpp


@dataclass
class _LoadedModel:
    """A Llama object shared by every LocalBackend that uses the same file and settings."""

    llama: Any
    formatter: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    load_seconds: float = 0.0
    grammars: dict[str, Any] = field(default_factory=dict)


_LOADED: dict[tuple[str, int, int], _LoadedModel] = {}
_LOADED_LOCK = threading.Lock()


def _load(path: Path, n_ctx: int, n_threads: int) -> _LoadedModel:
    key = (str(path), n_ctx, n_threads)
    with _LOADED_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        llama_cpp = _import_llama_cpp()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        started = time.perf_counter()
        try:
            llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_batch=512,
                logits_all=False,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp could not load {path}: {exc}") from None
        model = llama._model
        eos_id = llama.token_eos()
        bos_id = llama.token_bos()
        template = llama.metadata.get("tokenizer.chat_template") or _CHATML
        formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos_id) if eos_id >= 0 else "",
            bos_token=model.token_get_text(bos_id) if bos_id >= 0 else "",
            stop_token_ids=[eos_id],
        )
        loaded = _LoadedModel(llama=llama, formatter=formatter, load_seconds=time.perf_counter() - started)
        log.info("loaded %s in %.2f s (n_ctx=%d, threads=%d)", path.name, loaded.load_seconds, n_ctx, n_threads)
        _LOADED[key] = loaded
        return loaded


class _Utf8Pieces:
    """Turns token bytes into text pieces whose concatenation is the decoded reply.

    A Chinese character is often split over two or three byte-level tokens; the piece
    of a token that ends mid-character is empty and the character goes to the token
    that completes it.
    """

    def __init__(self) -> None:
        self.pending = b""

    def push(self, data: bytes) -> str:
        self.pending += data
        for cut in range(len(self.pending), max(len(self.pending) - 4, -1), -1):
            try:
                text = self.pending[:cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            self.pending = self.pending[cut:]
            return text
        # Not UTF-8 at all (should not happen with a byte-level vocabulary): do not get stuck.
        text, self.pending = self.pending.decode("utf-8", errors="replace"), b""
        return text


class LocalBackend(LLMBackend):
    """llama.cpp on the CPU (offline, no key); grammar-constrained JSON."""

    name = "local"
    supports_schema = True
    supports_logprobs = True

    def __init__(self, options: BackendOptions | None = None) -> None:
        self.options = options or BackendOptions.model_validate({})
        if importlib.util.find_spec("llama_cpp") is None:  # fail before any OCR work, not at the first call
            raise MissingDependencyError(
                "the local backend needs llama-cpp-python", hint="pip install 'chatocr[local]'"
            )
        self.model: LocalModel = resolve_local_model(self.options.model)
        self.n_threads = self.options.n_threads or default_threads()
        self.context_tokens = self.options.n_ctx
        self._loaded: _LoadedModel | None = None

    @property
    def loaded(self) -> _LoadedModel:
        if self._loaded is None:
            self._loaded = _load(self.model.path, self.context_tokens, self.n_threads)
        return self._loaded

    def describe(self) -> str:
        return f"local:{self.model.name} ({self.model.path.name})"

    def count_tokens(self, text: str) -> int:
        return len(self.loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _grammar(self, json_schema: dict[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar

        key = json.dumps(json_schema, sort_keys=True, ensure_ascii=False)
        grammars = self.loaded.grammars
        if key not in grammars:
            try:
                grammars[key] = LlamaGrammar.from_json_schema(json.dumps(grammar_schema(json_schema)), verbose=False)
            except Exception as exc:  # the converter raises bare Exceptions for unsupported schema features
                raise BackendError(f"cannot build a decoding grammar from the JSON schema: {exc}") from None
        return grammars[key]

    def _prompt_tokens(self, messages: list[Message]) -> list[int]:
        loaded = self.loaded
        formatted = loaded.formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        add_bos = not formatted.added_special
        return list(loaded.llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=add_bos, special=True))

    def complete(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
    ) -> Completion:
        loaded = self.loaded
        llama = loaded.llama
        grammar = self._grammar(json_schema) if json_schema is not None else None
        with loaded.lock:
            prompt = self._prompt_tokens(messages)
            if len(prompt) + max_tokens > self.context_tokens:
                raise BackendError(
                    f"the prompt has {len(prompt)} tokens; with {max_tokens} for the reply it exceeds "
                    f"the model context of {self.context_tokens} tokens",
                    hint="send fewer OCR lines per request",
                )
            pieces = _Utf8Pieces()
            token_logprobs: list[tuple[str, float]] = []
            generated: list[int] = []
            # temp 0 means a greedy sampler; repeat_penalty 1 disables the penalty stage.
            try:
                tokens = llama.generate(prompt, temp=0.0, repeat_penalty=1.0, grammar=grammar, reset=True)
                finished = self._decode(tokens, max_tokens, pieces, token_logprobs, generated)
            except RuntimeError as exc:  # llama_decode failures surface as RuntimeError
                llama.reset()
                raise BackendError(f"llama.cpp failed while generating: {exc}") from None
            text = "".join(piece for piece, _ in token_logprobs) + pieces.push(b"")
        if grammar is not None and not finished:
            raise MalformedReplyError(
                f"the reply reached max_tokens={max_tokens} before its JSON was complete",
                hint="raise max_tokens, bound string fields with maxLength, or ask for fewer fields at once",
            )
        return Completion(
            text=text,
            token_logprobs=token_logprobs,
            prompt_tokens=len(prompt),
            completion_tokens=len(generated),
            model=self.model.name,
        )

    def _decode(
        self,
        tokens: Any,
        max_tokens: int,
        pieces: _Utf8Pieces,
        token_logprobs: list[tuple[str, float]],
        generated: list[int],
    ) -> bool:
        """Consume the greedy token stream; returns True when the model ended its reply itself."""
        import numpy as np

        llama_cpp = _import_llama_cpp()
        llama = self.loaded.llama
        vocab = llama._model.vocab
        n_vocab = llama.n_vocab()
        for token in tokens:
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                return True
            # The logits that chose this token are still the context's last row here.
            logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,))
            peak = float(logits.max())
            log_norm = peak + float(np.log(np.exp(logits - peak).sum()))
            piece = pieces.push(llama._model.detokenize([token], special=False))
            token_logprobs.append((piece, float(logits[token]) - log_norm))
            generated.append(token)
            if len(generated) >= max_tokens:
                return False
        return False


@BACKENDS.register("local", "llama.cpp on the CPU, offline (default model: chatocr-default)")
def _create_local(options: BackendOptions) -> LLMBackend:
    return LocalBackend(options)

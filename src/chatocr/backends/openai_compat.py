"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM, LMDeploy, Ollama, llama.cpp, hosted APIs).

Structured output is asked for with ``response_format`` in the strongest form the
server accepts, falling back when it answers 400/422 about the format:

1. ``{"type": "json_schema", "json_schema": {...}}`` (OpenAI, vLLM, recent llama.cpp),
2. ``{"type": "json_object", "schema": {...}}`` (llama-cpp-python's server, Anyscale),
3. ``{"type": "json_object"}``,
4. no ``response_format``; the schema goes into the prompt.

Every reply is validated against the schema and re-asked with the validation error
at most ``max_retries`` times.  Connection errors, 5xx and 429 are retried with
exponential backoff; other 4xx answers raise :class:`BackendError` with the
server's message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from typing import Any

from chatocr.backends.base import BACKENDS, Completion, LLMBackend, Message
from chatocr.backends.json_reply import complete_with_reasks, schema_instruction
from chatocr.backends.local import grammar_schema
from chatocr.errors import BackendError, BackendTimeoutError, BackendUnavailableError, OptionsError
from chatocr.options import BackendOptions

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Response-format modes, strongest first (see the module docstring).
FORMAT_MODES = ("json_schema", "json_object_schema", "json_object", "prompt")
_RETRY_STATUSES = {429, 500, 502, 503, 504}
# Context assumed when neither --context-tokens nor the server says: every chat model served today has at least this.
DEFAULT_CONTEXT_TOKENS = 4096
_MAX_BACKOFF_S = 8.0


def _server_message(response: Any) -> str:
    """The error text a server put in its reply (OpenAI style ``{"error": {"message": ...}}`` or FastAPI ``detail``)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500].strip() or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:500]
        if isinstance(error, str):
            return error[:500]
        if "detail" in body:
            return json.dumps(body["detail"], ensure_ascii=False)[:500]
    return json.dumps(body, ensure_ascii=False)[:500]


def _about_response_format(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in ("response_format", "json_schema", "json_object", "schema", "grammar"))


class OpenAIBackend(LLMBackend):
    """Any OpenAI-compatible server: --base-url, --model, key from --api-key-env."""

    name = "openai"
    supports_schema = True
    supports_logprobs = True

    def __init__(self, options: BackendOptions | None = None, *, backoff_s: float = 0.5) -> None:
        import httpx

        self.options = options or BackendOptions.model_validate({"name": "openai"})
        self.base_url = (self.options.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise OptionsError(f"--base-url must start with http:// or https://, got {self.base_url!r}")
        self.api_key_env = self.options.api_key_env
        self.model_name: str | None = self.options.model
        self.backoff_s = backoff_s
        self.format_mode = FORMAT_MODES[0]
        self._logprobs_supported = True
        self._lock = threading.Lock()
        # One bound for every thread sharing this backend (server request threads, a document's chunks).
        self._in_flight = threading.BoundedSemaphore(self.options.max_in_flight)
        self.context_tokens = self.options.context_tokens or DEFAULT_CONTEXT_TOKENS
        self._context_known = self.options.context_tokens is not None
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(self.api_key_env)
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(self.options.timeout_s, connect=min(self.options.timeout_s, 10.0)),
        )

    def describe(self) -> str:
        return f"openai:{self.model_name or '?'} @ {self.base_url}"

    def close(self) -> None:
        self._client.close()

    # -- HTTP with retries -------------------------------------------------------------
    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """One API call with bounded retries; returns the httpx response of the final try (status < 500, not 429)."""
        import httpx

        attempts = self.options.max_retries + 1
        for attempt in range(1, attempts + 1):
            last_try = attempt == attempts
            try:
                response = self._client.request(method, path, json=payload)
            except httpx.TimeoutException as exc:
                # A read timeout already waited timeout_s: retrying would multiply the wait.
                if isinstance(exc, httpx.ConnectTimeout) and not last_try:
                    self._sleep(attempt, None)
                    continue
                raise BackendTimeoutError(
                    f"{self.base_url} did not answer within {self.options.timeout_s:g} s",
                    hint="raise --timeout or check the server's load",
                ) from None
            except httpx.TransportError as exc:
                if not last_try:
                    self._sleep(attempt, None)
                    continue
                raise BackendUnavailableError(
                    f"cannot reach the LLM server at {self.base_url}: {exc}",
                    hint="is the server running? check --base-url",
                ) from None
            if response.status_code in _RETRY_STATUSES and not last_try:
                self._sleep(attempt, response.headers.get("retry-after"))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff_s * 2 ** (attempt - 1)
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = max(delay, float(retry_after))
        log.info("retrying %s in %.1f s (attempt %d)", self.base_url, delay, attempt + 1)
        time.sleep(min(delay, _MAX_BACKOFF_S))

    def _raise_for_status(self, response: Any) -> None:
        if response.status_code < 400:
            return
        message = _server_message(response)
        if response.status_code in (401, 403):
            where = f"${self.api_key_env}" + ("" if os.environ.get(self.api_key_env) else " (not set)")
            raise BackendError(
                f"the LLM server refused the request ({response.status_code}): {message}",
                hint=f"check the API key in {where}; choose another variable with --api-key-env",
            )
        raise BackendError(f"the LLM server answered {response.status_code}: {message}")

    # -- model discovery ---------------------------------------------------------------
    def _model(self) -> str:
        """The model to ask for: --model, else the server's only (or first) model."""
        if self.model_name:
            return self.model_name
        response = self._request("GET", "/models")
        self._raise_for_status(response)
        try:
            models = [m["id"] for m in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            models = []
        if not models:
            raise OptionsError(f"{self.base_url} lists no models; pass --model")
        self.model_name = models[0]
        return self.model_name

    def context_window(self) -> int:
        """--context-tokens, else the model's ``max_model_len`` from GET /models (vLLM), else 4096."""
        with self._lock:
            if self._context_known:
                return self.context_tokens
            self._context_known = True
        try:
            response = self._request("GET", "/models")
            entries = response.json()["data"] if response.status_code == 200 else []
        except (BackendError, ValueError, KeyError, TypeError):
            entries = []
        wanted = self.model_name
        for entry in entries:
            if isinstance(entry, dict) and (wanted is None or entry.get("id") == wanted):
                reported = entry.get("max_model_len") or entry.get("context_length")
                if isinstance(reported, int) and reported >= 512:
                    self.context_tokens = reported
                break
        return self.context_tokens

    # -- completion --------------------------------------------------------------------
    def _payload(self, messages: list[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> dict[str, Any]:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        payload: dict[str, Any] = {
            "model": self._model(),
            "messages": chat,
            "temperature": 0,
            "max_tokens": max_tokens,
            "seed": 0,
        }
        if self._logprobs_supported:
            payload["logprobs"] = True
        if json_schema is None:
            return payload
        if self.format_mode == "json_schema":
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "fields", "schema": json_schema, "strict": True},
            }
        elif self.format_mode == "json_object_schema":
            # llama-cpp-python's server turns this schema into a grammar with the converter the local
            # backend uses, which drops "items" (and string bounds) beside a list of types: an array
            # field would admit any items.  Split as for the local backend, every constraint holds.
            payload["response_format"] = {"type": "json_object", "schema": grammar_schema(json_schema)}
        elif self.format_mode == "json_object":
            payload["response_format"] = {"type": "json_object"}
        if self.format_mode != "json_schema":
            # Without server-side enforcement the model must read the schema.
            instruction = schema_instruction(json_schema)
            if chat and chat[0]["role"] == "system":
                chat[0] = {"role": "system", "content": chat[0]["content"] + "\n\n" + instruction}
            else:
                chat.insert(0, {"role": "system", "content": instruction})
        return payload

    def _ask_once(self, messages: list[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> Completion:
        while True:
            mode, with_logprobs = self.format_mode, self._logprobs_supported
            payload = self._payload(messages, json_schema, max_tokens)
            with self._in_flight:
                response = self._request("POST", "/chat/completions", payload)
            if response.status_code in (400, 422, 500):
                message = _server_message(response)
                # Servers that cannot return logprobs (llama.cpp without logits_all) say so; ask without.
                if with_logprobs and "logprob" in message.lower():
                    self._logprobs_supported = False
                    continue
                # Some servers (llama-cpp-python) answer 500 to a request body they fail to validate.
                if json_schema is not None and mode != "prompt" and _about_response_format(message):
                    with self._lock:  # concurrent callers may race here: downgrade once per rejected mode
                        if self.format_mode == mode:
                            self.format_mode = FORMAT_MODES[FORMAT_MODES.index(mode) + 1]
                            log.info("%s rejected response_format %s; trying %s", self.base_url, mode, self.format_mode)
                    continue
            self._raise_for_status(response)
            return self._parse(response)

    def _parse(self, response: Any) -> Completion:
        try:
            body = response.json()
            choice = body["choices"][0]
            text = choice["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            # Not an OpenAI-shaped body: treated like an invalid reply (re-asked).
            return Completion(text=response.text[:2000], model=self.model_name or "")
        token_logprobs: list[tuple[str, float]] = []
        content = (choice.get("logprobs") or {}).get("content") or []
        for item in content:
            if isinstance(item, dict) and "token" in item and "logprob" in item:
                token_logprobs.append((str(item["token"]), float(item["logprob"])))
        usage = body.get("usage") or {}
        return Completion(
            text=text,
            token_logprobs=token_logprobs,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            model=str(body.get("model") or self.model_name or ""),
        )

    def complete(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
    ) -> Completion:
        # No lock around requests: httpx.Client is thread-safe and servers batch concurrent calls.
        if json_schema is None:
            return self._ask_once(messages, None, max_tokens)
        return complete_with_reasks(
            lambda conversation: self._ask_once(conversation, json_schema, max_tokens),
            messages,
            json_schema,
            max_reasks=self.options.max_retries,
            backend_name=self.name,
        )


@BACKENDS.register("openai", "any OpenAI-compatible server (--base-url, --model, --api-key-env)")
def _create_openai(options: BackendOptions) -> LLMBackend:
    return OpenAIBackend(options)

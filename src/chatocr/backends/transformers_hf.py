"""The ``transformers`` backend: a local Hugging Face checkpoint or PEFT adapter directory, on the CPU.

``--model PATH`` names a folder holding either a full checkpoint (``config.json``)
or a PEFT adapter (``adapter_config.json``, whose base model must also be a local
folder: nothing is downloaded).  Decoding is greedy with the tokenizer's chat
template; the caller's prompt is sent as is, and the reply is validated against
the JSON schema and re-asked with the validation error at most ``max_retries``
times (no grammar here).

Needs the ``finetune`` extra (torch==2.13.0, transformers, peft).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from chatocr.backends.base import BACKENDS, Completion, LLMBackend, Message
from chatocr.backends.json_reply import complete_with_reasks
from chatocr.errors import BackendError, MissingDependencyError, OptionsError
from chatocr.options import BackendOptions

_INSTALL_HINT = "pip install 'chatocr[finetune]' (torch==2.13.0, transformers, peft)"


def _import_torch_transformers() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingDependencyError(
            f"the transformers backend needs {exc.name or 'torch and transformers'}", hint=_INSTALL_HINT
        ) from None
    return torch, transformers


class TransformersBackend(LLMBackend):
    """A local Hugging Face checkpoint or PEFT adapter (--model PATH), greedy on the CPU."""

    name = "transformers"
    supports_schema = True  # by validation and re-asking
    supports_logprobs = True

    def __init__(self, options: BackendOptions | None = None) -> None:
        self.options = options or BackendOptions.model_validate({"name": "transformers"})
        if not self.options.model:
            raise OptionsError("the transformers backend needs --model PATH (a checkpoint or adapter folder)")
        self.path = Path(self.options.model).expanduser()
        if not self.path.is_dir():
            raise OptionsError(f"--model {self.path} is not a folder holding a Hugging Face checkpoint or adapter")
        self.is_adapter = (self.path / "adapter_config.json").is_file()
        if not self.is_adapter and not (self.path / "config.json").is_file():
            raise OptionsError(f"{self.path} has neither config.json (checkpoint) nor adapter_config.json (adapter)")
        self.torch, self.transformers = _import_torch_transformers()
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        torch, transformers = self.torch, self.transformers
        if self.options.n_threads:
            torch.set_num_threads(self.options.n_threads)
        base_path = self.path
        if self.is_adapter:
            try:
                import peft
            except ImportError:
                raise MissingDependencyError("a PEFT adapter needs the peft package", hint=_INSTALL_HINT) from None
            adapter = json.loads((self.path / "adapter_config.json").read_text(encoding="utf-8"))
            base_path = Path(str(adapter.get("base_model_name_or_path") or "")).expanduser()
            if not base_path.is_absolute():
                base_path = (self.path / base_path).resolve()
            if not (base_path / "config.json").is_file():
                raise OptionsError(
                    f"the adapter's base model {adapter.get('base_model_name_or_path')!r} is not a local checkpoint",
                    hint="set base_model_name_or_path in adapter_config.json to a local folder",
                )
        try:
            tokenizer_path = self.path if (self.path / "tokenizer_config.json").is_file() else base_path
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(tokenizer_path), local_files_only=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                str(base_path), local_files_only=True, torch_dtype=torch.float32
            )
            if self.is_adapter:
                model = peft.PeftModel.from_pretrained(model, str(self.path), local_files_only=True)
                model = model.merge_and_unload()  # plain model: faster greedy decoding
        except (OSError, ValueError) as exc:
            raise BackendError(f"could not load the model from {self.path}: {exc}") from None
        model.eval()
        self.model = model
        self.context_tokens = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)

    def describe(self) -> str:
        return f"transformers:{self.path}" + (" (adapter)" if self.is_adapter else "")

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prompt_ids(self, messages: list[Message]) -> Any:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        else:
            # No template in the checkpoint: a plain ChatML rendering, which SmolLM2-style models know.
            text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in chat)
            text += "<|im_start|>assistant\n"
        return self.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]

    def _generate(self, messages: list[Message], max_tokens: int) -> Completion:
        torch = self.torch
        input_ids = self._prompt_ids(messages)
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos
        with self._lock, torch.inference_mode():
            output = self.model.generate(
                input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=max_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=pad,
                eos_token_id=eos,
                output_scores=True,
                return_dict_in_generate=True,
            )
        new_ids = output.sequences[0, input_ids.shape[1] :].tolist()
        token_logprobs: list[tuple[str, float]] = []
        kept: list[int] = []
        for token_id, scores in zip(new_ids, output.scores, strict=False):
            if eos is not None and token_id == eos:
                break
            logprob = float(torch.log_softmax(scores[0].float(), dim=-1)[token_id])
            kept.append(token_id)
            token_logprobs.append((self.tokenizer.decode([token_id], skip_special_tokens=True), logprob))
        text = self.tokenizer.decode(kept, skip_special_tokens=True)
        return Completion(
            text=text,
            token_logprobs=token_logprobs,
            prompt_tokens=int(input_ids.shape[1]),
            completion_tokens=len(kept),
            model=str(self.path),
        )

    def complete(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
    ) -> Completion:
        if json_schema is None:
            return self._generate(messages, max_tokens)
        # The caller's prompt is sent unchanged (a fine-tuned model expects its training prompt);
        # only a re-ask adds the validation error.
        return complete_with_reasks(
            lambda conversation: self._generate(conversation, max_tokens),
            messages,
            json_schema,
            max_reasks=self.options.max_retries,
            backend_name=self.name,
        )


@BACKENDS.register("transformers", "a local Hugging Face checkpoint or PEFT adapter folder (--model PATH)")
def _create_transformers(options: BackendOptions) -> LLMBackend:
    return TransformersBackend(options)

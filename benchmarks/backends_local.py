"""Speed of the `local` backend (llama.cpp + SmolLM2-135M GGUF) on real receipt text.

Measures model load time, the first call's latency, prompt-evaluation and generation
speed (tokens per second, wall clock and per CPU-second), and compares our decoding
loop (grammar from the JSON schema, logprobs from the last logits) with llama-cpp-python's
``create_chat_completion(response_format={"type": "json_object", "schema": ...})`` on the
same prompts: time per call and whether the replies are identical and valid.

    .venv/bin/python benchmarks/backends_local.py --limit 8

Writes benchmarks/results/backends_local.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "benchmarks" / "sroie"
FIELDS = ("company", "date", "address", "total")
SYSTEM = "Read the receipt text and answer the fields as JSON. Use null when a field is absent."


def receipt_prompts(limit: int) -> list[tuple[str, list[dict[str, str]]]]:
    files = sorted((DATA / "ocr").glob("*.json"))[:limit]
    if not files:
        sys.exit(f"no OCR files under {DATA / 'ocr'}")
    prompts = []
    for path in files:
        lines = [item["text"] for item in json.loads(path.read_text(encoding="utf-8"))][:40]
        user = "\n".join(lines) + "\n\nFields: " + ", ".join(FIELDS)
        prompts.append((path.stem, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]))
    return prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=8, help="SROIE documents (ground-truth OCR lines), sorted by id")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores, max 8)")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "backends_local.md")
    args = parser.parse_args()

    load_before = os.getloadavg()
    started = time.perf_counter()
    from chatocr.backends.base import Message
    from chatocr.backends.json_reply import check_reply
    from chatocr.backends.local import LocalBackend, _import_llama_cpp, default_threads, grammar_schema
    from chatocr.options import BackendOptions

    _import_llama_cpp()
    import_s = time.perf_counter() - started

    threads = args.threads or default_threads()
    backend = LocalBackend(BackendOptions(name="local", model=args.model, n_threads=threads))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    llama = backend.loaded.llama
    load_s, load_cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    field = {"type": ["string", "null"], "maxLength": 60}
    schema = {
        "type": "object",
        "properties": dict.fromkeys(FIELDS, field),
        "required": list(FIELDS),
        "additionalProperties": False,
    }
    prompts = receipt_prompts(args.limit)
    rows: list[dict[str, Any]] = []
    for index, (doc_id, chat) in enumerate(prompts):
        messages = [Message(m["role"], m["content"]) for m in chat]
        tokens = backend._prompt_tokens(messages)
        # Prompt evaluation alone, from an empty cache.
        llama.reset()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        llama.eval(tokens)
        pp_s, pp_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        # Our loop, from an empty cache (prompt evaluation included).
        llama.reset()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        ours = backend.complete(messages, json_schema=schema, max_tokens=200)
        ours_s, ours_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        # llama-cpp-python's chat completion with the same grammar, from an empty cache.
        llama.reset()
        wall0 = time.perf_counter()
        theirs = llama.create_chat_completion(
            messages=chat,
            temperature=0.0,
            max_tokens=200,
            response_format={"type": "json_object", "schema": grammar_schema(schema)},
        )
        theirs_s = time.perf_counter() - wall0
        theirs_text = theirs["choices"][0]["message"]["content"] or ""
        valid = {}
        for name, text in (("ours", ours.text), ("theirs", theirs_text)):
            try:
                check_reply(text, schema)
                valid[name] = True
            except ValueError:
                valid[name] = False
        gen_s = max(ours_s - pp_s, 1e-6)
        gen_cpu = max(ours_cpu - pp_cpu, 1e-6)
        rows.append(
            {
                "doc": doc_id,
                "first_call": index == 0,
                "prompt_tokens": len(tokens),
                "completion_tokens": ours.completion_tokens,
                "prompt_eval_s": round(pp_s, 3),
                "prompt_eval_cpu_s": round(pp_cpu, 3),
                "ours_s": round(ours_s, 3),
                "ours_cpu_s": round(ours_cpu, 3),
                "chat_completion_s": round(theirs_s, 3),
                "prompt_tok_per_s": round(len(tokens) / pp_s, 1),
                "prompt_tok_per_cpu_s": round(len(tokens) / max(pp_cpu, 1e-6), 1),
                "gen_tok_per_s": round(ours.completion_tokens / gen_s, 1),
                "gen_tok_per_cpu_s": round(ours.completion_tokens / gen_cpu, 1),
                "ours_valid": valid["ours"],
                "chat_completion_valid": valid["theirs"],
                "identical": ours.text.strip() == theirs_text.strip(),
                "reply": ours.text,
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)

    def median(key: str, only_warm: bool = True) -> float:
        values = [r[key] for r in rows if not (only_warm and r["first_call"])] or [r[key] for r in rows]
        return round(statistics.median(values), 2)

    load_after = os.getloadavg()
    summary = {
        "command": "python benchmarks/backends_local.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU cores, no GPU ({platform.machine()}, Python {platform.python_version()})",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "model": str(backend.model.path.name),
        "threads": threads,
        "import_llama_cpp_s": round(import_s, 2),
        "load_s": round(load_s, 2),
        "load_cpu_s": round(load_cpu, 2),
        "first_call_s": rows[0]["ours_s"],
        "median_call_s": median("ours_s"),
        "median_chat_completion_s": median("chat_completion_s"),
        "median_prompt_tokens": median("prompt_tokens", False),
        "median_completion_tokens": median("completion_tokens", False),
        "median_prompt_tok_per_s": median("prompt_tok_per_s"),
        "median_prompt_tok_per_cpu_s": median("prompt_tok_per_cpu_s"),
        "median_gen_tok_per_s": median("gen_tok_per_s"),
        "median_gen_tok_per_cpu_s": median("gen_tok_per_cpu_s"),
        "ours_valid": sum(r["ours_valid"] for r in rows),
        "chat_completion_valid": sum(r["chat_completion_valid"] for r in rows),
        "identical": sum(r["identical"] for r in rows),
        "documents": len(rows),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    s = summary
    busy = max(load_before[0], load_after[0]) > (os.cpu_count() or 1)
    shared_note = (
        " (the cores were shared with other work: wall times are upper bounds;"
        " the per-CPU-second rates are the steadier figure)"
        if busy
        else ""
    )
    table = [
        ("import llama_cpp", f"{s['import_llama_cpp_s']} s"),
        ("model load (once per process)", f"{s['load_s']} s wall, {s['load_cpu_s']} s CPU"),
        (f"first call (cold, prompt {rows[0]['prompt_tokens']} tokens)", f"{s['first_call_s']} s"),
        (
            f"median call, empty KV cache (prompt {s['median_prompt_tokens']} tokens, "
            f"reply {s['median_completion_tokens']} tokens)",
            f"{s['median_call_s']} s",
        ),
        (
            "prompt evaluation",
            f"{s['median_prompt_tok_per_s']} tokens/s wall, {s['median_prompt_tok_per_cpu_s']} tokens per CPU-second",
        ),
        (
            "grammar-constrained generation",
            f"{s['median_gen_tok_per_s']} tokens/s wall, {s['median_gen_tok_per_cpu_s']} tokens per CPU-second",
        ),
        (
            "same prompts via `create_chat_completion(response_format=json_object+schema)`",
            f"{s['median_chat_completion_s']} s median call",
        ),
        (
            "schema-valid replies: our loop / create_chat_completion",
            f"{s['ours_valid']} / {s['chat_completion_valid']} of {s['documents']}",
        ),
        ("identical replies (both greedy, same grammar)", f"{s['identical']} of {s['documents']}"),
    ]
    md = "\n".join(
        [
            f"## Local backend speed (llama.cpp, {s['model']})",
            "",
            f"- Command: `{s['command']}`",
            f"- Data: the first {s['documents']} SROIE receipts (sorted ids), their ground-truth OCR lines (at most 40"
            f" per receipt) as the prompt, asking for {', '.join(FIELDS)} under a JSON schema (nullable strings,"
            " maxLength 60)",
            f"- Machine: {s['machine']}, {s['threads']} llama.cpp thread(s); load average"
            f" {s['load_average_before'][0]} before and {s['load_average_after'][0]} after{shared_note}",
            f"- Date: {s['date']}",
            "",
            "| measure | value |",
            "|---|---|",
            *[f"| {name} | {value} |" for name, value in table],
            "",
            "The backend drives the token loop itself (grammar built once per schema and cached) because that is how"
            " it reads each generated token's log-probability from the last logits; `create_chat_completion` needs"
            " `logits_all=True` for logprobs, which stores a 49k-float row per prompt token. Repeated prompts share"
            " their prefix in the KV cache; the rows above clear it, so every call pays its full prompt.",
            "",
        ]
    )
    args.out.write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()

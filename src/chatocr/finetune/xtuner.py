"""An XTuner config for users of that tool (the one the original project fine-tuned InternLM2 with).

The config trains on chatocr's samples exported as ``chatocr data export --format xtuner``
(``{"conversation": [{"system", "input", "output"}]}``, which XTuner reads with
``dataset_map_fn=None``), with the LoRA and optimiser settings of a chatocr recipe.
"""

from __future__ import annotations

from pathlib import Path

from chatocr.files import atomic_write_text
from chatocr.finetune.recipe import Recipe

# XTuner prompt templates by model family (xtuner.utils.PROMPT_TEMPLATE keys).
_TEMPLATES = {"internlm2": "internlm2_chat", "qwen": "qwen_chat", "smollm2": "default"}

_CONFIG = """# XTuner config written by `chatocr finetune xtuner-config` from the chatocr recipe {recipe_name!r}.
# Train:  xtuner train {config_name}
# Merge:  xtuner convert pth_to_hf {config_name} <work_dir>/iter_*.pth <adapter_dir>
#         xtuner convert merge {model_path!r} <adapter_dir> <merged_dir>
import torch
from datasets import load_dataset
from mmengine.dataset import DefaultSampler
from mmengine.hooks import CheckpointHook, DistSamplerSeedHook, IterTimerHook, LoggerHook, ParamSchedulerHook
from mmengine.optim import AmpOptimWrapper, CosineAnnealingLR, LinearLR
from peft import LoraConfig
from torch.optim import AdamW
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

from xtuner.dataset import process_hf_dataset
from xtuner.dataset.collate_fns import default_collate_fn
from xtuner.dataset.map_fns import template_map_fn_factory
from xtuner.engine.hooks import DatasetInfoHook
from xtuner.engine.runner import TrainLoop
from xtuner.model import SupervisedFinetune
from xtuner.utils import PROMPT_TEMPLATE

#######################################################################
#                          PART 1  Settings                           #
#######################################################################
pretrained_model_name_or_path = {model_path!r}  # a local folder: nothing is downloaded
data_path = {data_path!r}  # chatocr data export --format xtuner
prompt_template = PROMPT_TEMPLATE.{template}
max_length = {max_length}
pack_to_max_length = False

batch_size = {batch_size}  # per device
accumulative_counts = {grad_accum}
dataloader_num_workers = 0
max_epochs = {epochs}
optim_type = AdamW
lr = {lr}
betas = (0.9, 0.999)
weight_decay = {weight_decay}
max_norm = 1
warmup_ratio = 0.03
save_steps = {save_every}
save_total_limit = 2
randomness = dict(seed={seed}, deterministic=False)

#######################################################################
#                      PART 2  Model & Tokenizer                      #
#######################################################################
tokenizer = dict(
    type=AutoTokenizer.from_pretrained,
    pretrained_model_name_or_path=pretrained_model_name_or_path,
    trust_remote_code=True,
    padding_side="right",
)

model = dict(
    type=SupervisedFinetune,
    llm=dict(
        type=AutoModelForCausalLM.from_pretrained,
        pretrained_model_name_or_path=pretrained_model_name_or_path,
        trust_remote_code=True,
        torch_dtype=torch.float16,
{quantization}    ),
    lora=dict(
        type=LoraConfig,
        r={lora_r},
        lora_alpha={lora_alpha},
        lora_dropout={lora_dropout},
        target_modules={target_modules!r},
        bias="none",
        task_type="CAUSAL_LM",
    ),
)

#######################################################################
#                      PART 3  Dataset & Dataloader                   #
#######################################################################
train_dataset = dict(
    type=process_hf_dataset,
    dataset=dict(type=load_dataset, path="json", data_files=dict(train=data_path)),
    tokenizer=tokenizer,
    max_length=max_length,
    dataset_map_fn=None,  # the samples are already {{"conversation": [...]}}
    template_map_fn=dict(type=template_map_fn_factory, template=prompt_template),
    remove_unused_columns=True,
    shuffle_before_pack=True,
    pack_to_max_length=pack_to_max_length,
)

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=dataloader_num_workers,
    dataset=train_dataset,
    sampler=dict(type=DefaultSampler, shuffle=True),
    collate_fn=dict(type=default_collate_fn),
)

#######################################################################
#                    PART 4  Scheduler & Optimizer                    #
#######################################################################
optim_wrapper = dict(
    type=AmpOptimWrapper,
    optimizer=dict(type=optim_type, lr=lr, betas=betas, weight_decay=weight_decay),
    clip_grad=dict(max_norm=max_norm, error_if_nonfinite=False),
    accumulative_counts=accumulative_counts,
    loss_scale="dynamic",
    dtype="float16",
)

param_scheduler = [
    dict(type=LinearLR, start_factor=1e-5, by_epoch=True, begin=0, end=warmup_ratio * max_epochs,
         convert_to_iter_based=True),
    dict(type=CosineAnnealingLR, eta_min=0.0, by_epoch=True, begin=warmup_ratio * max_epochs, end=max_epochs,
         convert_to_iter_based=True),
]

train_cfg = dict(type=TrainLoop, max_epochs=max_epochs)

#######################################################################
#                           PART 5  Runtime                           #
#######################################################################
custom_hooks = [dict(type=DatasetInfoHook, tokenizer=tokenizer)]

default_hooks = dict(
    timer=dict(type=IterTimerHook),
    logger=dict(type=LoggerHook, log_metric_by_epoch=False, interval=10),
    param_scheduler=dict(type=ParamSchedulerHook),
    checkpoint=dict(type=CheckpointHook, by_epoch=False, interval=save_steps, max_keep_ckpts=save_total_limit),
    sampler_seed=dict(type=DistSamplerSeedHook),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0),
    dist_cfg=dict(backend="nccl"),
)

visualizer = None
log_level = "INFO"
load_from = None
resume = False
log_processor = dict(by_epoch=False)
"""

_NF4 = """        quantization_config=dict(
            type=BitsAndBytesConfig,
            load_in_4bit=True,
            load_in_8bit=False,
            llm_int8_threshold=6.0,
            llm_int8_has_fp16_weight=False,
            bnb_4bit_compute_dtype=torch.float16,
            bnb_4bit_use_double_quant=True,
            bnb_4bit_quant_type="nf4",
        ),
"""


def template_for(recipe: Recipe) -> str:
    name = f"{recipe.name} {recipe.base.hint or ''}".lower()
    for family, template in _TEMPLATES.items():
        if family in name:
            return template
    return "default"


def xtuner_config(recipe: Recipe, data_path: str | Path, model_path: str | Path, out: str | Path) -> Path:
    """Write an XTuner config (a Python file) for ``recipe`` to ``out``."""
    out = Path(out)
    cfg = recipe.train
    text = _CONFIG.format(
        recipe_name=recipe.name,
        config_name=out.name,
        model_path=str(model_path),
        data_path=str(data_path),
        template=template_for(recipe),
        max_length=cfg.max_seq_len,
        batch_size=cfg.batch_size,
        grad_accum=cfg.grad_accum,
        epochs=cfg.epochs,
        lr=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        save_every=cfg.save_every,
        seed=cfg.seed,
        quantization=_NF4 if cfg.quantization == "nf4" else "",
        lora_r=recipe.lora.r,
        lora_alpha=recipe.lora.alpha,
        lora_dropout=recipe.lora.dropout,
        target_modules=recipe.lora.target_modules,
    )
    atomic_write_text(out, text)
    return out

"""Fine-tuning the embedded model: recipes, LoRA SFT with resumable checkpoints, merge to GGUF.

``chatocr finetune train`` (:mod:`chatocr.finetune.train`) needs the ``finetune`` extra (torch 2.13.0,
transformers, peft); ``chatocr finetune merge`` (:mod:`chatocr.finetune.merge`) needs only numpy and
gguf, so the shipped adapter can be merged into the bundled GGUF at install time without torch.
"""

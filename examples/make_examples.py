"""Regenerate the bundled example documents and their labels (fixed seeds).

.venv/bin/python examples/make_examples.py
"""

from __future__ import annotations

import json
from pathlib import Path

from chatocr.data.synth import render_one

HERE = Path(__file__).resolve().parent

# name -> (kind, layout, seed, language); degradation "mild" (a reasonable scan or photo).
EXAMPLES = {
    "certificate": ("certificate", "classic", 43, "zh"),
    "receipt_en": ("receipt", "thermal", 2, "en"),
}


def main() -> None:
    for name, (kind, layout, seed, lang) in EXAMPLES.items():
        doc = render_one(kind, layout, seed=seed, lang=lang, degrade="mild")
        (HERE / f"{name}.jpg").write_bytes(doc.jpeg_bytes())
        labels = json.dumps(doc.labels, ensure_ascii=False, indent=2) + "\n"
        (HERE / f"{name}.json").write_text(labels, encoding="utf-8")
        print(f"{name}.jpg {doc.image.width}x{doc.image.height} absent={doc.absent}")


if __name__ == "__main__":
    main()

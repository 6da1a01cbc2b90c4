"""What a printed text looks like, learned from labelled values: an address, a company, a person...

A linear model over hashed character n-grams gives, for any text, the probability of each coarse value
kind, of being a printed key (a form's question, the label before a value), or of being no field's value at
all.  The reader uses the probability of the asked field's kind as a feature, so "NO. 106, HIGH STREET,
40000 SHAH ALAM" reads as an address wherever it is printed, without a list of address words; and the
probability of a key, so a neighbouring question is not taken for an answer.  The weights are learned by
`chatocr finetune reader` from the training sources' labels (the lines printing a labelled field's name as
"key", their other lines as "none") and ship next to the reader model.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from chatocr.fields.lexicon import kind_of
from chatocr.fields.spec import FieldSpec

VALUE_KINDS_FILE = "value_kinds.npz"
# The coarse kinds a value is classed into; "none" is text that answers no labelled field; "key" is a printed
# field name (a line that reads as one of the document's labelled fields' names: 姓名, "Date:", 发票号码).
COARSE = {
    "address": "address",
    "company": "company",
    "issuer": "company",
    "person": "person",
    "phone": "phone",
    "date": "date",
    "amount": "amount",
    "number": "amount",
    "time": "time",
    "code": "code",
    "credit_code": "code",
    "id_card": "code",
    "train_no": "code",
}
CLASSES = ["none", "text", "address", "company", "person", "phone", "date", "amount", "time", "code", "key"]
BUCKETS = 1 << 15
_SPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


def coarse_kind(spec: FieldSpec) -> str:
    return COARSE.get(kind_of(spec), "text")


def grams(text: str) -> list[int]:
    """Hashed character 1-3-grams of the text with its ends marked; digits fold to one symbol (a
    postcode's shape counts, not its number)."""
    s = _DIGIT.sub("0", _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold().strip()))[:60]
    s = f"^{s}$"
    out = []
    for n in (1, 2, 3):
        for i in range(len(s) - n + 1):
            out.append(zlib.crc32(s[i : i + n].encode()) % BUCKETS)
    return out


class ValueKindModel:
    """Softmax weights over hashed n-grams: ``probabilities(texts)`` is (len(texts), len(CLASSES))."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray) -> None:
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)

    @classmethod
    def load(cls, path: Path) -> ValueKindModel | None:
        if not path.is_file():
            return None
        with np.load(path) as data:
            weights, bias = data["weights"], data["bias"]
        missing = len(CLASSES) - weights.shape[1]
        if missing > 0:  # a model of fewer classes (an older one): the classes it lacks are never predicted
            weights = np.hstack([weights, np.zeros((weights.shape[0], missing), dtype=weights.dtype)])
            bias = np.concatenate([bias, np.full(missing, -10.0, dtype=bias.dtype)])
        return cls(weights, bias)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, weights=self.weights, bias=self.bias)
        tmp.replace(path)

    def probabilities(self, texts: Iterable[str]) -> np.ndarray:
        rows: list[np.ndarray] = []
        seen: dict[str, np.ndarray] = {}
        for text in texts:
            logits = seen.get(text)
            if logits is None:
                ids = grams(text)
                logits = seen[text] = self.weights[ids].sum(axis=0) / max(1.0, np.sqrt(len(ids))) + self.bias
            rows.append(logits)
        if not rows:
            return np.zeros((0, len(CLASSES)))
        z = np.array(rows, dtype=np.float64)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)


def fit_value_kinds(examples: list[tuple[str, str]], seed: int = 0) -> ValueKindModel:
    """A multinomial logistic regression on (text, coarse kind) pairs (scikit-learn, at training time only)."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    indptr, indices, values, labels = [0], [], [], []
    for text, kind in examples:
        ids = grams(text)
        scale = 1.0 / max(1.0, np.sqrt(len(ids)))
        indices.extend(ids)
        values.extend([scale] * len(ids))
        indptr.append(len(indices))
        labels.append(CLASSES.index(kind))
    weights = np.zeros((BUCKETS, len(CLASSES)))
    bias = np.full(len(CLASSES), -10.0)  # a kind never seen in training is never predicted
    if len(set(labels)) < 2:  # too little to learn from (a tiny recipe): every text is the one kind seen
        bias[labels[0] if labels else 0] = 0.0
        return ValueKindModel(weights, bias)
    x = csr_matrix((values, indices, indptr), shape=(len(examples), BUCKETS), dtype=np.float64)
    y = np.array(labels)
    model = LogisticRegression(C=4.0, max_iter=300, random_state=seed).fit(x, y)
    if len(model.classes_) == 2:  # a binary fit has one row: +coef for the second class
        weights[:, model.classes_[1]] = model.coef_[0]
        bias[model.classes_[1]], bias[model.classes_[0]] = model.intercept_[0], 0.0
        return ValueKindModel(weights, bias)
    for column, label in enumerate(model.classes_):
        weights[:, label] = model.coef_[column]
        bias[label] = model.intercept_[column]
    return ValueKindModel(weights, bias)

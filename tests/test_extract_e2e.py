"""End to end with the real OCR engine and the real local model on one SROIE receipt."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from chatocr.extract import Extractor, ground_value
from chatocr.fields import load_schema
from chatocr.options import Options
from chatocr.result import ExtractionResult

RECEIPT = Path("/work/shared/benchmarks/sroie/images/train_020.jpg")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not RECEIPT.is_file(), reason="SROIE benchmark data not found at /work/shared/benchmarks"),
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"),
]


@pytest.fixture(scope="module")
def default_result() -> ExtractionResult:
    return Extractor(Options()).run(str(RECEIPT), load_schema(template="receipt"))


def test_default_pipeline_reads_the_receipt(default_result: ExtractionResult) -> None:
    values = default_result.values()
    assert values["date"] == "2018-03-06"
    assert values["total"] == "54.50"
    assert values["company"] == "SYL ROASTED DELIGHTS SDN. BHD."
    assert values["address"] is not None and "JALAN SS 22/19" in values["address"]
    record = default_result.export()
    assert record["fields"]["total"]["page"] == 1 and len(record["fields"]["total"]["box"]) == 4


def test_model_choices_are_valid_grounded_and_repeatable(default_result: ExtractionResult) -> None:
    """The model answers every field through the grammar; whatever it picks is in the OCR text."""
    assert default_result.document is not None
    extractor = Extractor(Options.create(**{"extract.strategy": "model"}))
    schema = load_schema(template="receipt")
    first = extractor.run_document(default_result.document, schema)
    second = extractor.run_document(default_result.document, schema)
    assert first.export() == second.export()  # temperature 0
    for field in first.fields.values():
        assert 0.0 <= field.confidence <= 1.0
        if field.value is not None:
            assert field.raw is not None and ground_value(field.raw, default_result.document)

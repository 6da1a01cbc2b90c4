"""Matching rules and metric classes against hand-computed values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.eval.grounding import is_grounded
from chatocr.eval.matching import (
    MatchOptions,
    anls_score,
    normalize,
    parse_amount,
    parse_dates,
    strict_match,
    tolerant_match,
)
from chatocr.eval.metrics import (
    ANLS,
    CalibrationError,
    FieldF1,
    GroundingRate,
    Latency,
    NullAccuracy,
    PeakMemory,
    count,
)
from chatocr.result import FieldResult

# --- matching ----------------------------------------------------------------------------------


def test_normalize_nfkc_case_and_whitespace() -> None:
    assert normalize("  ＡＢＣ   Sdn\tBhd ") == "abc sdn bhd"
    assert normalize("KOREAN RESTAURANT", MatchOptions(ignore_whitespace=True)) == "koreanrestaurant"
    assert normalize("北京 大学") == "北京大学"  # spaces inside CJK text are OCR noise
    assert normalize("a.b, c!", MatchOptions(ignore_punctuation=True)) == "a b c"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-03-06", {date(2018, 3, 6)}),
        ("2018年3月6日", {date(2018, 3, 6)}),
        ("20180306", {date(2018, 3, 6)}),
        ("06/03/2018", {date(2018, 3, 6), date(2018, 6, 3)}),  # day/month order unknown
        ("25/12/2018", {date(2018, 12, 25)}),
        ("9/ 3/ 92", {date(1992, 3, 9), date(1992, 9, 3)}),
        ("08/02/10", {date(2010, 2, 8), date(2010, 8, 2)}),
        ("06 Mar 2018", {date(2018, 3, 6)}),
        ("Mar 6, 2018", {date(2018, 3, 6)}),
        ("06-MAR-18", {date(2018, 3, 6)}),
        ("27Apr'13", {date(2013, 4, 27)}),
        ("JAN24'13", {date(2013, 1, 24)}),
        ("18AVR2014", {date(2014, 4, 18)}),
        ("May 2016", set()),  # a month, not May 20, 2016
        ("not a date", set()),
        ("31/02/2018", set()),
    ],
)
def test_parse_dates(text: str, expected: set[date]) -> None:
    assert parse_dates(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("54.50", Decimal("54.50")),
        ("RM 54.50", Decimal("54.50")),
        ("$1,234.50", Decimal("1234.50")),
        ("1234.5元", Decimal("1234.5")),
        (".70", Decimal("0.70")),
        ("(954)537-3585", None),  # a phone number
        ("0440019", None),  # a code with a leading zero
        ("ABC", None),
    ],
)
def test_parse_amount(text: str, expected: Decimal | None) -> None:
    assert parse_amount(text) == expected


def test_tolerant_match_rules() -> None:
    assert tolerant_match("SYL ROASTED DELIGHTS SDN. BHD.", "syl roasted delights sdn. bhd.")  # case
    assert tolerant_match("06/03/2018", "2018-03-06")  # same date
    assert tolerant_match("54.50", "RM54.5")  # same amount
    assert tolerant_match("75. JALAN SS 22/19, DAMANSARA JAYA", "75. JALAN SS 22/19, DAMANSARA JAYA.")  # sim 0.97
    assert not tolerant_match("ABC", "ABD")  # similarity 0.67
    # dates and amounts never fall back to edit similarity (0.9 similar, different amount)
    assert not tolerant_match("1234567.50", "1234567.56")
    assert not tolerant_match("2018-03-06", "2018-03-07")
    assert not tolerant_match("54.50", None)
    assert tolerant_match("14585BISCAYNEBLVD.", "14585 BISCAYNE BLVD.", MatchOptions(ignore_whitespace=True))
    assert tolerant_match("国家级一等奖", "国家级 一等奖")


def test_strict_match_only_trims() -> None:
    assert strict_match("54.50", " 54.50 ")
    assert not strict_match("54.50", "54.5")
    assert not strict_match("ABC", "abc")
    assert not strict_match("ABC", None)


def test_anls_term() -> None:
    assert anls_score("hello world", "Hello  World") == 1.0
    assert anls_score("abcdefghij", "abcdefghiX") == pytest.approx(0.9)
    assert anls_score("abcd", "abzz") == 0.0  # distance 0.5 is not below tau
    assert anls_score("abcd", None) == 0.0


# --- counting rule -----------------------------------------------------------------------------


def test_counting_rule() -> None:
    assert count("x", "x", True) == count("x", "x", True).__class__(tp=1)
    wrong = count("x", "y", False)
    assert (wrong.tp, wrong.fp, wrong.fn) == (0, 1, 1)
    missed = count("x", None, False)
    assert (missed.tp, missed.fp, missed.fn) == (0, 0, 1)
    invented = count(None, "y", False)
    assert (invented.tp, invented.fp, invented.fn) == (0, 1, 0)
    null_ok = count(None, None, False)
    assert (null_ok.tp, null_ok.fp, null_ok.fn) == (0, 0, 0)


def _feed(metric: FieldF1) -> None:
    metric.update("total", "54.50", "54.50")  # TP (strict TP)
    metric.update("date", "06/03/2018", "2018-03-06")  # tolerant TP; strict FP+FN
    metric.update("company", "ABC SDN BHD", "XYZ TRADING")  # FP + FN
    metric.update("address", "1 Main St", None)  # FN
    metric.update("tel", None, "123")  # absent, answered: FP
    metric.update("tax", None, None)  # absent, null: not counted


def test_field_f1_tolerant_hand_computed() -> None:
    metric = FieldF1()
    _feed(metric)
    summary = metric.summary()
    overall = summary["overall"]
    # TP 2 (total, date), FP 2 (company, tel), FN 2 (company, address)
    assert (overall["tp"], overall["fp"], overall["fn"]) == (2, 2, 2)
    assert overall["precision"] == pytest.approx(0.5)
    assert overall["recall"] == pytest.approx(0.5)
    assert overall["f1"] == pytest.approx(0.5)
    assert summary["fields"]["date"]["f1"] == pytest.approx(1.0)
    assert summary["fields"]["address"]["precision"] is None  # nothing answered: undefined
    assert summary["fields"]["address"]["recall"] == 0.0
    assert summary["fields"]["address"]["f1"] == 0.0  # labelled but never answered: a total miss
    assert summary["fields"]["tax"]["f1"] is None  # neither labelled nor answered: nothing to score
    assert summary["fields"]["tel"]["precision"] == 0.0
    metric.reset()
    assert metric.summary()["overall"]["tp"] == 0


def test_field_f1_strict_hand_computed() -> None:
    metric = FieldF1(strict=True)
    _feed(metric)
    overall = metric.summary()["overall"]
    # TP 1 (total), FP 3 (date, company, tel), FN 3 (date, company, address): P = R = F1 = 0.25
    assert (overall["tp"], overall["fp"], overall["fn"]) == (1, 3, 3)
    assert overall["f1"] == pytest.approx(0.25)


def test_field_f1_uses_raw_when_it_matches() -> None:
    metric = FieldF1(strict=True)
    outcome = metric.update("date", "06/03/2018", "2018-03-06", raw="06/03/2018")
    assert outcome.correct


def test_field_f1_f1_harmonic_mean() -> None:
    metric = FieldF1()
    for label, value in [("a1", "a1"), ("b2", "b2"), ("c3", "c3"), ("d4", None), ("e5", None), ("f6", "zz")]:
        metric.update("f", label, value)
    metric.update("f", None, "invented")
    overall = metric.summary()["overall"]
    # TP 3, FP 2, FN 3 -> P 0.6, R 0.5, F1 = 2*0.3/1.1
    assert overall["precision"] == pytest.approx(0.6)
    assert overall["recall"] == pytest.approx(0.5)
    assert overall["f1"] == pytest.approx(0.6 / 1.1)


def test_anls_mean() -> None:
    metric = ANLS()
    metric.update("a", "hello world", "hello world")
    metric.update("a", "abcdefghij", "abcdefghiX")
    metric.update("b", "abcd", "wxyz")
    metric.update("b", "abcd", None)
    summary = metric.summary()
    assert summary["overall"] == pytest.approx((1 + 0.9 + 0 + 0) / 4)
    assert summary["fields"]["a"] == pytest.approx(0.95)


def test_null_accuracy() -> None:
    metric = NullAccuracy()
    metric.update("tel", "123")
    metric.update("tax", None)
    metric.update("tax", None)
    metric.update("tips", None)
    summary = metric.summary()
    assert summary["overall"] == pytest.approx(0.75)
    assert summary["absent"] == 4
    assert summary["fields"] == {"tel": 0.0, "tax": 1.0, "tips": 1.0}
    metric.reset()
    assert metric.summary()["overall"] is None


def test_expected_calibration_error_hand_computed() -> None:
    metric = CalibrationError(bins=10)
    metric.update(0.95, True)
    metric.update(0.95, False)
    metric.update(0.15, False)
    metric.update(0.35, True)
    # bin 9: 2/4 * |0.5 - 0.95|; bin 1: 1/4 * |0 - 0.15|; bin 3: 1/4 * |1 - 0.35|
    expected = 0.5 * 0.45 + 0.25 * 0.15 + 0.25 * 0.65
    summary = metric.summary()
    assert summary["ece"] == pytest.approx(expected)
    assert [b["count"] for b in summary["bins"]] == [0, 1, 0, 1, 0, 0, 0, 0, 0, 2]


def test_calibration_edges() -> None:
    metric = CalibrationError()
    metric.update(1.0, True)  # 1.0 belongs to the last bin
    metric.update(0.0, False)
    summary = metric.summary()
    assert summary["ece"] == pytest.approx(0.0)
    assert summary["bins"][9]["count"] == 1 and summary["bins"][0]["count"] == 1
    assert CalibrationError().summary()["ece"] is None


def test_grounding_rate() -> None:
    metric = GroundingRate()
    for flag in (True, False, None, True):
        metric.update("f", flag)
    summary = metric.summary()
    assert summary["overall"] == pytest.approx(2 / 3)
    assert summary["checked"] == 3


def test_latency_and_memory() -> None:
    latency = Latency()
    for seconds in (1.0, 2.0, 3.0, 4.0):
        latency.update(seconds)
    summary = latency.summary()
    assert summary["mean"] == pytest.approx(2.5)
    assert summary["median"] == pytest.approx(2.5)
    assert summary["max"] == 4.0
    memory = PeakMemory()
    memory.update(100.0)
    memory.update(50.0)
    assert memory.summary()["peak_rss_mb"] == 100.0
    memory.reset()
    memory.update()
    assert memory.summary()["peak_rss_mb"] > 10  # a Python process with numpy holds far more than 10 MB


# --- grounding ---------------------------------------------------------------------------------


def _document() -> Document:
    lines = [
        Line(text="TOTAL: RM 54.50", box=box_from_rect(10, 100, 200, 120), confidence=0.9),
        Line(text="SYL ROASTED DELIGHTS", box=box_from_rect(10, 10, 200, 30), confidence=0.9),
        Line(text="SDN. BHD.", box=box_from_rect(10, 32, 120, 50), confidence=0.9),
    ]
    return Document(file="r.png", pages=[Page(page=1, width=300, height=300, lines=lines)])


def test_grounding_checks_the_box_contents() -> None:
    doc = _document()
    total = FieldResult(value="54.50", raw="54.50", confidence=0.9, page=1, box=box_from_rect(10, 100, 200, 120))
    assert is_grounded(total, doc) is True
    elsewhere = FieldResult(value="54.50", raw="54.50", confidence=0.9, page=1, box=box_from_rect(10, 10, 200, 30))
    assert is_grounded(elsewhere, doc) is False
    two_lines = FieldResult(
        value="SYL ROASTED DELIGHTS SDN. BHD.",
        raw="SYL ROASTED DELIGHTS SDN. BHD.",
        page=1,
        box=box_from_rect(10, 10, 200, 50),
    )
    assert is_grounded(two_lines, doc) is True
    wrong_page = FieldResult(value="54.50", raw="54.50", page=2, box=box_from_rect(10, 100, 200, 120))
    assert is_grounded(wrong_page, doc) is False
    invented = FieldResult(value="99.00", raw="99.00", page=1, box=box_from_rect(10, 100, 200, 120))
    assert is_grounded(invented, doc) is False
    no_box = FieldResult(value="54.50", raw="54.50", page=1)
    assert is_grounded(no_box, doc) is False


def test_grounding_not_checkable() -> None:
    doc = _document()
    assert is_grounded(FieldResult(value=None), doc) is None
    derived = FieldResult(value="国赛", raw=None, derived_from="rule: default")
    assert is_grounded(derived, doc) is None
    assert is_grounded(FieldResult(value="54.50", raw="54.50", page=1, box=box_from_rect(0, 0, 1, 1)), None) is None


def test_times_match_on_the_same_minute() -> None:
    from chatocr.eval.matching import tolerant_match

    assert tolerant_match("5:53pm", "17:53")
    assert tolerant_match("05:53 PM", "17:53")
    assert tolerant_match("17:53:08", "17:53")
    assert not tolerant_match("5:53pm", "05:53")
    assert not tolerant_match("17:53", "17:35")


def test_a_year_and_month_alone_match_as_a_month_not_as_an_amount() -> None:
    from chatocr.eval.matching import tolerant_match

    assert tolerant_match("2019.10", "2019-10")
    assert tolerant_match("2015年7月", "2015-07")
    assert tolerant_match("2018.7", "2018-07")
    assert not tolerant_match("2019.10", "2019-11")
    assert not tolerant_match("2019.10", "2019.1")  # as amounts these would be equal


def test_amounts_with_other_currencies_and_decimal_commas() -> None:
    from chatocr.eval.matching import tolerant_match

    assert tolerant_match("Rs13.13", "13.13")
    assert tolerant_match("R35.42", "35.42")
    assert tolerant_match("112,73€", "112.73")
    assert tolerant_match("55,43", "55.43")
    assert tolerant_match("1,234", "1234")  # a thousands comma stays one
    assert not tolerant_match("Road", "0.00")
    assert not tolerant_match("55,43", "5543")

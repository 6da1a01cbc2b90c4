"""Synthetic documents: determinism, label/image consistency, layouts split, CLI layout and resume."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatocr.data.synth import fonts, kinds, plan, render, render_one, synthesize, values
from chatocr.errors import MissingDependencyError, OptionsError

ROOT = Path(__file__).resolve().parents[1]
DATE_FIELDS = {"证书日期", "开票日期", "出发日期", "成立日期", "date"}
AMOUNT_FIELDS = {"金额", "税额", "价税合计", "票价", "total"}

try:
    fonts.font_book()
    HAVE_FONTS = True
except MissingDependencyError:
    HAVE_FONTS = False
needs_fonts = pytest.mark.skipif(not HAVE_FONTS, reason="no CJK fonts installed (apt-get install fonts-noto-cjk)")


def _all_layouts() -> list[tuple[str, str, str]]:
    return [(k.name, layout, lang) for k in kinds().values() for layout in k.layouts for lang in k.languages]


def _inside(box: list[list[float]], width: int, height: int, slack: float = 2.0) -> bool:
    return all(-slack <= x <= width + slack and -slack <= y <= height + slack for x, y in box)


# ---------------------------------------------------------------- values


def test_rmb_upper_known_amounts() -> None:
    from decimal import Decimal

    assert values.rmb_upper(Decimal("1234.50")) == "壹仟贰佰叁拾肆圆伍角"
    assert values.rmb_upper(Decimal("100010.05")) == "壹拾万零壹拾圆零伍分"
    assert values.rmb_upper(Decimal("105000")) == "壹拾万伍仟圆整"
    assert values.rmb_upper(Decimal("1000001")) == "壹佰万零壹圆整"
    assert values.rmb_upper(Decimal("0.30")) == "叁角"


def test_identifier_check_digits() -> None:
    import random

    # A published example code and its one-character corruption.
    assert values.uscc_is_valid("91350100M000100Y43")
    assert not values.uscc_is_valid("91350100M000100Y44")
    rng = random.Random(0)
    assert all(values.uscc_is_valid(values.uscc(rng)) for _ in range(200))
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for _ in range(50):
        number = values.resident_id(rng)
        assert "10X98765432"[sum(int(c) * w for c, w in zip(number[:17], weights, strict=True)) % 11] == number[17]


def test_chinese_dates() -> None:
    import datetime as dt

    day = dt.date(2020, 9, 24)
    assert values.cn_date(day, "hanzi") == "二〇二〇年九月二十四日"
    assert values.cn_date(dt.date(2023, 10, 5), "hanzi") == "二〇二三年十月五日"
    assert values.en_date(day, "dmon") == "24 SEP 2020"


# ---------------------------------------------------------------- layouts


def test_every_kind_has_three_layouts_and_disjoint_split() -> None:
    for kind in kinds().values():
        assert len(kind.layouts) >= 3, kind.name
        assert set(kind.train_layouts).isdisjoint(kind.heldout_layouts)
        assert set(kind.train_layouts) | set(kind.heldout_layouts) == set(kind.layouts)
        assert kind.heldout_layouts == kind.layouts[-1:]


def test_plan_respects_layout_split_and_language() -> None:
    heldout = plan(40, 1, "all", "heldout", "zh")
    train = plan(40, 1, "all", "train", "zh")
    for doc in heldout:
        assert doc.layout in kinds()[doc.kind].heldout_layouts
    for doc in train:
        assert doc.layout in kinds()[doc.kind].train_layouts
    assert {(d.kind, d.layout) for d in heldout}.isdisjoint({(d.kind, d.layout) for d in train})
    assert {d.lang for d in heldout} == {"zh"}
    english = plan(6, 1, "all", "all", "en")
    assert {d.kind for d in english} == {"receipt", "kv_form", "english_invoice", "till_receipt"}
    assert {d.lang for d in english} == {"en"}
    assert {d.kind for d in heldout} == {k.name for k in kinds().values() if "zh" in k.languages}


def test_plan_rejects_bad_arguments() -> None:
    with pytest.raises(OptionsError, match="unknown document kind"):
        plan(3, 0, "certificate,passport")
    with pytest.raises(OptionsError, match="has 'en' documents"):
        plan(3, 0, "certificate", lang="en")
    with pytest.raises(OptionsError, match="--layouts"):
        plan(3, 0, "all", "validation")
    with pytest.raises(OptionsError, match="--n"):
        plan(0, 0)


# ---------------------------------------------------------------- rendering


@needs_fonts
def test_same_seed_gives_identical_files_and_other_seed_differs() -> None:
    docs_a = [render(p, "strong") for p in plan(5, 99)]
    docs_b = [render(p, "strong") for p in plan(5, 99)]
    for a, b in zip(docs_a, docs_b, strict=True):
        assert a.jpeg_bytes() == b.jpeg_bytes()
        assert a.labels == b.labels and a.absent == b.absent and a.meta == b.meta
    other = render(plan(1, 100)[0], "strong")
    assert other.jpeg_bytes() != docs_a[0].jpeg_bytes()


@needs_fonts
@pytest.mark.parametrize(("kind", "layout", "lang"), _all_layouts())
def test_layout_renders_consistent_labels(kind: str, layout: str, lang: str) -> None:
    doc = render_one(kind, layout, seed=7, lang=lang, degrade="none")
    spec = kinds()[kind]
    # realistic scan resolution; till rolls are narrow but long
    assert 1000 <= max(doc.image.size) <= 2400 and min(doc.image.size) >= 700
    assert doc.labels, "no field was labelled"
    if spec.fields:
        assert list(doc.labels) == [f for f in spec.fields if f in doc.labels]  # template order
        assert doc.absent == [f for f in spec.fields if f not in doc.labels]
    else:  # an open set of fields (kv_form): its own printed keys, some of them blank or not printed
        assert doc.absent and not set(doc.absent) & set(doc.labels)
    page_text = "\n".join(line["text"] for line in doc.meta["lines"])
    for name, value in doc.labels.items():
        assert value.strip() == value and value, (name, value)
        if name in DATE_FIELDS:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), (name, value)
        if name in AMOUNT_FIELDS:
            assert re.fullmatch(r"\d+\.\d{2}", value), (name, value)
        if name == "出发时间":
            assert re.fullmatch(r"\d{2}:\d{2}", value)
        info = doc.meta["fields"][name]
        if info["printed"] is not None:
            # printed on the page: its text is among the drawn lines and it has a box on the image
            assert info["printed"].replace(" ", "") in page_text.replace("\n", "").replace(" ", ""), name
            assert info["boxes"], name
        for box in info["boxes"]:
            assert _inside(box, doc.image.width, doc.image.height), (name, box)
    assert doc.meta["layout_id"] == f"{kind}/{layout}"
    assert doc.meta["layout_split"] == ("heldout" if layout == spec.layouts[-1] else "train")


@needs_fonts
def test_strong_degradation_maps_boxes_into_the_rotated_image() -> None:
    seen_rotation = False
    for planned in plan(12, 5):
        doc = render(planned, "strong")
        for info in doc.meta["fields"].values():
            for box in info["boxes"]:
                assert _inside(box, doc.image.width, doc.image.height), (planned.id, box)
        if doc.meta["rotation"]:
            seen_rotation = True
            assert any(d["name"] == "rotate90" for d in doc.meta["degradations"])
    assert seen_rotation, "strong degradation never turned a page in 12 documents"


@needs_fonts
def test_certificate_rules_and_absent_fields() -> None:
    levels: set[str] = set()
    grades: set[str] = set()
    absent_seen: set[str] = set()
    for seed in range(40):
        doc = render_one("certificate", "modern", seed=seed, degrade="none")
        text = "".join(line["text"] for line in doc.meta["lines"])
        expected_level = "省赛" if ("初赛" in text or "省" in text) else "国赛"
        assert doc.labels["级别"] == expected_level, (seed, text)
        grade = doc.labels["等级"]
        assert grade in {"一等奖", "二等奖", "三等奖", "优秀奖", "获奖"}
        if grade == "获奖":
            assert not any(p in text for p in ("一等奖", "二等奖", "三等奖", "优秀奖"))
        else:
            assert grade in doc.meta["fields"]["等级"]["printed"]
        for optional, key in (("指导老师姓名", "指导老师："), ("证书编号", "证书编号：")):
            if optional in doc.absent:
                assert key not in text
        levels.add(doc.labels["级别"])
        grades.add(grade)
        absent_seen.update(doc.absent)
    assert levels == {"省赛", "国赛"}
    assert {"获奖", "一等奖"} <= grades
    assert {"指导老师姓名", "证书编号"} <= absent_seen


@needs_fonts
def test_national_prize_wording_is_normalised() -> None:
    found = False
    for seed in range(80):
        doc = render_one("certificate", "classic", seed=seed, degrade="none")
        printed = doc.meta["fields"]["等级"]["printed"] or ""
        if printed.startswith("全国"):
            assert doc.labels["等级"] == printed[2:]
            found = True
            break
    assert found, "no certificate printed a 全国 prize in 80 seeds"


@needs_fonts
def test_paper_tickets_print_zhan_apart_and_label_the_whole_station() -> None:
    """Red paper tickets print "北京西    站": 站 is a line of its own, as the OCR boxes it, and each station's
    label is the whole name with both pieces' boxes."""
    apart = 0
    for seed in range(12):
        doc = render_one("train_ticket", "red", seed=seed, degrade="none")
        texts = [line["text"] for line in doc.meta["lines"]]
        if "站" not in texts:
            continue
        apart += 1
        for field in ("出发站", "到达站"):
            station = doc.labels[field]
            assert station.endswith("站") and station[:-1] in texts, (field, station, texts)
            assert doc.meta["fields"][field]["printed"] == station
            assert len(doc.meta["fields"][field]["boxes"]) == 2
    assert 0 < apart < 12, "the red ticket should print 站 apart on some tickets, not on all"


@needs_fonts
def test_licences_and_invoices_carry_valid_credit_codes() -> None:
    for layout in kinds()["business_license"].layouts:
        doc = render_one("business_license", layout, seed=3, degrade="none")
        assert values.uscc_is_valid(doc.labels["统一社会信用代码"])
    for seed in range(4):
        doc = render_one("vat_invoice", "paper", seed=seed, degrade="none")
        assert values.uscc_is_valid(doc.labels["销售方纳税人识别号"])
        assert f"{float(doc.labels['金额']) + float(doc.labels['税额']):.2f}" == doc.labels["价税合计"]
    electronic = render_one("vat_invoice", "electronic", seed=1, degrade="none")
    assert "发票代码" in electronic.absent and len(electronic.labels["发票号码"]) == 20
    roll = render_one("vat_invoice", "roll", seed=1, degrade="none")
    assert {"金额", "税额"} <= set(roll.absent)


OPEN_KINDS = {
    "taxi_receipt": "zh",
    "bank_slip": "zh",
    "english_invoice": "en",
    "id_card": "zh",
    "medical_receipt": "zh",
    "contract": "zh",
}
MONTH_FORMATS = ("%d %B %Y", "%B %d, %Y", "%d %b %Y", "%d/%m/%Y", "%Y-%m-%d", "%Y年%m月%d日", "%Y/%m/%d", "%Y.%m.%d")


def _printed_form_of(label: str, printed: str) -> bool:
    """The label is the printed value itself, or its canonical form (an amount, an ISO date)."""
    import datetime as dt

    if label in printed:
        return True
    if re.fullmatch(r"\d+\.\d{2}", label):
        return re.sub(r"[^\d.]", "", printed) == label
    for form in MONTH_FORMATS:
        try:
            return dt.datetime.strptime(printed.replace(" ", ""), form.replace(" ", "")).date().isoformat() == label
        except ValueError:
            continue
    return False


@needs_fonts
@pytest.mark.parametrize(("kind", "layout"), [(k, layout) for k in OPEN_KINDS for layout in kinds()[k].layouts])
def test_open_kinds_print_every_labelled_value(kind: str, layout: str) -> None:
    """Kinds without a template: each label is a printed key with its printed value; unprinted keys are absent."""
    spec = kinds()[kind]
    assert spec.template == "" and spec.fields == () and spec.languages == (OPEN_KINDS[kind],)
    assert spec.heldout_layouts == (spec.layouts[-1],)
    for seed in (1, 2):
        doc = render_one(kind, layout, seed=seed, lang=OPEN_KINDS[kind], degrade="none")
        page = _compact("".join(line["text"] for line in doc.meta["lines"]))
        assert len(doc.labels) >= 6, doc.labels
        for name, value in doc.labels.items():
            printed = doc.meta["fields"][name]["printed"]
            assert _compact(printed) in page, (name, printed)
            assert _printed_form_of(_compact(value), _compact(printed)), (name, value, printed)
        assert 1 <= len(doc.absent) <= 2 and not set(doc.absent) & set(doc.labels)
        for name in doc.absent:
            assert name not in doc.meta["fields"]
            assert not re.search(
                rf"(^|\n){re.escape(name)}[:：]?(\s|$)", "\n".join(line["text"] for line in doc.meta["lines"])
            )
        again = render_one(kind, layout, seed=seed, lang=OPEN_KINDS[kind], degrade="none")
        assert (again.labels, again.absent) == (doc.labels, doc.absent)
        assert doc.meta["layout_split"] == ("heldout" if layout == spec.layouts[-1] else "train")


@needs_fonts
def test_open_kinds_vary_their_key_names_and_keep_values_consistent() -> None:
    from decimal import Decimal

    names: dict[str, set[str]] = {kind: set() for kind in OPEN_KINDS}
    for seed in range(12):
        for kind, lang in OPEN_KINDS.items():
            doc = render_one(kind, kinds()[kind].layouts[0], seed=seed, lang=lang, degrade="none")
            names[kind].update(doc.labels)
            if kind == "id_card":
                number = next(v for k, v in doc.labels.items() if k in ("公民身份号码", "身份证号码"))
                birth = next(v for k, v in doc.labels.items() if k.startswith("出生"))
                assert birth.replace("-", "") == number[6:14]
                assert doc.labels["性别"] == ("男" if int(number[16]) % 2 else "女")
            if kind == "bank_slip":
                amount = next(v for k, v in doc.labels.items() if re.fullmatch(r"\d+\.\d{2}", v) and "金额" in k)
                upper = next(v for k, v in doc.labels.items() if "大写" in k)
                assert values.rmb_upper(Decimal(amount)) == upper
            if kind == "medical_receipt":
                total = Decimal(next(v for k, v in doc.labels.items() if k in ("合计", "合计金额", "金额合计")))
                items = [Decimal(v) for k, v in doc.labels.items() if k.endswith("费")]
                shares = [Decimal(v) for k, v in doc.labels.items() if "统筹" in k or k.startswith("个人")]
                assert sum(items) == total and sum(shares) == total and len(items) >= 3
                assert next(v for k, v in doc.labels.items() if "大写" in k) == values.rmb_upper(total)
            if kind == "contract":
                assert {"甲方", "乙方"} <= set(doc.labels) or {"出租方", "承租方"} <= set(doc.labels)
                upper = [v for k, v in doc.labels.items() if "大写" in k]
                amount = next(
                    v for k, v in doc.labels.items() if k in ("合同金额", "合同总金额", "合同总价", "租金总额")
                )
                assert upper in ([], [values.rmb_upper(Decimal(amount))])
    assert {"金额", "实收金额", "应收金额"} & names["taxi_receipt"] and len(names["taxi_receipt"]) > 12
    assert (
        len(
            {
                n
                for n in names["english_invoice"]
                if n in ("Total", "Amount Due", "Balance Due", "Total Due", "Grand Total", "Invoice Total")
            }
        )
        >= 2
    )
    assert len(names["bank_slip"]) > 16 and len(names["id_card"]) > 6
    assert len(names["medical_receipt"]) > 16 and len(names["contract"]) > 12


@needs_fonts
@pytest.mark.parametrize("layout", kinds()["till_receipt"].layouts)
def test_till_receipts_are_asked_by_user_names_and_add_up(layout: str) -> None:
    """Every labelled value is printed, under a user's name for the field or the key printed before it; the
    amounts add up; dates and times are labelled as printed; a field asked absent is not on the receipt."""
    from decimal import Decimal

    from chatocr.data.synth.kinds.till_receipt import REGIONS, SUBTOTAL_KEYS, TOTAL_KEYS, USER_NAMES

    user_names = {name: field for field, names in USER_NAMES.items() for name in names}
    printed_keys = {
        **{key: "subtotal" for key in SUBTOTAL_KEYS},
        **{key: "tax" for region in REGIONS for key in region.tax_keys},
        **{key: "total" for key in TOTAL_KEYS},
    }
    asked: set[str] = set()
    for seed in range(8):
        doc = render_one("till_receipt", layout, seed=seed, lang="en", degrade="none")
        lines = [line["text"] for line in doc.meta["lines"]]
        page = _compact("".join(lines))
        assert min(doc.image.size) >= 700 and max(doc.image.size) >= 1000
        by_field: dict[str, str] = {}
        for name, value in doc.labels.items():
            printed = doc.meta["fields"][name]["printed"]
            assert value and _compact(printed) in page, (name, printed)
            field = user_names.get(name)
            if field is None:  # asked by the printed key: the key starts the line of its amount
                assert any(line.upper().startswith(name.upper()) for line in lines), name
                field = printed_keys[name]
            assert field not in by_field, (field, doc.labels)
            by_field[field] = value
            asked.add(name)
        assert {"store", "address", "date", "time", "total"} <= set(by_field), by_field
        assert any(by_field["date"] in line for line in lines)  # as printed, not reordered
        assert any(by_field["time"] in line for line in lines)
        if "subtotal" in by_field:
            charged = sum(Decimal(by_field.get(f, "0")) for f in ("subtotal", "tax", "tip"))
            assert charged == Decimal(by_field["total"]), by_field
        assert 1 <= len(doc.absent) <= 2 and not set(doc.absent) & set(doc.labels)
        for name in doc.absent:
            assert user_names.get(name) not in by_field
            assert not any(line.startswith(name) for line in lines), name
    assert len(asked) > 12  # the names vary from receipt to receipt


def test_missing_fonts_raise_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_installed_files", lambda: {})
    with pytest.raises(MissingDependencyError, match="CJK"):
        fonts.FontBook()


# ---------------------------------------------------------------- writer and CLI


@needs_fonts
def test_synthesize_writes_dataset_layout_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "set"
    summary = synthesize(out, n=4, seed=11, kinds="certificate,receipt", degrade="none")
    assert (summary.written, summary.skipped) == (4, 0)
    ids = sorted(p.stem for p in (out / "images").glob("*.jpg"))
    assert ids == ["certificate_00000", "certificate_00002", "receipt_00001", "receipt_00003"]
    for doc_id in ids:
        labels = json.loads((out / "labels" / f"{doc_id}.json").read_text(encoding="utf-8"))
        absent = json.loads((out / "absent" / f"{doc_id}.json").read_text(encoding="utf-8"))
        meta = json.loads((out / "meta" / f"{doc_id}.json").read_text(encoding="utf-8"))
        lines = json.loads((out / "ocr" / f"{doc_id}.json").read_text(encoding="utf-8"))
        assert isinstance(labels, dict) and isinstance(absent, list) and meta["id"] == doc_id
        assert set(labels) | set(absent) == set(kinds()[meta["kind"]].fields)
        assert lines and all(len(line["box"]) == 8 and line["text"] for line in lines)
    assert json.loads((out / "dataset.json").read_text(encoding="utf-8")) == {"missing_is_absent": True}
    assert not list(out.rglob("*.tmp"))
    # Simulate an interrupted run: one document lost its meta file, another its image.
    (out / "meta" / "receipt_00001.json").unlink()
    (out / "images" / "certificate_00002.jpg").unlink()
    before = (out / "images" / "certificate_00000.jpg").stat().st_mtime_ns
    again = synthesize(out, n=5, seed=11, kinds="certificate,receipt", degrade="none")
    assert (again.written, again.skipped) == (3, 2)
    assert (out / "images" / "certificate_00000.jpg").stat().st_mtime_ns == before
    with pytest.raises(OptionsError, match="other settings"):
        synthesize(out, n=5, seed=12, kinds="certificate,receipt", degrade="none")


@needs_fonts
def test_rendering_in_several_processes_writes_the_same_files(tmp_path: Path) -> None:
    one = synthesize(tmp_path / "one", n=5, seed=3, kinds="till_receipt,receipt", degrade="mild")
    progress: list[tuple[str, bool]] = []
    two = synthesize(
        tmp_path / "two",
        n=5,
        seed=3,
        kinds="till_receipt,receipt",
        degrade="mild",
        workers=2,
        on_progress=lambda doc, written: progress.append((doc.id, written)),
    )
    assert (one.written, two.written) == (5, 5) and [written for _, written in progress] == [True] * 5
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert len(files) == 5 * 5 + 2
    for name in files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    again = synthesize(tmp_path / "two", n=6, seed=3, kinds="till_receipt,receipt", degrade="mild", workers=2)
    assert (again.written, again.skipped) == (1, 5)


@needs_fonts
def test_cli_synth(tmp_path: Path) -> None:
    import chatocr.cli.data_cmd  # noqa: F401  (registers `chatocr data`)
    from chatocr.cli.app import app

    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["data", "synth", "--out", str(out), "--n", "3", "--kinds", "train_ticket", "--seed", "2", "--no-progress"]
    result = runner.invoke(app, [*args, "--layouts", "heldout", "--degrade", "mild"])
    assert result.exit_code == 0, result.output
    metas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "meta").glob("*.json"))]
    assert [m["layout"] for m in metas] == ["eticket"] * 3
    assert json.loads((out / "synth.json").read_text(encoding="utf-8"))["seed"] == 2
    rerun = runner.invoke(app, [*args, "--layouts", "heldout", "--degrade", "mild"])
    assert rerun.exit_code == 0 and "0 written, 3 already there" in rerun.output.replace("\n", " ")
    bad = runner.invoke(app, ["data", "synth", "--out", str(tmp_path / "x"), "--kinds", "passport", "--no-progress"])
    assert bad.exit_code == OptionsError.exit_code and "passport" in bad.output
    assert "Traceback" not in bad.output


# ---------------------------------------------------------------- examples


@needs_fonts
def test_bundled_examples_match_the_generator() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "examples" / "make_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, (kind, layout, seed, lang) in module.EXAMPLES.items():
        image = ROOT / "examples" / f"{name}.jpg"
        assert image.stat().st_size < 400_000
        labels = json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))
        assert render_one(kind, layout, seed=seed, lang=lang, degrade="mild").labels == labels


# ---------------------------------------------------------------- OCR-ability


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _overlaps(a: list[list[float]], b: list[list[float]]) -> bool:
    ax0, ay0 = min(p[0] for p in a), min(p[1] for p in a)
    ax1, ay1 = max(p[0] for p in a), max(p[1] for p in a)
    bx0, by0 = min(p[0] for p in b), min(p[1] for p in b)
    bx1, by1 = max(p[0] for p in b), max(p[1] for p in b)
    return ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1


@pytest.mark.slow
@needs_fonts
@pytest.mark.parametrize(
    ("kind", "layout", "lang", "seed"), [("certificate", "classic", "zh", 43), ("vat_invoice", "paper", "zh", 5)]
)
def test_mild_document_is_readable_by_ocr_where_the_boxes_say(kind: str, layout: str, lang: str, seed: int) -> None:
    """rapidocr reads most printed label values of a mildly degraded page, inside the recorded boxes."""
    from rapidfuzz import fuzz

    from chatocr.api import ocr

    doc = render_one(kind, layout, seed=seed, lang=lang, degrade="mild")
    page = ocr(doc.jpeg_bytes(), ocr__orientation=False).pages[0]
    assert (page.width, page.height) == doc.image.size
    printed = {name: info for name, info in doc.meta["fields"].items() if info["printed"]}
    read = grounded = 0
    for info in printed.values():
        value = _compact(info["printed"])
        near = [line for line in page.lines if any(_overlaps(line.box, box) for box in info["boxes"])]
        near_text = _compact("".join(line.text for line in near))
        if fuzz.partial_ratio(value, near_text) >= 85:
            grounded += 1
        if fuzz.partial_ratio(value, _compact("".join(line.text for line in page.lines))) >= 85:
            read += 1
    assert read >= 0.8 * len(printed), (read, len(printed))
    assert grounded >= 0.8 * len(printed), (grounded, len(printed))

"""The learned reader: proposals, the shipped model on fixed documents, unseen field names,
calibrated nulls, the manifest check and the training recipe."""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chatocr.data.synth import render_one
from chatocr.document import Document, Line, Page, box_from_rect
from chatocr.errors import OptionsError
from chatocr.eval.matching import MatchOptions, tolerant_match
from chatocr.extract import Extractor
from chatocr.extract.candidates import DocView
from chatocr.extract.extractor import amounts_add_up, one_field_per_value, stage_read, total_after_rounding
from chatocr.extract.features import FEATURES, DocFeatures, field_rows, occurrence_of, spaced_keys, squash
from chatocr.extract.proposals import GENERATORS, document_proposals
from chatocr.extract.reader import LearnedReader, ReaderAnswer, ReaderModelWarning, default_model_dir
from chatocr.extract.value_kinds import CLASSES, fit_value_kinds
from chatocr.fields import load_schema
from chatocr.layout import order_lines
from chatocr.options import Options

LEARNED = Options.create(**{"extract.strategy": "learned"})


def make_document(
    rows: list[list[tuple[str, float]]], width: int = 1200, line_height: int = 40, ascii_width: int = 22
) -> Document:
    """A page from rows of (text, x) cells, one row every 1.5 line heights; a CJK character is 22 pixels
    wide, another one ``ascii_width``."""
    lines = []
    for r, cells in enumerate(rows):
        y = 60 + r * line_height * 1.5
        for text, x in cells:
            w = sum(22 if ord(ch) > 0x2E7F else ascii_width for ch in text)
            lines.append(Line(text=text, box=box_from_rect(x, y, x + w, y + line_height), confidence=0.97))
    height = int(120 + len(rows) * line_height * 1.5)
    return Document(file="test", pages=[Page(page=1, width=width, height=height, lines=order_lines(lines))])


def read_by_names(document: Document, names: list[str]) -> dict[str, str | None]:
    """The shipped reader's answers to fields asked by their bare (printed) names."""
    result = Extractor(LEARNED).run_document(document, load_schema(fields=",".join(names)))
    return {name: result.fields[name].value for name in names}


def synth_document(kind: str, layout: str, seed: int, lang: str = "zh") -> tuple[Document, dict[str, str]]:
    """A synthetic document read through its own ground-truth lines (no OCR engine in the loop)."""
    doc = render_one(kind, layout, seed=seed, lang=lang, degrade="none")
    lines = []
    for item in doc.meta["lines"]:
        xs = [p[0] for p in item["box"]]
        ys = [p[1] for p in item["box"]]
        lines.append(Line(text=item["text"], box=box_from_rect(min(xs), min(ys), max(xs), max(ys)), confidence=1.0))
    page = Page(page=1, width=doc.image.width, height=doc.image.height, lines=order_lines(lines))
    return Document(file=doc.id, pages=[page]), doc.labels


def test_generators_are_registered_and_cover_key_value_forms() -> None:
    assert {"line", "after_key", "typed", "block", "row_cells"} <= set(GENERATORS)
    document = make_document(
        [
            [("Invoice No: INV-20931", 40)],
            [("Address", 40), ("12 Harbour Road,", 300)],
            [("Kowloon Bay 88120", 300)],
        ]
    )
    texts = {p.text for p in document_proposals(DocView(document))}
    assert "INV-20931" in texts  # the part after a printed key
    assert "12 Harbour Road, Kowloon Bay 88120" in texts  # a wrapped value joined with its second line


def test_features_have_one_column_each_and_no_field_literals() -> None:
    document = make_document([[("Total: 12.50", 40)], [("Date 03/04/2021", 40)]])
    rows = field_rows(DocFeatures.build(DocView(document)), load_schema(fields="total").fields[0], ["total"])
    assert rows.matrix.shape == (len(rows.proposals), len(FEATURES))
    assert len(set(FEATURES)) == len(FEATURES)


@pytest.mark.parametrize(
    ("kind", "layout", "seed"),
    [
        ("vat_invoice", "roll", 5),
        ("train_ticket", "eticket", 3),
        ("business_license", "registry", 2),
        ("certificate", "table", 4),
    ],
)
def test_shipped_reader_on_fixed_synthetic_documents(kind: str, layout: str, seed: int) -> None:
    """Golden answers on fixed documents of the generator's held-out layouts (never trained on),
    read from their own lines."""
    document, labels = synth_document(kind, layout, seed)
    schema = load_schema(template=kind)
    result = Extractor(LEARNED).run_document(document, schema)
    # Right as the evaluation counts it (width of brackets and punctuation, spaces in CJK text ignored).
    options = MatchOptions(ignore_whitespace=True)
    wrong = {
        name: (result.fields[name].value, value)
        for name, value in labels.items()
        if not tolerant_match(value, result.fields[name].value, options)
    }
    # What the document does not print is null: the roll invoice prints only the tax-inclusive total, so 金额
    # and 税额 are absent although 合计金额（小写） names an amount (it is 价税合计's). One slip in all is allowed
    # (here: the single item's amount under the 金额 column read as 金额).
    invented = {
        spec.name: result.fields[spec.name].value
        for spec in schema.fields
        if spec.extractive and spec.name not in labels and result.fields[spec.name].value is not None
    }
    assert len(wrong) + len(invented) <= 1, (wrong, invented)
    for name in labels:
        field = result.fields[name]
        if field.value is not None and schema.field(name).extractive:
            assert field.page == 1 and field.box is not None and 0.0 < field.confidence <= 1.0


def test_a_field_name_no_training_label_has() -> None:
    """Made-up keys that appear in no training set: the reader finds the value by its printed key,
    and a made-up field that is not printed is null."""
    document = make_document(
        [
            [("SHIPPING MANIFEST", 300)],
            [("Vessel registry mark:", 40), ("KX-4471-B", 560)],
            [("Harbour of departure:", 40), ("Port Louis", 560)],
            [("Crew count:", 40), ("14", 560)],
        ]
    )
    schema = load_schema(fields="Vessel registry mark,Harbour of departure,Quarantine officer")
    result = Extractor(LEARNED).run_document(document, schema)
    assert result.fields["Vessel registry mark"].value == "KX-4471-B"
    assert result.fields["Harbour of departure"].value == "Port Louis"
    assert result.fields["Quarantine officer"].value is None


def test_the_key_of_another_field_is_not_a_value() -> None:
    """A header row of keys over a row of values (a form's table): each field takes the cell under its own key."""
    document = make_document(
        [
            [("学生姓名", 40), ("出生日期", 300), ("性别", 560)],
            [("任芳芳", 40), ("2001年6月9日", 300), ("女", 560)],
        ]
    )
    result = Extractor(LEARNED).run_document(document, load_schema(fields="学生姓名,出生日期,性别"))
    assert result.fields["学生姓名"].value == "任芳芳"
    assert result.fields["出生日期"].value == "2001-06-09"


def invoice_table(items: int = 1) -> Document:
    """A Chinese VAT invoice as the OCR reads a photo of one: the header, the buyer's and the seller's
    sections with their vertical labels (购 买 方, 销 售 方), the items table and its totals row, whose
    spaced-out label 合 | 计 sits under the column headers 金额 and 税额.  With two items, no item's amount
    or tax is the total's."""
    goods = [
        [
            ("*移动通信设备*手机", 60), ("A2223", 420), ("台", 560), ("1", 640), ("3093.81", 720),
            ("3093.81", 840), ("13%", 960), ("402.19", 1060),
        ]
    ]  # fmt: skip
    if items == 2:
        goods = [
            [
                ("*移动通信设备*手机", 60), ("A2223", 420), ("台", 560), ("1", 640), ("2000.00", 720),
                ("2000.00", 840), ("13%", 960), ("260.00", 1060),
            ],
            [
                ("*电子产品*耳机", 60), ("B1", 420), ("个", 560), ("2", 640), ("546.91", 720),
                ("1093.81", 840), ("13%", 960), ("142.19", 1060),
            ],
        ]  # fmt: skip
    rows = [
        [("4403191130", 40), ("深圳增值税电子普通发票", 420), ("No 12345678", 900)],
        [("发票代码：044031900111", 860)],
        [("发票号码：12345678", 860)],
        [("开票日期：2019年10月21日", 860)],
        [("机器编号：499099754523", 40), ("校验码：12345 67890 12345 67890", 860)],
        [("购", 40), ("名    称：深圳市购机汇网络有限公司", 90), ("密", 760), ("03*7/+<<9-4>", 800)],
        [("买", 40), ("纳税人识别号：91440300MA5DE8XY2K", 90), ("码", 760)],
        [("方", 40), ("地址、电话：深圳市福田区华强北路1号 0755-8888888", 90), ("区", 760)],
        [("开户行及账号：招商银行深圳分行 755912345610001", 90)],
        [
            ("货物或应税劳务、服务名称", 60), ("规格型号", 420), ("单位", 560), ("数量", 640), ("单价", 720),
            ("金额", 840), ("税率", 960), ("税额", 1060),
        ],
        *goods,
        [("合", 60), ("计", 200), ("¥3093.81", 840), ("¥402.19", 1060)],
        [("价税合计（大写）", 60), ("叁仟肆佰玖拾伍圆整", 320), ("（小写）¥3495.00", 820)],
        [("销", 40), ("名    称：北京京东世纪信息技术有限公司", 90), ("备", 760)],
        [("售", 40), ("纳税人识别号：91110302562134916R", 90), ("注", 760)],
        [("方", 40), ("地址、电话：北京市北京经济技术开发区科创十一街18号 010-89126666", 90)],
        [("开户行及账号：中国银行北京分行 338060281100", 90)],
        [("收款人：王丽", 40), ("复核：李强", 300), ("开票人：张敏", 560), ("销售方：（章）", 860)],
    ]  # fmt: skip
    return make_document(rows, width=1300, ascii_width=12)


def test_a_table_cell_is_keyed_by_its_row_label_and_column_header() -> None:
    """合计金额 is printed nowhere as one key: the row label 合计 and the column header 金额 spell it."""
    doc = DocFeatures.build(DocView(invoice_table()))
    rows = field_rows(doc, load_schema(fields="合计金额").fields[0], ["合计金额", "合计税额"])
    cover = {p.text: row[FEATURES.index("table_cover")] for p, row in zip(rows.proposals, rows.matrix, strict=True)}
    column = {p.text: row[FEATURES.index("sim_column")] for p, row in zip(rows.proposals, rows.matrix, strict=True)}
    assert cover["¥3093.81"] == 1.0 and cover["¥402.19"] < 1.0
    assert column["¥3093.81"] > column["¥402.19"]


def test_an_invoice_asked_by_its_printed_names() -> None:
    """A VAT invoice asked as a user reads it (the fields of the learned-reader issue): totals from the 合 | 计
    row under their column headers, the buyer's fields from the buyer's section, the amount in words as
    printed."""
    expected = {
        "发票号码": "12345678",
        "开票日期": "2019-10-21",
        "购买方名称": "深圳市购机汇网络有限公司",
        "购买方纳税人识别号": "91440300MA5DE8XY2K",
        "销售方名称": "北京京东世纪信息技术有限公司",
        "税率": "13%",
        "合计金额": "3093.81",
        "合计税额": "402.19",
        "价税合计（小写）": "3495.00",
        "价税合计（大写）": "叁仟肆佰玖拾伍圆整",
    }
    assert read_by_names(invoice_table(), list(expected)) == expected


def test_a_spaced_out_key_reads_whole_on_each_of_its_characters() -> None:
    """The OCR boxes 合    计 one character at a time: each box reads as the key 合计, the column headers
    (two characters each) and the vertical section labels (one character a row) stay as printed."""
    view = DocView(invoice_table())
    texts = [line.text for line in view.lines]
    keys = dict(zip(texts, spaced_keys(view, [squash(text) for text in texts]), strict=True))
    assert keys["合"] == keys["计"] == "合计"
    assert keys["金额"] == "金额" and keys["税额"] == "税额"
    assert keys["购"] == "购" and keys["买"] == "买"


def test_totals_of_a_spaced_out_row_with_two_items() -> None:
    """Two items, so the totals are printed only on the 合 | 计 row: the reader takes them from there."""
    assert read_by_names(invoice_table(items=2), ["合计金额", "合计税额"]) == {
        "合计金额": "3093.81",
        "合计税额": "402.19",
    }


def test_a_red_paper_ticket_whose_stations_print_zhan_apart() -> None:
    """Red paper tickets print "北京西    站": the OCR boxes 站 alone, and no key says which station is which.
    The stations read whole, the departure on the left and the arrival on the right."""
    ticket = make_document(
        [
            [("Z0012345", 60), ("北京西售", 900)],
            [("北京西", 120), ("站", 330), ("T109", 520), ("上海", 820), ("站", 980)],
            [("Beijingxi", 120), ("Shanghai", 820)],
            [("2018年03月05日20:05开", 60), ("08车015号", 760)],
            [("¥279.5元", 60), ("新空调硬卧", 760)],
            [("限乘当日当次车", 60)],
            [("1101051985****2318王小明", 60)],
        ],
        width=1100,
    )
    result = Extractor(LEARNED).run_document(ticket, load_schema(template="train_ticket"))
    answers = {name: field.value for name, field in result.fields.items()}
    assert answers == {
        "车次": "T109",
        "出发站": "北京西站",
        "到达站": "上海站",
        "出发日期": "2018-03-05",
        "出发时间": "20:05",
        "座位号": "08车015号",
        "席别": "硬卧",
        "票价": "279.50",
        "乘客姓名": "王小明",
    }
    # The station's box spans both of its boxes.
    departure = result.fields["出发站"]
    assert departure.box is not None and max(x for x, _ in departure.box) >= 330


def test_a_fully_digital_invoice_with_buyer_and_seller_side_by_side() -> None:
    """The 全电 invoice prints the buyer's and the seller's 名称 and 纳税人识别号 on the same rows, each under its
    vertical section label (购买方信息 | 销售方信息, one character a row), and no 发票代码."""
    rows = [
        [("电子发票（普通发票）", 480), ("发票号码：24442000000123456789", 960)],
        [("开票日期：2024年03月15日", 960)],
        [("购", 40), ("名称：深圳市购机汇网络有限公司", 90), ("销", 660), ("名称：北京京东世纪信息技术有限公司", 710)],
        [("买", 40), ("售", 660)],
        [
            ("方", 40), ("统一社会信用代码/纳税人识别号：91440300MA5DE8XY2K", 90),
            ("方", 660), ("统一社会信用代码/纳税人识别号：91110302562134916R", 710),
        ],
        [("信", 40), ("信", 660)],
        [("息", 40), ("息", 660)],
        [
            ("项目名称", 60), ("规格型号", 420), ("单位", 540), ("数量", 620), ("单价", 700), ("金额", 840),
            ("税率/征收率", 940), ("税额", 1100),
        ],
        [
            ("*计算机配套产品*鼠标", 60), ("M720", 420), ("个", 540), ("1", 620), ("265.49", 700), ("265.49", 840),
            ("13%", 960), ("34.51", 1100),
        ],
        [("合", 60), ("计", 200), ("¥265.49", 840), ("¥34.51", 1100)],
        [("价税合计（大写）", 60), ("⊗叁佰圆整", 320), ("（小写）¥300.00", 860)],
        [("开票人：张三", 60)],
    ]  # fmt: skip
    expected = {
        "发票号码": "24442000000123456789",
        "开票日期": "2024-03-15",
        "购买方名称": "深圳市购机汇网络有限公司",
        "购买方纳税人识别号": "91440300MA5DE8XY2K",
        "销售方名称": "北京京东世纪信息技术有限公司",
        "销售方纳税人识别号": "91110302562134916R",
        "税率": "13%",
        "合计金额": "265.49",
        "合计税额": "34.51",
        "价税合计（小写）": "300.00",
    }
    document = make_document(rows, width=1300, ascii_width=12)
    assert read_by_names(document, list(expected)) == expected
    template = Extractor(LEARNED).run_document(document, load_schema(template="vat_invoice"))
    assert template.fields["发票代码"].value is None  # not printed on a fully digital invoice


def test_an_electronic_railway_ticket_asked_by_printed_names() -> None:
    """The railway e-ticket invoice (the generator's held-out ticket layout), its stations printed 北京南 | 站."""
    rows = [
        [("电子发票（铁路电子客票）", 400), ("发票号码：24119000000012345678", 860)],
        [("开票日期：2024年05月02日", 860)],
        [("北京南", 120), ("站", 280), ("G11", 520), ("上海虹桥", 760), ("站", 960)],
        [("Beijingnan", 120), ("Shanghaihongqiao", 760)],
        [("2024年05月01日 08:00开", 60), ("05车12F号", 560), ("二等座", 820)],
        [("票价：", 60), ("￥553.00", 160)],
        [("3201231990****1234", 60), ("张三", 400)],
        [("电子客票号：1234567890123456789012", 60)],
        [("购买方名称：张三", 60), ("统一社会信用代码：", 600)],
    ]
    expected = {
        "发票号码": "24119000000012345678",
        "开票日期": "2024-05-02",
        "车次": "G11",
        "出发站": "北京南站",
        "到达站": "上海虹桥站",
        "出发日期": "2024-05-01",
        "出发时间": "08:00",
        "座位号": "05车12F号",
        "票价": "553.00",
        "席别": "二等座",
        "乘客姓名": "张三",
    }
    assert read_by_names(make_document(rows, width=1200, ascii_width=12), list(expected)) == expected


def test_other_fields_aliases_tell_whose_key_a_line_is() -> None:
    """With 金额 (printed 合计金额) and 税额 asked, a value after 合计金额 reads as the other field's for 税额."""
    document = make_document([[("合计金额（小写）：¥2075.01", 40)], [("校验码：33410 74583", 40)]])
    vat = load_schema(template="vat_invoice")
    tax = next(f for f in vat.fields if f.name == "税额")
    doc = DocFeatures.build(DocView(document))
    with_specs = field_rows(doc, tax, vat.fields)
    with_names = field_rows(doc, tax, vat.names)
    column = FEATURES.index("key_is_other_field")
    at = next(i for i, p in enumerate(with_specs.proposals) if p.text == "¥2075.01")
    # The key 合计金额（小写） holds 金额's alias 合计金额; of the bare name 金额 only a part.
    assert with_specs.matrix[at, column] >= 0.8 > with_names.matrix[at, column]


def test_a_bilingual_question_printed_as_two_lines() -> None:
    """A form prints 学历 over Education and asks 学历Education: each half names the field on its own."""
    document = make_document(
        [
            [("姓名", 40), ("汤玲琛", 300), ("性别", 600), ("男", 860)],
            [("Name", 40), ("Sex", 600)],
            [("婚姻状况", 40), ("已婚", 300), ("学历", 600), ("本科", 860)],
            [("Marriage Status", 40), ("Education", 600)],
            [("邮箱地址", 40), ("964947245@qq.com", 300), ("传真", 600), ("35468454", 860)],
            [("Email", 40), ("FAX", 600)],
        ],
        ascii_width=14,
    )
    asked = ["姓名Name", "性别Sex", "婚姻状况MarriageStatus", "学历Education", "邮箱地址Email", "传真FAX"]
    result = Extractor(LEARNED).run_document(document, load_schema(fields=",".join(asked)))
    expected = ["汤玲琛", "男", "已婚", "本科", "964947245@qq.com", "35468454"]
    assert [result.fields[name].value for name in asked] == expected


def test_occurrences_of_one_printed_key_answer_with_different_cells() -> None:
    """A form printing 姓名 twice, asked 姓名 and 姓名 (2): two people, not the same one twice."""
    document = make_document(
        [
            [("家庭成员", 40)],
            [("姓名", 40), ("王建国", 300), ("关系", 560), ("父亲", 760)],
            [("姓名", 40), ("刘秀英", 300), ("关系", 560), ("母亲", 760)],
        ]
    )
    result = Extractor(LEARNED).run_document(document, load_schema(fields="姓名,姓名 (2),关系,关系 (2)"))
    names = {result.fields["姓名"].value, result.fields["姓名 (2)"].value}
    assert names == {"王建国", "刘秀英"}
    assert result.fields["关系"].value != result.fields["关系 (2)"].value


def test_an_occurrence_group_hands_its_answers_out_in_reading_order() -> None:
    """The decoding step on its own: answers read for 姓名 / 姓名 (2) / 姓名 (3) in the wrong order go to the
    occurrences by the position of their lines; a null stays null."""
    from chatocr.extract.extractor import in_reading_order
    from chatocr.result import FieldResult

    members = load_schema(fields="姓名 (2),姓名,姓名 (3),姓名 (4)").fields
    fields = {
        "姓名": FieldResult(value="刘秀英", confidence=0.9),
        "姓名 (2)": FieldResult(value="王建国", confidence=0.6),
        "姓名 (3)": FieldResult(value=None),
        "姓名 (4)": FieldResult(value="张三", confidence=0.5),
    }
    lines = {"姓名": [7], "姓名 (2)": [2, 3], "姓名 (3)": [], "姓名 (4)": [12]}
    in_reading_order(members, fields, lines)
    assert [fields[n].value for n in ("姓名", "姓名 (2)", "姓名 (3)", "姓名 (4)")] == ["王建国", "刘秀英", None, "张三"]
    assert lines["姓名"] == [2, 3] and fields["姓名"].confidence == 0.6


def test_occurrences_are_answered_in_reading_order() -> None:
    """ "姓名 (2)" is the second 姓名 on the page, whichever of the two the reader is surer of."""
    document = make_document(
        [
            [("申请人", 40)],
            [("姓名", 40), ("王建国", 300), ("电话", 560), ("13800001111", 760)],
            [("共同申请人", 40)],
            [("姓名", 40), ("刘秀英", 300), ("电话", 560), ("13900002222", 760)],
        ]
    )
    result = Extractor(LEARNED).run_document(document, load_schema(fields="姓名,姓名 (2),电话,电话 (2)"))
    assert result.fields["姓名"].value == "王建国"
    assert result.fields["姓名 (2)"].value == "刘秀英"
    assert result.fields["电话"].value == "13800001111"
    assert result.fields["电话 (2)"].value == "13900002222"


class PreferenceReader:
    """A stand-in for the trained model: each field answers with the first of its preferred proposals that the
    extractor does not exclude, at a fixed confidence, or null when that is under 0.5."""

    value_kinds = None

    def __init__(self, preferences: dict[str, list[tuple[str, int, float]]]) -> None:
        self.preferences = preferences  # field -> [(text, line index, confidence)]

    def values(self, doc: DocFeatures, spec: Any, *args: Any, exclude: Any = None, **kwargs: Any) -> list[ReaderAnswer]:
        return [
            ReaderAnswer(prop, confidence, confidence)
            for text, line, confidence in self.preferences.get(spec.name, [])
            for prop in doc.proposals
            if prop.text == text and prop.refs == [line] and not (exclude and exclude(prop))
        ]

    def read(self, doc: DocFeatures, spec: Any, *args: Any, exclude: Any = None, **kwargs: Any) -> ReaderAnswer:
        best = next(iter(self.values(doc, spec, exclude=exclude)), None)
        if best is None or best.probability < 0.5:
            return ReaderAnswer(None, 0.9, 0.0)
        return best


def test_a_field_beaten_to_an_amount_does_not_take_it_restated_but_may_share_a_name() -> None:
    """价税合计 holds the total; 税额, whose first choice was the same total, does not read it again from the
    amount in words. 联系人, whose first choice was 经办人's cell, reads the same name from its own cell."""
    document = make_document(
        [
            [("合计金额（小写）：¥2075.01", 40)],
            [("合计金额（大写）：贰仟零柒拾伍圆零壹分", 40)],
            [("经办人：李丛林", 40)],
            [("联系人：李丛林", 40)],
        ]
    )
    view = DocView(document)
    line = {item.text: item.index for item in view.lines}
    total, words = line["合计金额（小写）：¥2075.01"], line["合计金额（大写）：贰仟零柒拾伍圆零壹分"]
    clerk, contact = line["经办人：李丛林"], line["联系人：李丛林"]
    reader = PreferenceReader(
        {
            "价税合计": [("¥2075.01", total, 0.9)],
            "税额": [("¥2075.01", total, 0.6), ("贰仟零柒拾伍圆零壹分", words, 0.5)],
            "经办人": [("李丛林", clerk, 0.9)],
            "联系人": [("李丛林", clerk, 0.7), ("李丛林", contact, 0.6)],
        }
    )
    schema = load_schema(fields="价税合计,税额,经办人,联系人")
    doc = DocFeatures.build(view)
    fields, lines = {}, {}
    for spec in schema.fields:
        fields[spec.name], lines[spec.name] = stage_read(reader, doc, spec, schema)  # type: ignore[arg-type]
    assert fields["税额"].value == "2075.01" and fields["联系人"].value == "李丛林"  # the first choices
    one_field_per_value(reader, doc, schema, None, fields, lines)  # type: ignore[arg-type]
    assert fields["价税合计"].value == "2075.01" and lines["价税合计"] == [total]
    assert fields["税额"].value is None
    assert fields["联系人"].value == "李丛林" and lines["联系人"] == [contact]
    assert lines["经办人"] == [clerk]


def test_an_occurrence_reads_a_value_glued_to_the_next_key_though_the_first_printing_stands_alone() -> None:
    """The second applicant's 居民身份证 is glued to the key after it; the first applicant's is printed alone. The
    glued printing is still proposed (the same text on another line), so 有效证件类别 (2) reads it, not the
    whole line."""
    document = make_document(
        [
            [("姓名", 60), ("李四", 200), ("性别", 500), ("男", 620)],
            [("有效证件类别", 60), ("居民身份证", 260), ("证件号码", 500), ("650104197001012010", 620)],
            [("姓名", 60), ("赵武", 200), ("性别", 500), ("女", 620)],
            [("有效证件类别", 60), ("居民身份证证件号码", 260), ("650104195510032011", 620)],
        ]
    )
    answers = read_by_names(
        document, ["姓名", "有效证件类别", "证件号码", "姓名 (2)", "有效证件类别 (2)", "证件号码 (2)"]
    )
    assert answers == {
        "姓名": "李四",
        "有效证件类别": "居民身份证",
        "证件号码": "650104197001012010",
        "姓名 (2)": "赵武",
        "有效证件类别 (2)": "居民身份证",
        "证件号码 (2)": "650104195510032011",
    }


def read_sums(
    rows: list[list[tuple[str, float]]],
    fields: str,
    preferences: dict[str, list[tuple[str, float]]],
    check: Callable[..., None] = amounts_add_up,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields' answers as the preferences read them, (value, confidence) before and after a document check
    (the sum check unless told); preferences are (the printed amount, its confidence)."""
    view = DocView(make_document(rows))
    line = {item.text: item.index for item in view.lines}
    reader = PreferenceReader(
        {name: [(text, line[text], p) for text, p in prefs] for name, prefs in preferences.items()}
    )
    schema = load_schema(fields=fields)
    doc = DocFeatures.build(view)
    answers, lines = {}, {}
    for spec in schema.fields:
        answers[spec.name], lines[spec.name] = stage_read(reader, doc, spec, schema)  # type: ignore[arg-type]
    before = {name: (field.value, field.confidence) for name, field in answers.items()}
    check(reader, doc, schema, answers, lines)
    return before, {name: (field.value, round(field.confidence, 3)) for name, field in answers.items()}


RECEIPT_ROWS = [
    [("Subtotal", 40), ("86.46", 600)],
    [("Sales Tax 8%", 40), ("6.92", 600)],
    [("Total", 40), ("93.38", 600)],
    [("Cash", 40), ("100.00", 600)],
    [("Change", 40), ("6.62", 600)],
    [("Discount", 40), ("0.00", 600)],
]


def read_receipt(preferences: dict[str, list[tuple[str, float]]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A receipt's subtotal, tax and total, before and after the sum check."""
    return read_sums(RECEIPT_ROWS, "Subtotal_value,Tax_value,Total_value", preferences)


def test_two_answers_of_a_sum_decide_the_third() -> None:
    """Subtotal + Tax = Total: a subtotal left null, or a tax read from the wrong line, is the value that completes
    the sum, at the two other answers' confidence multiplied; answers that add up stay."""
    subtotal, tax, total = ("86.46", 0.3), ("6.92", 0.8), ("93.38", 0.9)
    before, after = read_receipt({"Subtotal_value": [subtotal], "Tax_value": [tax], "Total_value": [total]})
    assert before["Subtotal_value"] == (None, 0.9)
    assert after == {"Subtotal_value": ("86.46", 0.72), "Tax_value": ("6.92", 0.8), "Total_value": ("93.38", 0.9)}
    wrong_tax = ("6.62", 0.6)  # the change, read as the tax
    _, after = read_receipt({"Subtotal_value": [("86.46", 0.9)], "Tax_value": [wrong_tax, tax], "Total_value": [total]})
    assert after["Tax_value"] == ("6.92", 0.81)
    # The printed value must complete the sum to the cent: nothing here is 93.38 - 6.92 but 86.46.
    _, after = read_receipt({"Subtotal_value": [("100.00", 0.3)], "Tax_value": [tax], "Total_value": [total]})
    assert after["Subtotal_value"] == (None, 0.9)


def test_the_sum_check_changes_one_answer_and_never_reads_a_zero_tax() -> None:
    """Two unknowns are not decided by one sum (two line items may add up to the total), and a tax of 0.00 never
    completes one (a receipt without tax prints 0.00 elsewhere)."""
    total = ("93.38", 0.9)
    _, after = read_receipt({"Subtotal_value": [("86.46", 0.3)], "Tax_value": [("6.92", 0.3)], "Total_value": [total]})
    assert after["Subtotal_value"][0] is None and after["Tax_value"][0] is None
    _, after = read_receipt({"Subtotal_value": [("93.38", 0.9)], "Tax_value": [("0.00", 0.3)], "Total_value": [total]})
    assert after["Tax_value"][0] is None


def read_vat_totals(
    rows: list[list[tuple[str, float]]], preferences: dict[str, list[tuple[str, float]]]
) -> dict[str, Any]:
    """A VAT invoice's 合计金额, 合计税额 and 价税合计 as the preferences read them, after the sum check."""
    return read_sums(rows, "合计金额,合计税额,价税合计", preferences)[1]


VAT_ROWS = [
    [("货物或应税劳务名称", 40), ("金额", 500), ("税额", 800)],
    [("STM32F103", 40), ("3017.80", 500), ("392.31", 800)],
    [("合", 40), ("¥18567.30", 500), ("¥2413.74", 800)],
    [("价税合计（小写）", 40), ("¥20981.04", 500)],
]


def test_a_net_amount_and_its_tax_printed_side_by_side_complete_the_total() -> None:
    """Neither 合计金额 nor 合计税额 is read (their key, 合计, came back from the OCR as 合), 价税合计 is: the two
    amounts on one row, the net amount first, that add up to it answer both, at the total's confidence."""
    unsure = {"合计金额": [("¥18567.30", 0.2)], "合计税额": [("¥2413.74", 0.2)]}
    after = read_vat_totals(VAT_ROWS, {**unsure, "价税合计": [("¥20981.04", 0.9)]})
    assert after == {"合计金额": ("18567.30", 0.9), "合计税额": ("2413.74", 0.9), "价税合计": ("20981.04", 0.9)}


def test_a_net_amount_and_a_tax_read_as_each_other_trade_places() -> None:
    """合计金额 read the tax and 合计税额 the net amount (their columns confused): they add up to the total the other
    way round, and a tax is the smaller share, so they swap, each with its own evidence and confidence."""
    swapped = {"合计金额": [("¥2413.74", 0.8)], "合计税额": [("¥18567.30", 0.7)], "价税合计": [("¥20981.04", 0.9)]}
    after = read_vat_totals(VAT_ROWS, swapped)
    assert after == {"合计金额": ("18567.30", 0.7), "合计税额": ("2413.74", 0.8), "价税合计": ("20981.04", 0.9)}


def test_amounts_on_two_rows_or_a_tax_too_large_do_not_complete_a_total() -> None:
    """Two amounts that add up to the total but are not side by side (a line item over another), or whose "tax" is
    more than a tax can be, are a coincidence; an answer surer than the total is not replaced."""
    stacked = [
        [("合", 40), ("¥18567.30", 500)],
        [("税", 40), ("¥2413.74", 500)],
        [("价税合计（小写）", 40), ("¥20981.04", 500)],
    ]
    unsure = {"合计金额": [("¥18567.30", 0.2)], "合计税额": [("¥2413.74", 0.2)]}
    after = read_vat_totals(stacked, {**unsure, "价税合计": [("¥20981.04", 0.9)]})
    assert after["合计金额"][0] is None and after["合计税额"][0] is None
    halves = [[("合", 40), ("¥600.00", 500), ("¥400.00", 800)], [("价税合计（小写）", 40), ("¥1000.00", 500)]]
    after = read_vat_totals(
        halves, {"合计金额": [("¥600.00", 0.2)], "合计税额": [("¥400.00", 0.2)], "价税合计": [("¥1000.00", 0.9)]}
    )
    assert after["合计金额"][0] is None and after["合计税额"][0] is None
    sure_net = {"合计金额": [("3017.80", 0.95), ("¥18567.30", 0.2)], "合计税额": [("¥2413.74", 0.2)]}
    after = read_vat_totals(VAT_ROWS, {**sure_net, "价税合计": [("¥20981.04", 0.9)]})
    assert after["合计金额"] == ("3017.80", 0.95) and after["合计税额"][0] is None


def read_cash_total(rows: list[list[tuple[str, float]]], preferences: list[tuple[str, float]]) -> tuple[str, float]:
    """A receipt's total as the preferences (printed amount, confidence) read it, after the rounding check."""
    value, confidence = read_sums(rows, "total", {"total": preferences}, check=total_after_rounding)[1]["total"]
    return value or "", confidence


def test_a_total_rounded_for_cash_is_the_amount_paid() -> None:
    """Total Sales 98.37, a rounding adjustment of -0.02 and the total after it, 98.35, printed below: the total is
    98.35, at the confidence the reader had in 98.37. Without the adjustment printed, or printed above, it stays."""
    rows = [
        [("Total Sales Incl GST", 40), ("98.37", 600)],
        [("Rounding Adj", 40), ("-0.02", 600)],
        [("Total After Adj Incl GST", 40), ("98.35", 600)],
        [("Cash", 40), ("100.00", 600)],
    ]
    preferences = [("98.37", 0.8), ("98.35", 0.3)]
    assert read_cash_total(rows, preferences) == ("98.35", 0.8)
    assert read_cash_total([rows[0], rows[2], rows[3]], preferences) == ("98.37", 0.8)
    assert read_cash_total([rows[2], rows[1], rows[0], rows[3]], preferences) == ("98.37", 0.8)


def test_a_rounding_adjustment_read_without_its_zero_still_rounds_the_total() -> None:
    """The OCR often loses a small amount's "0." (-0.02 comes back as ",02"): a line between the two totals that
    prints the cents of their difference is the adjustment. The same digits elsewhere, or other cents, are not."""
    preferences = [("13.58", 0.8), ("13.60", 0.3)]
    rows = [
        [("Total Sales (Inclusive GST) RM", 40), ("13.58", 600)],
        [("Rounding Adjustment RM", 40), (",02", 600)],
        [("Rounding RM", 40), ("13.60", 600)],
        [("CASH RM", 40), ("14.00", 600)],
    ]
    assert read_cash_total(rows, preferences) == ("13.60", 0.8)
    other_cents = [rows[0], [("Rounding Adjustment RM", 40), (",03", 600)], rows[2], rows[3]]
    assert read_cash_total(other_cents, preferences) == ("13.58", 0.8)
    below_both = [rows[0], rows[2], rows[3], [("Items", 40), ("02", 600)]]
    assert read_cash_total(below_both, preferences) == ("13.58", 0.8)


def test_manifest_mismatch_warns_and_missing_model_is_an_options_error(tmp_path: Path) -> None:
    shutil.copytree(default_model_dir(), tmp_path / "model")
    manifest_path = tmp_path / "model" / "reader.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["features_version"] = -1
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.warns(ReaderModelWarning, match="features v-1"):
        LearnedReader(tmp_path / "model")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LearnedReader()  # the shipped model matches this code
    with pytest.raises(OptionsError, match="no reader model"):
        LearnedReader(tmp_path / "empty")
    (tmp_path / "model" / "value_kinds.npz").unlink()
    with pytest.warns(ReaderModelWarning, match="value_kinds.npz that is missing"):
        LearnedReader(tmp_path / "model")


def test_value_kinds_are_learned_from_labelled_texts() -> None:
    """The value-kind model learns what values look like from (text, kind) pairs; texts it never saw get
    the kind they resemble."""
    examples = [
        *(
            (f"NO. {n}, JALAN {w} {n % 7}, {40000 + n} SHAH ALAM", "address")
            for n, w in enumerate(["AMPANG", "TUN", "SS2"] * 6)
        ),
        *((f"{w} TRADING SDN BHD", "company") for w in ["GOLDEN", "UNITED", "SUNRISE", "HAPPY", "BLUE", "FRESH"] * 3),
        *((f"{d:02d}/0{m}/2019", "date") for d in range(1, 10) for m in (1, 5)),
        *((t, "none") for t in ["THANK YOU", "CASHIER", "ITEM", "QTY", "PLEASE COME AGAIN", "TABLE 5"] * 3),
    ]
    model = fit_value_kinds(examples)
    p = model.probabilities(["NO. 88, JALAN KLANG, 58200 KUALA LUMPUR", "EVERGREEN HARDWARE SDN BHD", "31/12/2020"])
    assert [CLASSES[i] for i in p.argmax(axis=1)] == ["address", "company", "date"]
    assert np.allclose(p.sum(axis=1), 1.0)


def test_the_shipped_value_kinds_read_unseen_texts() -> None:
    kinds = LearnedReader().value_kinds
    assert kinds is not None
    p = kinds.probabilities(
        ["NO. 106, HIGH STREET, 40000 SHAH ALAM", "浙江省杭州市西湖区文三路 88 号", "GOLDEN MINI MARKET LTD"]
    )
    assert p[0].argmax() == CLASSES.index("address")
    assert p[1].argmax() == CLASSES.index("address")
    assert p[2].argmax() == CLASSES.index("company")


def test_shipped_manifest_says_what_it_was_trained_on() -> None:
    manifest = json.loads((default_model_dir() / "reader.json").read_text(encoding="utf-8"))
    sources = manifest["training"]["sources"]
    assert sources["sroie_train"]["excluded_ids"] >= 98  # the SROIE development receipts
    assert sources["xfund_zh"]["holdout_first"] == 40
    assert sources["sroie_train"]["ocr"] == "both" and sources["synth"]["ocr"] == "gt"
    assert sources["synth_till"]["real_limit"] == 100
    assert 0.0 < manifest["threshold"] < 1.0


def test_training_recipe_runs_end_to_end(tmp_path: Path) -> None:
    """`chatocr finetune reader` on a tiny synthetic set: rows, trees, calibration, a loadable model."""
    pytest.importorskip("sklearn")
    from chatocr.finetune.reader_train import Recipe, Source, train_reader

    recipe = Recipe(
        name="tiny",
        sources=[Source(name="synth", path=tmp_path / "synth", kind="synth", synth={"n": 24, "seed": 3})],
        params={"min_data_in_leaf": 5},
        rounds=10,
    )
    manifest = train_reader(recipe, tmp_path / "model", tmp_path / "cache", threads=1)
    assert manifest["training"]["sources"]["synth"]["positives"] > 0
    reader = LearnedReader(tmp_path / "model")
    assert reader.booster.num_feature() == len(FEATURES)
    # A second run reuses the cached rows (resumable).
    assert list((tmp_path / "cache").glob("rows-synth-*.npz"))


def test_two_competing_totals_lower_the_confidence_and_are_both_reported() -> None:
    rows = [
        [("ACME MART SDN BHD", 200)],
        [("Date: 01/02/2020", 40)],
        [("Bread", 40), ("5.00", 600)],
        [("Milk", 40), ("7.50", 600)],
        [("TOTAL:", 40), ("12.50", 600)],
        [("CASH", 40), ("20.00", 600)],
    ]
    schema = load_schema(fields="total")
    extractor = Extractor(LEARNED)
    single = extractor.run_document(make_document(rows), schema).fields["total"]
    competing = extractor.run_document(make_document([*rows, [("Total:", 40), ("99.00", 600)]]), schema).fields["total"]
    assert single.value == "12.50" and not single.alternatives
    assert competing.value in ("12.50", "99.00")
    assert competing.confidence < single.confidence
    assert competing.alternatives and {competing.value, competing.alternatives[0].value} == {"12.50", "99.00"}
    assert competing.export()["alternatives"][0]["box"] is not None


def test_min_confidence_option_is_validated_and_lowers_the_null_threshold() -> None:
    from typer.testing import CliRunner

    import chatocr.cli.extract_cmd  # noqa: F401  (registers `extract`)
    from chatocr.cli.app import app

    bad = CliRunner().invoke(app, ["extract", "x.jpg", "--fields", "total", "--min-confidence", "1.5"])
    assert bad.exit_code == OptionsError.exit_code and "min_confidence" in bad.output
    document = make_document([[("Ref", 40), ("QX-7781", 600)], [("Amount paid", 40), ("12.50", 600)]])
    schema = load_schema(fields="Shipment reference,total")
    strict = Extractor(Options.create(**{"extract.strategy": "learned", "extract.min_confidence": 0.99}))
    lenient = Extractor(Options.create(**{"extract.strategy": "learned", "extract.min_confidence": 0.0}))
    strict_answers = [f.value for f in strict.run_document(document, schema).fields.values() if f.value]
    lenient_answers = [f.value for f in lenient.run_document(document, schema).fields.values() if f.value]
    assert len(lenient_answers) == 2 and len(strict_answers) < 2


def test_training_refuses_a_missing_dataset_before_any_slow_work(tmp_path: Path) -> None:
    from chatocr.errors import DatasetError
    from chatocr.finetune.reader_train import Recipe, Source, train_reader

    recipe = Recipe(
        name="bad",
        sources=[
            Source(name="synth", path=tmp_path / "synth", kind="synth", synth={"n": 4, "seed": 1}),
            Source(name="forms", path=tmp_path / "nowhere"),
        ],
        params={},
    )
    with pytest.raises(DatasetError, match="no folder"):
        train_reader(recipe, tmp_path / "model", tmp_path / "cache", threads=1)
    assert not (tmp_path / "synth").exists() and not (tmp_path / "model").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources:\n  - name: a\n", "KeyError"),  # a source without a path
        ("sources:\n  - name: a\n    path: x\n    holdout_first: many\n", "ValueError"),
        ("sources:\n  - name: a\n    path: x\n    weight: 0\n", "weight of a must be above 0"),
        ("sources:\n  - name: a\n    path: x\n    ocr: bth\n", "ocr of a must be one of gt, real, both"),
        ("sources:\n  - name: a\n    path: x\n    ocr: both\n    real_limit: many\n", "ValueError"),
        ("sources:\n  - name: a\n    path: x\n    ocr: both\n    real_limit: -1\n", "real_limit of a must be 0"),
        ("sources: [\n", "YAMLError|ScannerError|ParserError"),
    ],
)
def test_a_bad_reader_recipe_is_an_options_error(tmp_path: Path, text: str, message: str) -> None:
    from chatocr.finetune.reader_train import load_reader_recipe

    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OptionsError, match=message):
        load_reader_recipe(path, tmp_path, tmp_path)


def test_cached_training_rows_are_keyed_by_the_code_that_computes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A change to the lexicon or a parser changes the rows without a version bump: the rows cache misses."""
    from chatocr.finetune import reader_train

    source = reader_train.Source(name="forms", path=Path("forms"))
    before = reader_train._cache_key(source, seed=1)
    assert reader_train._cache_key(source, seed=1) == before
    assert "chatocr.fields.lexicon" in reader_train.ROW_MODULES
    monkeypatch.setattr(reader_train, "code_digest", lambda: "edited")
    assert reader_train._cache_key(source, seed=1) != before


def test_printed_field_names_are_learned_as_keys(tmp_path: Path) -> None:
    """The value-kind model's "key" class is learned from the lines that print a labelled field's name (a form's
    question, "发票号码"), so the reader can tell a neighbouring question from an answer for names it never saw."""
    from chatocr.finetune.reader_train import Source, value_kind_examples

    forms = Source(name="forms", path=tmp_path / "forms", kind="synth", synth={"n": 6, "seed": 5, "kinds": ["kv_form"]})
    folds = value_kind_examples(forms, seed=0)
    examples = [pair for fold in folds for pair in fold]
    keys = [text for text, kind in examples if kind == "key"]
    assert len(keys) >= 6
    labelled = set()
    for label_file in (tmp_path / "forms" / "labels").glob("*.json"):
        labelled |= {squash(occurrence_of(name)[0]) for name in json.loads(label_file.read_text(encoding="utf-8"))}
    assert all(squash(text) in labelled for text in keys)

    model = fit_value_kinds(
        [*examples, *((t, "none") for t in ["THANK YOU", "PAGE 1", "COPY"] * 4)],
    )
    p = model.probabilities(keys[:3])
    assert (p.argmax(axis=1) == CLASSES.index("key")).all()


def test_a_value_kind_model_of_fewer_classes_still_loads(tmp_path: Path) -> None:
    """A value-kind file written before the "key" class existed loads; the class it lacks is never predicted."""
    from chatocr.extract.value_kinds import BUCKETS, ValueKindModel

    rng = np.random.default_rng(0)
    path = tmp_path / "old.npz"
    np.savez(path, weights=rng.normal(size=(BUCKETS, len(CLASSES) - 1)), bias=np.zeros(len(CLASSES) - 1))
    model = ValueKindModel.load(path)
    assert model is not None
    p = model.probabilities(["姓名", "NO. 8 JALAN KLANG"])
    assert p.shape == (2, len(CLASSES)) and np.allclose(p.sum(axis=1), 1.0)
    assert (p[:, CLASSES.index("key")] < 1e-3).all()


def test_prediction_early_stopping_keeps_every_fields_best_proposal() -> None:
    """The reader stops adding trees for a proposal that is plainly right or wrong (LightGBM's prediction early
    stopping): every field's best proposal, and its probability, are those of the full trees."""
    reader = LearnedReader()
    stopped = 0
    for kind, layout, seed in [("vat_invoice", "roll", 1), ("train_ticket", "eticket", 3), ("certificate", "table", 2)]:
        document, _ = synth_document(kind, layout, seed)
        fields = load_schema(template=kind).fields
        doc = DocFeatures.build(DocView(document), kinds=reader.value_kinds)
        for spec in fields:
            matrix = field_rows(doc, spec, fields).matrix
            if not matrix.shape[0]:
                continue
            early, full = reader.scores(matrix), np.asarray(reader.booster.predict(matrix, num_threads=1))
            assert int(np.argmax(early)) == int(np.argmax(full))
            assert abs(float(early.max()) - float(full.max())) < 1e-3
            stopped += int((early != full).sum())
    assert stopped > 0  # proposals did stop early: their scores are those of fewer trees

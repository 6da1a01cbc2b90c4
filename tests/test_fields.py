"""Field specs: plain lists, schema files and dicts, bundled templates, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatocr.errors import SpecError
from chatocr.fields import FieldType, list_templates, load_schema
from chatocr.fields.lexicon import (
    DATE_KEYS,
    PRINTED_KEYS,
    SECTIONS,
    hint_for,
    kind_of,
    language_parts,
    multiline_of,
    other_sections,
    section_of,
    spec_from_name,
    sum_role_of,
    sum_roles,
)
from chatocr.fields.spec import FieldSpec

TEMPLATE_FIELDS = {
    "certificate": ["姓名", "比赛名称", "证书编号", "指导老师姓名", "级别", "等级", "证书日期", "比赛单位承办单位"],
    "receipt": ["company", "date", "address", "total"],
    "vat_invoice": [
        "发票代码", "发票号码", "开票日期", "购买方名称", "购买方纳税人识别号", "销售方名称", "销售方纳税人识别号",
        "金额", "税额", "价税合计",
    ],
    "train_ticket": ["车次", "出发站", "到达站", "出发日期", "出发时间", "座位号", "席别", "票价", "乘客姓名"],
    "business_license": ["统一社会信用代码", "名称", "类型", "法定代表人", "注册资本", "成立日期", "住所", "经营范围"],
}  # fmt: skip


def test_field_list_splits_on_ascii_and_fullwidth_commas() -> None:
    schema = load_schema(fields="发票号码，开票日期, total")
    assert schema.names == ["发票号码", "开票日期", "total"]


def test_field_list_as_python_list() -> None:
    assert load_schema(fields=["company", "date"]).names == ["company", "date"]


def test_plain_names_get_types_and_aliases_from_the_lexicon() -> None:
    schema = load_schema(fields="total,date,发票号码,开票日期,Store_name_value,备注")
    total = schema.field("total")
    assert total.type is FieldType.amount
    assert {"Total", "Grand Total", "Amount Due"} <= set(total.aliases)
    assert schema.field("date").type is FieldType.date
    assert kind_of(schema.field("发票号码")) == "code"
    assert schema.field("开票日期").type is FieldType.date
    assert kind_of(schema.field("Store_name_value")) == "company"
    assert "Store name" in schema.field("Store_name_value").aliases
    assert schema.field("备注").type is FieldType.text


def test_unknown_names_are_typed_from_their_fragments() -> None:
    assert hint_for("到账金额").type is FieldType.amount
    assert hint_for("入住日期").type is FieldType.date
    # 时间 names a date as often as a time of day (填表时间, 入党时间); English "time" is a time of day.
    assert hint_for("填表时间").normalize == "date_or_time"
    assert hint_for("Arrival time").normalize == "time"
    # An amount in words is asked as printed; the same total in figures is an amount.
    assert hint_for("价税合计（大写）").type is FieldType.text
    assert hint_for("价税合计（小写）").type is FieldType.amount
    assert hint_for("合同编号").kind == "code"
    # A period runs from one date to another: it is read as printed, where a date field keeps one date.
    assert hint_for("存档起止时间").type is FieldType.text and hint_for("存档起止时间").normalize is None
    assert hint_for("工作期限 (2)").type is FieldType.text


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        # Chinese names put their head last: an evaluation, a purpose or a method is text, whatever it mentions.
        ("辅导员对学生的综合评价", "text"),
        ("前期费用主要用途", "text"),
        ("学籍取得时间与方式", "text"),
        ("单价", "amount"),
        ("交费金额", "amount"),
        # A note in brackets, numbering and marks are not the name.
        ("奖惩情况(奖惩名称、级别、时间)", "text"),
        ("诚信记录(主要指交往、学费、安全、学习、就业等方面的不良记录)", "text"),
        ("13、成立时间*", "date"),
        ("金额(元)", "amount"),
        # English words are whole words: "resume" holds no "sum".
        ("个人履历Resume(近10年)", "text"),
        ("Total amount", "amount"),
        # An ID number, but the kind of ID a form asks for is text (身份证, 护照).
        ("身份证件号码", "id_card"),
        ("公民身份号码", "id_card"),
        ("身份证件种类", "text"),
        ("身份证件类型", "text"),
        # A name ending in 日 names a day; a weekday, a schedule's column (7月1日) or a lone 日 box does not.
        ("转为小规模纳税人生效之日", "date"),
        ("经营到期日", "date"),
        ("出生年月日", "date"),
        ("星期日", "text"),
        ("7月1日", "text"),
        ("日", "text"),
        # 联系方式 ("how to reach") on a form is a phone number.
        ("⑪提供者联系方式", "phone"),
        # A payment (支付, 实收, 找零) is an amount; a way of paying is not.
        ("医保统筹基金支付", "amount"),
        ("实收", "amount"),
        ("个人自付", "amount"),
        ("支付方式", "text"),
    ],
)
def test_inference_reads_the_head_of_a_name(name: str, kind: str) -> None:
    assert hint_for(name).kind == kind


@pytest.mark.parametrize("bad", ["", " , ，", []])
def test_empty_field_list_is_a_spec_error(bad: str | list[str]) -> None:
    with pytest.raises(SpecError):
        load_schema(fields=bad)


def test_duplicate_names_are_rejected() -> None:
    with pytest.raises(SpecError, match="duplicate"):
        load_schema(fields="total,total")


def test_exactly_one_source_is_required() -> None:
    with pytest.raises(SpecError, match="exactly one"):
        load_schema()
    with pytest.raises(SpecError, match="exactly one"):
        load_schema(fields="total", template="receipt")


def test_templates_are_listed_with_descriptions() -> None:
    templates = list_templates()
    assert set(TEMPLATE_FIELDS) <= set(templates)
    assert all(desc for desc in templates.values())


@pytest.mark.parametrize("name", sorted(TEMPLATE_FIELDS))
def test_template_fields_are_the_agreed_names(name: str) -> None:
    assert load_schema(template=name).names == TEMPLATE_FIELDS[name]


def test_certificate_rules_and_choices() -> None:
    schema = load_schema(template="certificate")
    level = schema.field("级别")
    assert level.type is FieldType.enum and set(level.choices or []) == {"省赛", "国赛"}
    assert level.default == "国赛" and {"初赛", "省"} <= set(level.rules[0].if_text_contains)
    prize = schema.field("等级")
    assert prize.default == "获奖"
    assert set(prize.choices or []) == {"一等奖", "二等奖", "三等奖", "优秀奖", "获奖"}
    # YAML would read a bare No as False: the alias must survive as text.
    assert "No" in schema.field("证书编号").aliases


def test_unknown_template_names_the_known_ones() -> None:
    with pytest.raises(SpecError) as info:
        load_schema(template="passport")
    assert "receipt" in str(info.value)


def test_template_name_cannot_escape_the_folder() -> None:
    with pytest.raises(SpecError):
        load_schema(template="../fields/templates/receipt")


def test_schema_from_yaml_and_json_files(tmp_path: Path) -> None:
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(
        "name: mine\nfields:\n  - name: 金额\n    type: amount\n  - 开票日期\n  - name: 状态\n"
        "    type: enum\n    choices: [已付, 未付]\n    default: 未付\n",
        encoding="utf-8",
    )
    schema = load_schema(schema=yaml_file)
    assert schema.names == ["金额", "开票日期", "状态"]
    assert schema.field("金额").normalize == "amount"  # filled from the lexicon
    assert schema.field("开票日期").type is FieldType.date
    json_file = tmp_path / "s.json"
    json_file.write_text(json.dumps({"fields": {"total": {"type": "amount"}, "date": {"type": "date"}}}))
    assert load_schema(schema=str(json_file)).names == ["total", "date"]


def test_schema_dict() -> None:
    schema = load_schema(schema={"fields": [{"name": "x", "description": "an x", "aliases": ["X:"]}]})
    assert schema.field("x").aliases == ["X:"]


def test_bad_yaml_is_a_readable_spec_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("fields: [name: x\n  - :", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_schema(schema=bad)


def test_bad_json_is_a_readable_spec_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"fields": [', encoding="utf-8")
    with pytest.raises(SpecError, match="not valid JSON"):
        load_schema(schema=bad)


def test_missing_schema_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_schema(schema=tmp_path / "nope.yaml")


def test_multiline_and_section_default_to_the_lexicon() -> None:
    plain = FieldSpec(name="x")
    assert plain.multiline is None and plain.section is None
    assert multiline_of(plain) is False and section_of(plain) == () and other_sections(plain) == ()
    # Unset on the spec: the lexicon answers from the name, however the spec was made.
    assert multiline_of(FieldSpec(name="经营范围")) is True
    assert section_of(FieldSpec(name="销售方名称")) == SECTIONS["销售方"]


def test_the_lexicon_fills_multiline_and_section_for_bare_names() -> None:
    schema = load_schema(fields="经营范围,备注,地址,收货地址,发票号码,购买方名称,销售方纳税人识别号,名称")
    assert [f.name for f in schema.fields if f.multiline] == ["经营范围", "备注", "地址", "收货地址"]
    assert schema.field("发票号码").multiline is False
    buyer = schema.field("购买方名称")
    assert buyer.section == ["购买方", "购方", "买方", "购货单位"]
    assert other_sections(buyer) == SECTIONS["销售方"]
    assert schema.field("销售方纳税人识别号").section == list(SECTIONS["销售方"])
    assert schema.field("名称").section == []
    # 备注 joins the lexicon for its wrapping only: still a plain text field printed under its own name.
    assert spec_from_name("备注").aliases == ["备注"] and kind_of(spec_from_name("备注")) == "text"


def test_templates_declare_multiline_and_section() -> None:
    licence = load_schema(template="business_license")
    assert licence.field("经营范围").multiline is True and licence.field("住所").multiline is True
    assert licence.field("名称").multiline is None  # unset: the lexicon decides
    assert load_schema(template="receipt").field("address").multiline is True
    invoice = load_schema(template="vat_invoice")
    for name in ("购买方名称", "购买方纳税人识别号", "销售方名称", "销售方纳税人识别号"):
        # The template says what the lexicon would infer from the name.
        assert section_of(invoice.field(name)) == section_of(FieldSpec(name=name)) != ()
    assert invoice.field("金额").section is None


def test_multiline_and_section_load_from_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(
        "fields:\n  - name: 备注\n    multiline: false\n  - name: 收货人\n    section: [收货方, 收货单位]\n"
        "  - name: 说明\n    multiline: true\n",
        encoding="utf-8",
    )
    schema = load_schema(schema=yaml_file)
    assert schema.field("备注").multiline is False and multiline_of(schema.field("备注")) is False  # declared wins
    assert schema.field("说明").multiline is True
    receiver = schema.field("收货人")
    assert section_of(receiver) == ("收货方", "收货单位")
    assert other_sections(receiver) == (*SECTIONS["购买方"], *SECTIONS["销售方"])
    json_file = tmp_path / "s.json"
    json_file.write_text(json.dumps({"fields": [{"name": "购买方名称", "section": []}, {"name": "经营范围"}]}))
    schema = load_schema(schema=str(json_file))
    assert section_of(schema.field("购买方名称")) == ()  # an empty section turns the lexicon's off
    assert schema.field("经营范围").multiline is None and multiline_of(schema.field("经营范围")) is True


def test_printed_key_vocabulary() -> None:
    # Lexicon aliases (squashed: NFKC, no spaces or colons, lower case) and labels no field asks for.
    assert {"发票代码", "grandtotal", "统一社会信用代码", "收款员", "赛区/阶段"} <= PRINTED_KEYS
    assert all(key == key.lower() and " " not in key for key in PRINTED_KEYS)
    assert {"开票日期", "出生", "有效期"} <= set(DATE_KEYS)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("学历Education", ["学历", "Education"]),
        ("RelationshiptoChild和孩子的关系", ["和孩子的关系", "RelationshiptoChild"]),
        ("ID号码", []),  # printed whole
        ("姓名", []),
        ("Total", []),
    ],
)
def test_a_bilingual_name_has_a_chinese_and_an_english_half(name: str, parts: list[str]) -> None:
    assert language_parts(name) == parts


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fields": []}, "fields"),
        ({"fields": [{"name": "s", "section": ["购方", " "]}]}, "section label is empty"),
        ({"fields": [{"name": "s", "multiline": "sometimes"}]}, "multiline"),
        ({"fields": [{"name": "s", "type": "enum"}]}, "needs 'choices'"),
        ({"fields": [{"name": "s", "type": "colour"}]}, "type"),
        ({"fields": [{"name": "s", "colour": "red"}]}, "colour"),
        ({"fields": [{"name": "s", "type": "enum", "choices": ["a"], "default": "b"}]}, "not one of its choices"),
        ({"fields": "total"}, "fields"),
        ([{"name": "a"}, 3], "fields.1"),
    ],
)
def test_invalid_specs_name_the_problem(data: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_schema(schema=data)  # type: ignore[arg-type]


def test_a_schema_of_the_wrong_type_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="int"):
        load_schema(schema=42)  # type: ignore[arg-type]


def test_amounts_that_add_up_get_their_part_in_the_sum_from_the_name_or_the_spec(tmp_path: Path) -> None:
    """total = net + tax: the lexicon reads the part from the name; a declared sum_role wins."""
    roles = {
        "Total_value": "total", "Subtotal_value": "net", "Tax_value": "tax", "Total Tax": "tax", "Grand Total": "total",
        "价税合计（小写）": "total", "合计金额": "net", "合计税额": "tax", "金额": "net", "税额": "tax", "小计": "net",
        "Tips_value": None, "合计": None, "票价": None, "发票号码": None, "金额（大写）": None,
    }  # fmt: skip
    assert {name: sum_role_of(spec_from_name(name)) for name in roles} == roles
    invoice = load_schema(template="vat_invoice")
    assert {role: spec.name for role, spec in (sum_roles(invoice.fields) or {}).items()} == {
        "net": "金额",
        "tax": "税额",
        "total": "价税合计",
    }
    # A role counts only when each of the three is asked once: two nets, or no tax, check nothing.
    assert sum_roles(load_schema(fields="金额,合计金额,税额,价税合计").fields) is None
    assert sum_roles(load_schema(fields="subtotal,total").fields) is None
    schema_file = tmp_path / "s.yaml"
    schema_file.write_text(
        "fields:\n  - {name: 应付, type: amount, sum_role: total}\n  - {name: 货款, type: amount, sum_role: net}\n"
        "  - {name: 增值税, type: amount, sum_role: tax}\n",
        encoding="utf-8",
    )
    declared = sum_roles(load_schema(schema=schema_file).fields)
    assert declared is not None and declared["total"].name == "应付" and declared["tax"].name == "增值税"
    with pytest.raises(SpecError):
        load_schema(fields=None, schema=json_spec(tmp_path, {"fields": [{"name": "x", "sum_role": "grand"}]}))


def json_spec(folder: Path, content: dict[str, object]) -> Path:
    path = folder / "spec.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path

"""Synthetic Chinese and English documents with ground truth (``chatocr data synth``).

Thirteen kinds, each with several layouts; the last layout of each kind is held out from
training, so a development set can use layouts the model never saw:

====================  ==========================================  ===================================
kind                  layouts (last = held out)                   template / fields
====================  ==========================================  ===================================
certificate           classic, modern, portrait, table            certificate (姓名, 比赛名称, ...)
vat_invoice           paper, electronic, verification, roll       vat_invoice (发票代码, 发票号码, ...)
train_ticket          red, blue, itinerary, eticket               train_ticket (车次, 出发站, ...)
business_license      portrait, landscape, photocopy, registry    business_license (统一社会信用代码, ...)
receipt (zh, en)      thermal, sales, card_slip, check            receipt (company, date, address, total)
kv_form (zh, en)      inline, grid, stacked, header_row           none: random printed keys
taxi_receipt          meter, columns, preprinted                  none: 发票号码, 车号, 上车, 金额, ...
bank_slip             ledger, stacked, mobile                     none: 付款人户名, 金额, 大写金额, ...
english_invoice (en)  classic, modern, boxed                      none: Invoice No., Bill To, Total, ...
id_card               card, copy, portrait                        none: 姓名, 出生, 住址, 公民身份号码, ...
medical_receipt       ruled, thermal, electronic                  none: 票据号码, 交款人, 西药费, 合计, ...
contract              title_block, table, side_by_side            none: 合同编号, 甲方, 乙方, 合同金额, ...
till_receipt (en)     till, check, pump                           none: a user's names (Store name, Tax)
====================  ==========================================  ===================================

A kind without a template labels the keys it prints, as printed (the key names vary from
document to document among their synonyms), and a key or two it does not print as absent; till
receipts, whose store name and address have no printed key, label each field under one of the
names a user asks it by.

Pages are drawn with PIL and the Debian CJK fonts, then degraded (``none``, ``mild``,
``strong``: skew, perspective, 90/180-degree turns, blur, noise, JPEG, red seals over
text, uneven light and shadow, paper tone).  Output follows the benchmark dataset layout
(see :mod:`chatocr.data.synth.writer`); the same seed always gives the same files (for a
given generator version and set of installed fonts).

The Chinese development set used by the benchmarks (held-out layouts, never trained on)::

    chatocr data synth --out .cache/zh-dev --n 200 --seed 1234 --layouts heldout --lang zh --degrade mild

and a training set from the other layouts, e.g.::

    chatocr data synth --out .cache/synth-train --n 2000 --seed 7 --layouts train --degrade mild
"""

from __future__ import annotations

from chatocr.data.synth.generator import (
    PlannedDoc,
    SynthDocument,
    kinds,
    layouts_for,
    plan,
    render,
    render_one,
    resolve_kinds,
)
from chatocr.data.synth.writer import SynthSummary, is_complete, synthesize, write_document

__all__ = [
    "PlannedDoc",
    "SynthDocument",
    "SynthSummary",
    "is_complete",
    "kinds",
    "layouts_for",
    "plan",
    "render",
    "render_one",
    "resolve_kinds",
    "synthesize",
    "write_document",
]

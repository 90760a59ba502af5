"""The receipt PDF: readable Chinese on any reader (embedded subset font), every field,
a QR code that scans to the verification page, and long text that wraps on the page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from shebao.fees.receipt_view import ReceiptLine
from shebao.receipts import render_receipt_pdf
from tests.receipts.factories import LONG_AGENCY, VERIFY_URL, sample_view
from tests.receipts.readback import Rendered, run_tool

A4_WIDTH_PT = 595.28
MARGIN_PT = 15 * 72 / 25.4


@pytest.fixture(scope="module")
def sample(save_receipt) -> Rendered:
    return save_receipt("receipt-sample", render_receipt_pdf(sample_view()))


def test_is_a_pdf(sample: Rendered) -> None:
    assert sample.pdf.startswith(b"%PDF-")
    assert sample.pdf.rstrip().endswith(b"%%EOF")
    assert len(PdfReader(io.BytesIO(sample.pdf)).pages) == 1


def _spaced(text: str) -> str:
    """Runs of whitespace (cell gaps, line breaks, U+3000) as one space."""
    return re.sub(r"\s+", " ", text)


def test_every_label_and_value_reads_back_in_chinese(sample: Rendered) -> None:
    text = _spaced(sample.text())
    expected = [
        "灵活就业及城乡居民社保缴费回单",
        "社会保险费缴费回单",
        "国家税务总局广西壮族自治区税务局",
        "缴费人",
        "张伟",
        "证件号码",
        "4501**********1239",
        "社保经办机构",
        "南宁市社会保险事业管理中心",
        "人员编号",
        "4501000012345678",
        "服务机构",
        "国家税务总局南宁市青秀区税务局",
        "险种",
        "费款所属期起止",
        "缴费基数",
        "金额（元）",
        "企业职工基本养老保险",
        "职工基本医疗保险",
        "2026-01 至 2026-02",
        "4371.00",
        "1748.40",
        "699.36",
        "—",
        "合计（大写）",
        "人民币贰仟肆佰肆拾柒元柒角陆分",
        "合计（小写）",
        "¥2447.76",
        "缴费时间",
        "2026年11月27日 14:01:02",
        "缴费渠道",
        "微信支付",
        "银行流水号",
        "4200002612202611270123456789",
        "当前状态",
        "已上解未入库",
        "查询时间",
        "2026年11月27日 14:05:09",
        "回单编号",
        "345016261100000123",
        "办理进度",
        "已入库　预计 2026年11月28日 10:00:00",
        "扫码验证回单真伪",
        "验证码：7Q3K9XWD",
        VERIFY_URL,
        "本回单由个人社保费掌上办生成，可通过二维码或回单编号验证。",
    ]
    missing = [item for item in expected if _spaced(item) not in text]
    assert not missing, f"not in the extracted text: {missing}"
    assert "合计（小写） ¥2447.76" in text, "the figures must follow their label"
    assert "合计（大写） 人民币贰仟肆佰肆拾柒元柒角陆分" in text


def test_watermark_is_drawn_not_written(sample: Rendered) -> None:
    """The watermark is vector paths under the content: it is on the page (a translucent
    fill) but never pollutes copied or extracted text."""
    assert "电子回单" not in sample.text()
    page = PdfReader(io.BytesIO(sample.pdf)).pages[0]
    states = page["/Resources"]["/ExtGState"].values()
    assert any(float(state.get_object().get("/ca", 1)) < 0.2 for state in states)


def test_fonts_are_embedded_subsets(sample: Rendered) -> None:
    fonts = PdfReader(io.BytesIO(sample.pdf)).pages[0]["/Resources"]["/Font"]
    assert len(fonts) == 2  # regular and bold
    for font in fonts.values():
        font = font.get_object()
        assert font["/Subtype"] == "/Type0"
        assert "/ToUnicode" in font  # text can be copied and searched
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, f"{descendant['/BaseFont']} not embedded"
        assert re.fullmatch(r"/[A-Z]{6}\+NotoSansCJKSC(Bold)?", str(descendant["/BaseFont"]))


def test_metadata_names_the_document_not_the_payer(sample: Rendered) -> None:
    meta = PdfReader(io.BytesIO(sample.pdf)).metadata
    assert meta.title == "灵活就业及城乡居民社保缴费回单"
    assert meta.author == "国家税务总局广西壮族自治区税务局"
    assert meta.creation_date == dt.datetime(2026, 11, 27, 6, 5, 9, tzinfo=dt.UTC)
    assert not any("张伟" in str(value) or "**********" in str(value) for value in meta.values())


def test_same_view_same_bytes(sample: Rendered) -> None:
    assert render_receipt_pdf(sample_view()) == sample.pdf


def test_qr_scans_to_the_verify_url(sample: Rendered) -> None:
    """zbarimg (Debian zbar-tools) decodes the QR from the 150 dpi raster of page 1."""
    png = sample.png(dpi=150)
    decoded = run_tool("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", png).strip()
    assert decoded == VERIFY_URL


def test_nothing_leaves_the_printable_area(sample: Rendered) -> None:
    for x_min, _, x_max, _, word in sample.word_boxes():
        assert MARGIN_PT - 1 <= x_min and x_max <= A4_WIDTH_PT - MARGIN_PT + 1, f"{word!r} overflows: {x_min}-{x_max}"


def test_a_long_agency_name_wraps_instead_of_overflowing(save_receipt) -> None:
    assert len(LONG_AGENCY) == 60
    rendered = save_receipt("receipt-long-agency", render_receipt_pdf(sample_view(agency=LONG_AGENCY)))
    assert LONG_AGENCY in rendered.compact_text()
    lines_with_agency_text = [line for line in rendered.text().splitlines() if line and line in LONG_AGENCY]
    assert len(lines_with_agency_text) >= 2, "a 60-character name does not fit on one line: it must wrap"
    for x_min, _, x_max, _, word in rendered.word_boxes():
        assert MARGIN_PT - 1 <= x_min and x_max <= A4_WIDTH_PT - MARGIN_PT + 1, f"{word!r} overflows: {x_min}-{x_max}"
    assert rendered.png(dpi=100).stat().st_size > 0


def test_many_lines_continue_on_further_pages(save_receipt) -> None:
    line = ReceiptLine("城乡居民基本医疗保险", "2025-01", "2025-12", None, Decimal("380.00"))
    view = sample_view(lines=(line,) * 40, total_amount=Decimal("15200.00"))
    rendered = save_receipt("receipt-many-lines", render_receipt_pdf(view))
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert len(reader.pages) >= 2
    text = rendered.compact_text()
    assert text.count("380.00") == 40
    assert "人民币壹万伍仟贰佰元整" in text and VERIFY_URL in text
    for page_no in range(1, len(reader.pages) + 1):
        assert f"回单编号{view.receipt_no}第{page_no}页" in text, f"page {page_no} does not name the receipt"


def test_a_naive_time_is_refused() -> None:
    view = dataclasses.replace(sample_view(), queried_at=dt.datetime(2026, 11, 27, 14, 5, 9))
    with pytest.raises(ValueError, match="timezone-aware"):
        render_receipt_pdf(view)


def test_a_character_beyond_the_font_is_shown_not_dropped(save_receipt, caplog) -> None:
    """U+2A6A5 (𪚥, CJK Ext. B) is not in Noto Sans CJK SC: the receipt shows □ in its place
    rather than a silently shortened name, and the log says how many, not which."""
    rendered = save_receipt("receipt-missing-glyph", render_receipt_pdf(sample_view(payer_name="韦\U0002a6a5")))
    assert "韦□" in rendered.text()
    assert "placeholder" in caplog.text and "\U0002a6a5" not in caplog.text


def test_rendering_logs_nothing_about_the_payers_characters(caplog) -> None:
    """fontTools' subsetter would log the kept glyph ids at INFO (the name's characters)."""
    with caplog.at_level(logging.INFO):  # the production root level
        render_receipt_pdf(sample_view())
    assert not [record for record in caplog.records if record.name.startswith("fontTools") and record.levelno < logging.WARNING]

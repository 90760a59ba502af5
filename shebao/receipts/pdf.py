"""The payment receipt (灵活就业及城乡居民社保缴费回单, REQUIREMENTS §2.2) as a PDF.

A4 portrait, every field of the ``ReceiptView`` in a bordered table with Chinese labels,
the total in figures and in capital words, a QR code to the public verification page,
a light diagonal watermark under the content and a footer. Chinese text is set in
Noto Sans CJK SC, embedded as a subset (see ``fonts``), so any reader shows it.

The PDF carries no personal data beyond what the view gives (the ID arrives masked);
its metadata names the document and the bureau, never the payer. Rendering the same
view twice gives the same bytes: the creation date is ``view.queried_at`` and the file
identifier is derived from the content."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fpdf import FPDF, FontFace
from fpdf.enums import Align, TableCellFillMode, WrapMode, XPos, YPos
from fpdf.table import Table

from shebao.fees.receipt_view import ReceiptLine, ReceiptView, TimelineStep
from shebao.receipts.amounts import amount_in_words, format_amount, format_cn_datetime
from shebao.receipts.fonts import covered_codepoints, printable_fields, receipt_fonts
from shebao.receipts.qr import draw_qr
from shebao.receipts.watermark import draw_watermark

LOGGER = logging.getLogger(__name__)
# fontTools' subsetter logs, at INFO, the glyph ids it keeps: the characters of the payer's
# name, recoverable from the font. Keep it quiet whatever the root level is.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
TITLE = "灵活就业及城乡居民社保缴费回单"
SUBTITLE = "社会保险费缴费回单"
ISSUER = "国家税务总局广西壮族自治区税务局"
CREATOR = "个人社保费掌上办"
WATERMARK = "掌上办电子回单"
FOOTER = "本回单由个人社保费掌上办生成，可通过二维码或回单编号验证。"
SCAN_HINT = "扫码验证回单真伪"
NO_BASE = "—"  # fixed-amount resident items have no contribution base

FAMILY = "NotoSansCJKSC"
MARGIN = 15.0  # mm, left/right/top
BOTTOM = 22.0  # mm kept free for the footer
BODY_PT = 10.0
TEXT = (33, 33, 33)
MUTED = (96, 102, 110)
RULE = (110, 118, 128)
LABEL_FILL = (241, 244, 248)
HEAD_FILL = (226, 233, 242)
WATERMARK_RGB = (200, 72, 72)
WATERMARK_OPACITY = 0.08
QR_SIZE = 34.0  # mm, quiet zone included (~0.83 mm modules for a version 3-4 symbol)

LABEL_STYLE = FontFace(family=FAMILY, emphasis="BOLD", color=TEXT, fill_color=LABEL_FILL)
HEAD_STYLE = FontFace(family=FAMILY, emphasis="BOLD", color=TEXT, fill_color=HEAD_FILL)
STRONG_STYLE = FontFace(family=FAMILY, emphasis="BOLD", color=TEXT)


class ReceiptDocument(FPDF):
    """FPDF with the receipt's page furniture: the watermark is painted first on every
    page (so the content lies over it, and filled cells hide it) and the footer, with
    the receipt number so that every page of a long receipt names it, last."""

    receipt_no = ""
    watermark = WATERMARK
    footer_text = FOOTER
    number_label = "回单编号"
    watermark_anchors: list[tuple[float, float]] | None = None  # None: the receipt's grid of ten

    def header(self) -> None:
        anchors = self.watermark_anchors or [(22 + col * 95 + (row % 2) * 20, 55 + row * 55) for row in range(5) for col in range(2)]
        draw_watermark(
            self,
            receipt_fonts().bold,
            self.watermark,
            anchors,
            size_pt=26,
            angle_deg=30,
            rgb=WATERMARK_RGB,
            opacity=WATERMARK_OPACITY,
        )
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-BOTTOM + 6)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(FAMILY, "", 8.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.footer_text, align=Align.L)
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.number_label} {self.receipt_no}　第 {self.page_no()} 页", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_receipt_pdf(view: ReceiptView) -> bytes:
    """The receipt for ``view`` as PDF bytes (A4 portrait, PDF 1.6, fonts embedded).

    Raises ``fonts.ReceiptFontMissing`` when Noto Sans CJK is not installed."""
    qr_target = view.verify_url  # the QR always encodes the exact URL
    view = _printable_view(view)
    pdf = _new_document(view)
    pdf.add_page()
    _title_block(pdf)
    section(pdf, "缴费人信息")
    _payer_table(pdf, view)
    section(pdf, "缴费明细")
    _lines_table(pdf, view)
    section(pdf, "缴费信息")
    _payment_table(pdf, view)
    _verification_block(pdf, view, qr_target)
    return bytes(pdf.output())


def _printable_view(view: ReceiptView) -> ReceiptView:
    """The view with characters the font lacks shown as a placeholder (see
    ``fonts.printable``); logs how many, never which."""
    fixed, replaced = printable_fields(view, covered_codepoints(receipt_fonts().regular))
    if replaced:
        LOGGER.warning("receipt %s: %d character(s) missing from the font printed as a placeholder", view.receipt_no, replaced)
    return fixed


def _new_document(view: ReceiptView) -> ReceiptDocument:
    return new_document(title=TITLE, subject=f"{SUBTITLE} {view.receipt_no}", number=view.receipt_no, created_at=view.queried_at)


def new_document(*, title: str, subject: str, number: str, created_at, watermark: str = WATERMARK, footer_text: str = FOOTER,
                 number_label: str = "回单编号") -> ReceiptDocument:
    """An A4 document in the receipt's set (fonts embedded, margins, metadata naming the
    bureau, never the payer), its watermark, footer and number on every page."""
    fonts = receipt_fonts()
    pdf = ReceiptDocument(orientation="P", unit="mm", format="A4")
    pdf.receipt_no, pdf.watermark, pdf.footer_text, pdf.number_label = number, watermark, footer_text, number_label
    pdf.add_font(FAMILY, "", fonts.regular.path, collection_font_number=fonts.regular.index)
    pdf.add_font(FAMILY, "B", fonts.bold.path, collection_font_number=fonts.bold.index)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=BOTTOM)
    pdf.set_title(title)
    pdf.set_subject(subject)
    pdf.set_author(ISSUER)
    pdf.set_creator(CREATOR)
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(created_at)
    pdf.set_display_mode(zoom="fullwidth", layout="single")
    return pdf


def _title_block(pdf: FPDF) -> None:
    pdf.set_text_color(*TEXT)
    pdf.set_font(FAMILY, "B", 17)
    pdf.cell(0, 9, TITLE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 11)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 6, SUBTITLE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10.5)
    pdf.cell(0, 6, f"开具机关：{ISSUER}", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*RULE)
    y = pdf.get_y() + 2
    pdf.set_line_width(0.5)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, y + 1, pdf.w - pdf.r_margin, y + 1)
    pdf.set_y(y + 3)


def section(pdf: FPDF, heading: str) -> None:
    if pdf.will_page_break(22):  # keep a heading with at least the first rows of its table
        pdf.add_page()
    pdf.ln(2.5)
    pdf.set_font(FAMILY, "B", 11)
    pdf.set_text_color(*TEXT)
    pdf.cell(0, 7, f"▍{heading}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


@contextmanager
def bordered_table(pdf: FPDF, col_widths: tuple[float, ...], *, headings: bool = False) -> Iterator[Table]:
    """A full-width bordered table that wraps text character by character (CJK has no
    spaces to break at), with the receipt's fonts, colours and padding."""
    pdf.set_font(FAMILY, "", BODY_PT)
    pdf.set_text_color(*TEXT)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=col_widths,
        width=pdf.epw,
        first_row_as_headings=headings,
        headings_style=HEAD_STYLE,
        line_height=5.2,
        padding=(1.6, 2.0),
        text_align=Align.L,
        wrapmode=WrapMode.CHAR,
        cell_fill_mode=TableCellFillMode.NONE,
    ) as table:
        yield table


def pair_row(table: Table, *pairs: tuple[str, str]) -> None:
    """One row of label/value pairs (two per row); a single pair's value fills the row."""
    row = table.row()
    for label, value in pairs:
        row.cell(label, style=LABEL_STYLE)
        row.cell(value, colspan=3 if len(pairs) == 1 else 1)


PAIR_WIDTHS = (26.0, 64.0, 26.0, 64.0)


def _payer_table(pdf: FPDF, view: ReceiptView) -> None:
    with bordered_table(pdf, PAIR_WIDTHS) as table:
        pair_row(table, ("缴费人", view.payer_name), ("证件号码", view.id_number_masked))
        pair_row(table, ("人员编号", view.person_no), ("回单编号", view.receipt_no))
        pair_row(table, ("社保经办机构", view.agency))
        pair_row(table, ("服务机构", view.tax_office))


def _line_cells(number: int, line: ReceiptLine) -> tuple[str, ...]:
    base = NO_BASE if line.base_amount is None else format_amount(line.base_amount)
    return str(number), line.insurance_type, f"{line.period_from} 至 {line.period_to}", base, format_amount(line.amount)


def _lines_table(pdf: FPDF, view: ReceiptView) -> None:
    heading_aligns = (Align.C, Align.C, Align.C, Align.R, Align.R)
    aligns = (Align.C, Align.L, Align.L, Align.R, Align.R)  # amounts right-aligned under their heading
    with bordered_table(pdf, (12.0, 62.0, 44.0, 30.0, 32.0), headings=True) as table:
        heading = table.row()
        for text, align in zip(("序号", "险种", "费款所属期起止", "缴费基数", "金额（元）"), heading_aligns, strict=True):
            heading.cell(text, align=align)
        for number, line in enumerate(view.lines, start=1):
            row = table.row()
            for text, align in zip(_line_cells(number, line), aligns, strict=True):
                row.cell(text, align=align)
        words = table.row()
        words.cell("合计（大写）", style=LABEL_STYLE, colspan=2)
        words.cell(f"人民币{amount_in_words(view.total_amount)}", style=STRONG_STYLE, colspan=3)
        figures = table.row()
        figures.cell("合计（小写）", style=LABEL_STYLE, colspan=2)
        figures.cell(f"¥{format_amount(view.total_amount)}", style=STRONG_STYLE, colspan=3)


def _timeline_text(steps: tuple[TimelineStep, ...]) -> str:
    """One line per step: done time, else expected time, else 待处理."""
    lines = []
    for step in steps:
        if step.done_at is not None:
            when = format_cn_datetime(step.done_at)
        elif step.expected_at is not None:
            when = f"预计 {format_cn_datetime(step.expected_at)}"
        else:
            when = "待处理"
        lines.append(f"{'●' if step.done_at else '○'} {step.label}　{when}")
    return "\n".join(lines)


def _payment_table(pdf: FPDF, view: ReceiptView) -> None:
    with bordered_table(pdf, PAIR_WIDTHS) as table:
        pair_row(table, ("缴费时间", format_cn_datetime(view.paid_at)), ("缴费渠道", view.channel))
        pair_row(table, ("银行流水号", view.bank_serial_no))
        pair_row(table, ("当前状态", view.state), ("查询时间", format_cn_datetime(view.queried_at)))
        if view.timeline:
            pair_row(table, ("办理进度", _timeline_text(view.timeline)))


def _verification_block(pdf: FPDF, view: ReceiptView, qr_target: str) -> None:
    """The QR code on the left, what it is for and the verify code beside it."""
    verification_block(pdf, qr_target, hint=SCAN_HINT, lines=(f"验证码：{view.verify_code}", f"回单编号：{view.receipt_no}"),
                       shown_url=view.verify_url)


def verification_block(pdf: FPDF, qr_target: str, *, hint: str, lines: tuple[str, ...], shown_url: str) -> None:
    """A QR code to ``qr_target`` with ``hint``, ``lines`` and the address printed beside it."""
    if pdf.will_page_break(QR_SIZE + 8):
        pdf.add_page()
    pdf.ln(5)
    top = pdf.get_y()
    draw_qr(pdf, qr_target, pdf.l_margin, top, QR_SIZE)
    text_x = pdf.l_margin + QR_SIZE + 4
    pdf.set_xy(text_x, top + 4)
    pdf.set_text_color(*TEXT)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 7, hint, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", BODY_PT)
    for line in lines:
        pdf.cell(0, 6, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(pdf.w - pdf.r_margin - text_x, 4.5, f"验证地址：{shown_url}", wrapmode=WrapMode.CHAR)
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE))

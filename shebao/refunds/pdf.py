"""The refund decision letter (社保费退费决定书) as a PDF: 同意退费 or 不予退费 with the
reason, the application's items and account (masked), and a QR code to the public check.

It is set like the payment receipt (same fonts, watermark, bordered tables: the receipt's
document class and table helpers), A4 portrait, deterministic for a given application
(creation date is the decision time)."""

from __future__ import annotations

from fpdf.enums import Align, WrapMode, XPos, YPos

from shebao.receipts.amounts import amount_in_words, format_amount, format_cn_datetime
from shebao.receipts.fonts import covered_codepoints, printable, receipt_fonts
from shebao.receipts.pdf import (
    FAMILY,
    ISSUER,
    MUTED,
    PAIR_WIDTHS,
    TEXT,
    bordered_table,
    new_document,
    pair_row,
    section,
    verification_block,
)
from shebao.refunds.models import RefundApplication, RefundState

TITLE = "社会保险费退费决定书"


def _letter_text(a: RefundApplication) -> str:
    if a.state == RefundState.SUCCEEDED:
        return (f"经审核，您申请退还的{a.insurance_type}（费款所属期{a.period_label}）社会保险费"
                f"{format_amount(a.amount)}元，符合退费规定，决定同意退费，款项已退至您提供的银行账户。")
    return (f"经审核，您申请退还的{a.insurance_type}（费款所属期{a.period_label}）社会保险费"
            f"{format_amount(a.amount)}元，因“{a.failure_reason}”，决定不予退费。如有异议，可携本决定书向主管税务机关咨询，"
            "或核对退费账户后重新申请。")


def render_decision_pdf(a: RefundApplication, *, verify_url: str) -> bytes:
    """The letter of a decided application as PDF bytes (fonts embedded)."""
    covered = covered_codepoints(receipt_fonts().regular)

    def p(text: str) -> str:
        return printable(text, covered)[0]

    pdf = new_document(title=TITLE, subject=f"{TITLE} {a.application_no}", number=a.application_no, created_at=a.decided_at,
                       watermark="掌上办退费决定书", footer_text="本决定书由个人社保费掌上办生成，可通过二维码或验证码验证真伪。",
                       number_label="退费申请编号")
    pdf.add_page()
    pdf.set_text_color(*TEXT)
    pdf.set_font(FAMILY, "B", 17)
    pdf.cell(0, 9, TITLE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 6, f"{ISSUER}　{a.application_no}", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", 15)
    pdf.set_text_color(*TEXT)
    pdf.cell(0, 10, f"决定：{a.decision_label}", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 11)
    pdf.multi_cell(0, 6.5, p(_letter_text(a)), wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    section(pdf, "退费信息")
    with bordered_table(pdf, PAIR_WIDTHS) as table:
        pair_row(table, ("退费类型", a.get_kind_display()), ("险种", a.insurance_type))
        pair_row(table, ("费款所属期", a.period_label), ("缴费基数", f"{format_amount(a.base_amount)}元" if a.base_amount else "—"))
        pair_row(table, ("实缴金额", f"{format_amount(a.paid_amount)}元"), ("退费金额", f"{format_amount(a.amount)}元"))
        pair_row(table, ("金额大写", amount_in_words(a.amount)))
        pair_row(table, ("电子缴款凭证号", "、".join(a.receipt_nos)))
        if a.sheet_no:
            pair_row(table, ("核定退费单号", a.sheet_no), ("退费原因", p(a.sheet.get("reason", ""))))
        if a.virtual_account_id:
            pair_row(table, ("虚拟户", p(f"{a.virtual_account_name}（{a.virtual_account_id}）")))
        pair_row(table, ("退费账户", f"{a.bank_name} {a.account_masked}"))
        pair_row(table, ("受理时间", format_cn_datetime(a.accepted_at)), ("决定时间", format_cn_datetime(a.decided_at)))
    verification_block(pdf, verify_url, hint="扫码验证决定书真伪", lines=(f"验证码：{a.verify_code}",), shown_url=verify_url)
    return bytes(pdf.output())

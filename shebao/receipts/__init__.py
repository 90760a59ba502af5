"""Payment receipts (缴费回单) as documents: the PDF of a ``ReceiptView`` and the
Chinese money and time formats it prints. A plain package, not a Django app."""

from shebao.receipts.amounts import amount_in_words, format_amount, format_cn_datetime
from shebao.receipts.fonts import ReceiptFontMissing, find_receipt_fonts
from shebao.receipts.pdf import render_receipt_pdf

__all__ = [
    "ReceiptFontMissing",
    "amount_in_words",
    "find_receipt_fonts",
    "format_amount",
    "format_cn_datetime",
    "render_receipt_pdf",
]

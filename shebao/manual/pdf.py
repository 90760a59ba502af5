"""The operation manual as a PDF: Chinese text in the receipts' embedded Noto Sans CJK, the
service version and the release date on every page (the footer), a translucent watermark that
names the downloader (masked) and the moment of the download on every page, the screenshots,
the 修订记录, and a verification code on every page and in the metadata (``Keywords``), by
which an uploaded copy is found again (shebao.manual.services)."""

from __future__ import annotations

import datetime as dt

from fpdf.enums import Align, WrapMode, XPos, YPos
from PIL import Image

from shebao.common.clock import local
from shebao.manual.content import SHOTS, Manual
from shebao.receipts.fonts import covered_codepoints, printable, receipt_fonts
from shebao.receipts.pdf import FAMILY, ISSUER, MUTED, TEXT, new_document

TITLE = "个人社保费掌上办操作手册"
KEYWORD_PREFIX = "SBMANUAL-"
SHOT_WIDTH = 62.0  # mm: a phone screen, readable when printed
SHOT_MAX_HEIGHT = 200.0  # mm


def render_manual_pdf(manual: Manual, *, downloader: str, at: dt.datetime, verify_code: str) -> bytes:
    covered = covered_codepoints(receipt_fonts().regular)

    def p(text: str) -> str:
        return printable(text, covered)[0]

    moment = local(at).strftime("%Y-%m-%d %H:%M")
    pdf = new_document(title=TITLE, subject=f"{TITLE} 版本 {manual.version}", number=verify_code, created_at=at,
                       watermark=p(f"{downloader} 下载于 {moment}"),
                       footer_text=f"操作手册 版本 {manual.version}（{manual.released_on:%Y-%m-%d}）",
                       number_label="验证码")
    # four long watermarks a page (the downloader and the moment), not the receipt's ten short
    # ones: each is an outlined path, and a manual has many pages
    pdf.watermark_anchors = [(18, 95), (60, 165), (18, 235), (60, 295)]
    pdf.set_keywords(f"{KEYWORD_PREFIX}{verify_code}")
    pdf.add_page()
    pdf.set_text_color(*TEXT)
    pdf.set_font(FAMILY, "B", 18)
    pdf.cell(0, 10, TITLE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 6, f"{ISSUER}　版本 {manual.version}　{manual.released_on:%Y年%m月%d日}", align=Align.C, new_x=XPos.LMARGIN,
             new_y=YPos.NEXT)
    pdf.cell(0, 6, p(f"下载人：{downloader}　下载时间：{moment}"), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    _contents(pdf, manual)
    for section in manual.sections:
        _section(pdf, section, p)
    _history(pdf, manual)
    return bytes(pdf.output())


def _contents(pdf, manual: Manual) -> None:
    pdf.set_font(FAMILY, "B", 13)
    pdf.set_text_color(*TEXT)
    pdf.cell(0, 8, "目录", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10.5)
    for section in manual.sections:
        pdf.cell(0, 6, section.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 6, "修订记录", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _section(pdf, section, p) -> None:
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(FAMILY, "B", 14)
    pdf.set_text_color(*TEXT)
    pdf.cell(0, 9, section.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for block in section.blocks:
        if block.kind == "heading":
            pdf.ln(1.5)
            pdf.set_font(FAMILY, "B", 11.5)
            pdf.multi_cell(0, 7, p(block.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)
        elif block.kind == "image":
            _shot(pdf, block)
        else:
            pdf.set_font(FAMILY, "", 10.5)
            indent = 6.0 if block.kind == "item" else 0.0
            pdf.set_x(pdf.l_margin + indent)
            lead = f"{block.number}. " if block.number else ("• " if block.kind == "item" else "")
            # CJK has no spaces to break at: by character, or "4." stands alone on its line
            pdf.multi_cell(pdf.epw - indent, 6, p(lead + block.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)
            pdf.ln(1)


def _shot(pdf, block) -> None:
    path = SHOTS / f"{block.shot}.png"
    if not path.exists():  # tests/manual fails first: every shot the manual names exists
        return
    with Image.open(path) as picture:
        width_px, height_px = picture.size
    width = SHOT_WIDTH
    height = width * height_px / width_px
    if height > SHOT_MAX_HEIGHT:  # a long page: scaled to fit a printed page, not cut
        width, height = width * SHOT_MAX_HEIGHT / height, SHOT_MAX_HEIGHT
    if pdf.will_page_break(height + 8):
        pdf.add_page()
    pdf.image(str(path), w=width, h=height, x=pdf.l_margin + (pdf.epw - width) / 2)
    pdf.set_font(FAMILY, "", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, f"图：{block.text}", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*TEXT)


def _history(pdf, manual: Manual) -> None:
    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 9, "修订记录", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)
    for release in reversed(manual.releases):
        changed = "、".join(release.sections) or "无"
        pdf.multi_cell(0, 6, f"版本 {release.version}（{release.date:%Y-%m-%d}）：{release.notes}。本版修改的章节：{changed}",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)
        pdf.ln(1)

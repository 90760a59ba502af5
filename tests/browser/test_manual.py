"""The operation manual on a phone (issue 12): read it, search it, download the PDF, and check a
downloaded copy is genuine by uploading it, in the standard and the 大字版 look."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from shebao.manual.content import load_manual
from tests.browser.flows import expect_elderly

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("elderly", [pytest.param(False, id="standard"), pytest.param(True, id="elderly")])
def test_the_manual_is_read_searched_downloaded_and_verified(phone_factory, tmp_path, elderly):
    phone = phone_factory(elderly=elderly)
    page = phone.page
    phone.goto("/")
    page.get_by_role("link", name="操作手册", exact=True).click()  # the footer link, on every page
    expect(page.get_by_role("heading", name="操作手册", exact=True)).to_be_visible()
    expect_elderly(phone, elderly)
    sections = len(load_manual().sections)
    expect(page.get_by_role("navigation", name="手册目录").get_by_role("link")).to_have_count(sections + 2)  # and history, check
    phone.shot("manual")

    page.get_by_role("searchbox", name="搜索手册").fill("核定退费单")
    page.get_by_role("button", name="搜索", exact=True).click()
    results = page.get_by_role("region", name="“核定退费单”的搜索结果（1个章节）")
    expect(results).to_be_visible()
    results.get_by_role("link").click()
    expect(page.get_by_role("heading", name="九、社保费退费申请")).to_be_in_viewport()
    phone.shot("manual-search")

    with page.expect_download(timeout=60_000) as info:  # the whole manual rendered for this downloader
        page.get_by_role("link", name="下载PDF版").click()
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf)
    assert info.value.suggested_filename.startswith("操作手册-") and pdf.read_bytes().startswith(b"%PDF-")
    _expect_chinese_and_watermark(pdf, phone.shots_dir / "manual-pdf-page1")

    page.get_by_label("选择操作手册PDF文件").set_input_files(str(pdf))
    page.get_by_role("button", name="验证", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="验证通过")).to_contain_text("下载人 访客")
    phone.shot("manual-verified")
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(pdf.read_bytes() + b"\n% changed\n")
    page.get_by_label("选择操作手册PDF文件").set_input_files(str(changed))
    page.get_by_role("button", name="验证", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="验证未通过")).to_contain_text("下载后已被修改")
    phone.shot("manual-changed")
    assert not phone.findings, "\n".join(phone.findings)


def _expect_chinese_and_watermark(pdf: Path, png_stem: Path) -> None:
    """Page 1 rendered to PNG (kept beside the screenshots, to be looked at): its text is the
    Chinese of the manual, and the translucent red watermark is painted across it."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert "个人社保费掌上办操作手册" in text and "下载人：访客" in text, text[:300]
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png_stem)], check=True, timeout=60)
    with Image.open(f"{png_stem}.png") as page:
        pixels = page.convert("RGB").getdata()
        tinted = sum(1 for r, g, b in pixels if r >= 240 and g <= 242 and b <= 242 and r - g >= 8)  # faint red on white
        ink = sum(1 for r, g, b in pixels if r < 100 and g < 100 and b < 100)
    assert tinted > 2000, f"no watermark on page 1 ({tinted} tinted pixels)"
    assert ink > 1000, "no text rendered on page 1"

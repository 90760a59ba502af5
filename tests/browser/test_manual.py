"""The operation manual on a phone (issue 12): read it, search it, download the PDF, and check a
downloaded copy is genuine by uploading it, in the standard and the 大字版 look."""

from __future__ import annotations

import pytest
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

    with page.expect_download() as info:
        page.get_by_role("link", name="下载PDF版").click()
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf)
    assert info.value.suggested_filename.startswith("操作手册-") and pdf.read_bytes().startswith(b"%PDF-")

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

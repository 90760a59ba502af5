"""委托扣款缴费协议 on a phone (issue 11, agreements): 韦玉梅 signs a three-party agreement on
paper, the bank clerk enters it on the bank simulator's counter page (柜面录入), she
completes the verification online; then she signs a two-party agreement for herself, which
the bank checks at once; 委托扣款协议查询 lists both. Late phase: her number's SMS minute
(the standard-mode audit logged her in) has passed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shebao.adapters.bank.simulator import demo_account_no
from shebao.core.demo_data import DEMO_PEOPLE
from tests.browser.flows import expect_notice, kv, login_demo, step_up_by_sms

pytestmark = pytest.mark.browser

NAME = "韦玉梅"
PERSON = next(p for p in DEMO_PEOPLE if p[0] == NAME)
CARD = demo_account_no(DEMO_PEOPLE.index(PERSON) + 1)  # her card at the bank simulator


def _fill_card(page) -> None:
    page.get_by_label("开户银行").select_option(label="中国工商银行")
    page.get_by_label("银行账号").fill(CARD)
    expect(page.get_by_label("账户名称")).to_have_value(NAME)
    page.get_by_text("使用电子签名签署本协议").click()


def _sign_with_step_up(phone, outbox, fill) -> None:
    """Fill, 确认签署; when the login's confirmation is no longer fresh the SMS step-up comes
    between, then fill again."""
    page = phone.page
    fill()
    page.get_by_role("button", name="确认签署").click()
    if page.get_by_role("heading", name="短信确认").count():
        step_up_by_sms(phone, outbox, PERSON[4], shot_prefix="agreement-step-up")
        fill()
        page.get_by_role("button", name="确认签署").click()


@pytest.mark.journey_phase("late")
def test_both_agreement_kinds_are_signed_and_the_paper_one_verified_after_the_counter(phone_factory, outbox):
    phone = phone_factory()
    page = phone.page
    login_demo(phone, outbox, PERSON, shot_prefix="agreement-login")
    phone.goto("/m/fees")
    page.get_by_role("link", name=re.compile("^委托扣款缴费协议")).click()
    expect(page.get_by_text("暂无扣款协议")).to_be_visible()
    phone.shot("agreements-empty")

    page.get_by_role("link", name="签订三方协议").click()

    def fill():
        _fill_card(page)
        page.get_by_text("纸质协议（打印后到银行柜面签约").click()
        phone.shot("three-party-form")

    _sign_with_step_up(phone, outbox, fill)
    expect(page.get_by_role("heading", name="三方协议详情")).to_be_visible()
    expect(kv(page, "当前状态")).to_have_text("待银行柜面签约")
    agreement_no, payer_code = kv(page, "协议书号").inner_text(), kv(page, "缴费人编码").inner_text()
    detail = phone.path()
    phone.shot("three-party-awaiting-counter")

    page.get_by_role("button", name="完成验证").click()  # before the bank has it: a plain reason, still waiting
    expect_notice(phone, "银行尚未录入该纸质协议")
    expect(kv(page, "当前状态")).to_have_text("待银行柜面签约")

    phone.goto("/sim/bank/counter")  # the bank clerk's page
    for label, value in (("征收机关代码", "14500000000"), ("协议书号", agreement_no), ("缴费人编码", payer_code),
                         ("缴费人名称", NAME), ("付款行行号（12位）", "102611000017"), ("付款账号", CARD), ("账户名称", NAME)):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="录入协议").click()
    expect(page.get_by_role("status")).to_contain_text(f"已录入协议 {agreement_no}")
    phone.shot("bank-counter-entered")

    phone.goto(detail)
    page.get_by_role("button", name="完成验证").click()
    expect_notice(phone, "协议验证通过，已生效")
    expect(kv(page, "当前状态")).to_have_text("已生效")
    phone.shot("three-party-verified")

    phone.goto("/agreements/two-party/new")
    _sign_with_step_up(phone, outbox, lambda: _fill_card(page))
    expect(page.get_by_role("heading", name="两两协议详情")).to_be_visible()
    expect(kv(page, "当前状态")).to_have_text("已生效（可扣款）")
    phone.shot("two-party-active")

    phone.goto("/m/query")
    page.get_by_role("link", name=re.compile("^委托扣款协议查询")).click()
    lines = page.locator("a.weui-cell_access")
    expect(lines).to_have_count(2)
    expect(lines.filter(has_text=f"三方协议 {agreement_no}")).to_contain_text("已生效")
    expect(lines.filter(has_text="两两协议")).to_contain_text("已生效（可扣款）")
    phone.shot("agreements-list")
    assert not phone.findings, "\n".join(phone.findings)

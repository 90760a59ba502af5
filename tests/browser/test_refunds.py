"""Refunds on a phone (issue 10): the virtual-account mode (in 大字版), the special refund by a
receipt of the special form, the special refund by a refund assessment sheet with its
enabling box and bad input, the step-up, the timeline, the 退库 decision (the job, run by
``manage.py follow_refunds``) and the decision letter PDF with its public check.

The demo refund cases (core.demo_data): 覃丽华 (sheet HD45010020251201), 莫振华 (paid by
the special form, 2025-12), 农秀英 (her 2026 resident medical insurance paid by the virtual
account XN451002000000000001). Each logs in first (phase ``login``) and applies once the
SMS minute has passed (phase ``step_up``), as the payment journeys do."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from shebao.core.demo_data import DEMO_PEOPLE
from tests.browser.conftest import _run_manage
from tests.browser.flows import expect_elderly, kv, login_demo, step_up_by_sms

pytestmark = pytest.mark.browser

PEOPLE = {"覃丽华": False, "莫振华": False, "农秀英": True}  # 农秀英 (born 1958) reads in 大字版
VA = "XN451002000000000001"
PROMPT = "未查询到申请退费缴费人是税票信息，请确认是否为城乡居民由虚拟户征收场景，如果是，请勾选虚拟户模式并录入虚拟户识别号"
_phones: dict[str, object] = {}


def _demo(name: str):
    return next(p for p in DEMO_PEOPLE if p[0] == name)


def _phone(kept_phones, outbox, request, name: str):
    phone = _phones.get(name)
    if phone is not None:
        phone.start(request.node.name)
        return phone
    phone = kept_phones(request.node.name, elderly=PEOPLE[name])
    login_demo(phone, outbox, _demo(name))
    _phones[name] = phone
    return phone


def _card_number() -> str:
    from shebao.reference.banks import luhn_ok

    return next(f"621226001234567{d}" for d in range(10) if luhn_ok(f"621226001234567{d}"))


def _fill_account(page, name: str) -> None:
    page.get_by_label("开户银行").select_option(label="中国工商银行")
    page.get_by_label("银行账号").fill(_card_number())
    expect(page.get_by_label("账户名称")).to_have_value(name)


def _submit_with_step_up(phone, outbox, name: str, fill) -> None:
    """Fill, 提交退费申请; the first time the SMS step-up comes between, then fill again."""
    page = phone.page
    fill()
    page.get_by_role("button", name="提交退费申请").click()
    if page.get_by_role("heading", name="短信确认").count():
        step_up_by_sms(phone, outbox, _demo(name)[4], shot_prefix="refund-step-up")
        fill()
        page.get_by_role("button", name="提交退费申请").click()
    expect(page.get_by_role("heading", name="退费申请详情")).to_be_visible()


@pytest.mark.journey_phase("login")
@pytest.mark.parametrize("name", [pytest.param(n, id=i) for n, i in (("覃丽华", "qin"), ("莫振华", "mo"), ("农秀英", "nong"))])
def test_refund_payer_logs_in(kept_phones, outbox, request, name):
    phone = _phone(kept_phones, outbox, request, name)
    expect_elderly(phone, PEOPLE[name])
    assert not phone.findings, "\n".join(phone.findings)


@pytest.mark.journey_phase("step_up")
def test_resident_refunds_what_the_virtual_account_paid(kept_phones, outbox, request):
    phone = _phone(kept_phones, outbox, request, "农秀英")
    page = phone.page
    phone.goto("/refunds/normal")
    expect(page.get_by_role("alert").filter(has_text=PROMPT)).to_be_visible()
    expect(page.get_by_label("虚拟户识别号")).to_be_hidden()
    phone.shot("refund-va-prompt")
    page.get_by_text("是否查询虚拟户").click()
    expect(page.get_by_label("虚拟户识别号")).to_be_visible()
    page.get_by_label("或按名称查找").fill("东增社区")
    page.get_by_role("button", name="查询虚拟户缴费").click()
    page.get_by_role("link", name=re.compile("东增社区居民委员会")).click()
    expect(page.get_by_text("百色市右江区龙景街道东增社区居民委员会", exact=False).first).to_be_visible()
    items = page.locator("label.refund-item")
    expect(items).to_have_count(1)  # her line only, not 罗桂兰's
    expect(items.first).to_contain_text("城乡居民基本医疗保险 2026年度")
    expect(items.first).to_contain_text("400.00元")
    phone.shot("refund-va-lines")

    def fill():  # after the step-up the page comes back with the virtual account's lines
        page.locator("label.refund-item").first.click()
        _fill_account(page, "农秀英")

    _submit_with_step_up(phone, outbox, "农秀英", fill)
    expect(kv(page, "虚拟户")).to_contain_text(VA)
    expect(kv(page, "退费金额")).to_have_text("400.00元")
    phone.shot("refund-va-detail")
    assert not phone.findings, "\n".join(phone.findings)


@pytest.mark.journey_phase("step_up")
def test_special_fees_are_refunded_whole_by_receipt(kept_phones, outbox, request):
    phone = _phone(kept_phones, outbox, request, "莫振华")
    page = phone.page
    phone.goto("/refunds/normal")  # refused there, with the reason
    expect(page.locator(".refund-item_off").filter(has_text="2025年12月")).to_contain_text("特殊缴费退费申请")
    phone.shot("refund-special-refused-as-normal")
    phone.goto("/refunds/")
    page.get_by_role("link", name=re.compile("^特殊缴费退费申请")).click()
    expect(page.get_by_role("button", name="录入核定退费单")).to_be_disabled()

    def fill():
        item = page.locator("label.refund-item").filter(has_text="2025年12月")
        expect(item).to_contain_text("874.20元")
        item.click()
        _fill_account(page, "莫振华")

    _submit_with_step_up(phone, outbox, "莫振华", fill)
    expect(kv(page, "退费类型")).to_have_text("特殊缴费退费")
    expect(kv(page, "退费金额")).to_have_text("874.20元")
    phone.shot("refund-special-detail")
    assert not phone.findings, "\n".join(phone.findings)


@pytest.mark.journey_phase("step_up")
def test_refund_by_assessment_sheet_to_the_decision_letter(kept_phones, outbox, request, server, tmp_path):
    phone = _phone(kept_phones, outbox, request, "覃丽华")
    page = phone.page
    phone.goto("/refunds/special")
    button = page.get_by_role("button", name="录入核定退费单")
    expect(button).to_be_disabled()
    page.get_by_text("是否录入核定退费单").click()
    expect(button).to_be_enabled()
    phone.shot("refund-sheet-box")
    button.click()
    expect(page.get_by_role("heading", name="录入核定退费单")).to_be_visible()

    def fill(amount: str = "300.00"):
        page.get_by_label("核定退费单号").fill("HD45010020251201")
        page.get_by_label("社保经办机构").fill("南宁市社会保险事业局")
        page.get_by_label("险种").select_option("10210-FLEX")
        page.get_by_label("费款所属期").fill("2025-12")
        page.get_by_label("已缴金额（元）").fill("1000.00")
        page.get_by_label("核定退费金额（元）").fill(amount)
        page.get_by_label("退费原因").fill("缴费基数调整多缴退费")
        page.get_by_label("核定日期").fill("2026-01-15")
        page.get_by_label("经办人").fill("覃明")
        _fill_account(page, "覃丽华")

    fill("300.005")
    page.get_by_role("button", name="提交退费申请").click()
    if page.get_by_role("heading", name="短信确认").count():
        step_up_by_sms(phone, outbox, _demo("覃丽华")[4], shot_prefix="refund-step-up")
        fill("300.005")
        page.get_by_role("button", name="提交退费申请").click()
    expect(page.get_by_text("核定退费金额最多保留两位小数（精确到分）")).to_be_visible()
    phone.shot("refund-sheet-bad-amount")
    _submit_with_step_up(phone, outbox, "覃丽华", fill)
    expect(kv(page, "核定退费单号")).to_have_text("HD45010020251201")
    expect(kv(page, "退费金额")).to_have_text("300.00元")
    expect(kv(page, "当前状态")).to_have_text("已提交")
    phone.shot("refund-sheet-detail")
    detail_url = page.url

    # the treasury's 10:00 run, as the periodic job would do it
    expiry = page.locator(".timeline__step").filter(has_text="退库成功").locator(".timeline__time").inner_text()
    assert re.fullmatch(r"预计 \d{1,2}月\d{1,2}日 \d\d:\d\d 前", expiry), expiry
    _run_manage(server.env, "follow_refunds", "--as-of", _next_decision_time())
    page.goto(detail_url)
    expect(kv(page, "当前状态")).to_have_text("退库成功")
    expect(page.locator(".timeline__step").filter(has_text="退库成功")).to_have_class(re.compile(r"\btimeline__step_done\b"))
    phone.shot("refund-decided", manual="refund-timeline")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("下载退费决定书")).click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert re.fullmatch(r"退费决定书-TF\w+\.pdf", info.value.suggested_filename), info.value.suggested_filename
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", "-enc", "UTF-8", str(target), "-"], capture_output=True, text=True,
                                             check=True, timeout=30).stdout)
    for words in ("社会保险费退费决定书", "决定：同意退费", "300.00", "HD45010020251201"):
        assert words in text, words
    code = re.search(r"验证码：([A-Z0-9]{16})", text).group(1)
    _png(target, phone.shots_dir / "refund-decision-letter")
    page.goto(f"/refunds/verify/{code}")
    expect(page.get_by_text("验证通过")).to_be_visible()
    assert "覃丽华" not in page.content()
    phone.shot("refund-verify")
    assert not phone.findings, "\n".join(phone.findings)


def _next_decision_time() -> str:
    """A moment when every refund submitted now is due (the embedded core decides at the first
    10:00 Asia/Shanghai at least two hours after submission): two days on."""
    import datetime as dt

    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()


def _png(pdf: Path, stem: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)], check=True, timeout=60)


@pytest.mark.journey_phase("step_up")
def test_normal_refund_of_a_period_declared_twice_then_refused_as_in_refund(kept_phones, outbox, request):
    """覃丽华's 2025-11 was declared with base 5000 and again with +1000: one item, base 6000,
    refunded whole (1200.00); once applied for, the item is shown and refused with the reason."""
    phone = _phone(kept_phones, outbox, request, "覃丽华")
    page = phone.page
    phone.goto("/refunds/normal")
    item = page.locator("label.refund-item").filter(has_text="2025年11月")
    expect(item).to_contain_text("6000.00")
    expect(item).to_contain_text("1200.00元")
    phone.shot("refund-normal-items", manual="refund-items")

    def fill():
        page.locator("label.refund-item").filter(has_text="2025年11月").click()
        _fill_account(page, "覃丽华")

    _submit_with_step_up(phone, outbox, "覃丽华", fill)
    expect(kv(page, "退费类型")).to_have_text("正常缴费退费")
    expect(kv(page, "退费金额")).to_have_text("1200.00元")
    expect(kv(page, "当前状态")).to_have_text("已提交")
    phone.shot("refund-normal-detail")
    phone.goto("/refunds/normal")
    expect(page.locator(".refund-item_off").filter(has_text="2025年11月")).to_contain_text("已有退费申请正在办理")
    phone.shot("refund-normal-in-refund")
    assert not phone.findings, "\n".join(phone.findings)


@pytest.mark.journey_phase("step_up")
def test_a_person_on_the_no_refund_list_is_told_on_opening_each_refund_page(kept_phones, outbox, request):
    """李秀兰 is on 桂林's no-refund special-person list (demo data): every refund page says so at
    once, in 大字版 as she reads, and offers nothing to fill in."""
    from tests.browser.test_payment import _payer

    phone = _payer(kept_phones, outbox, request, "李秀兰")
    page = phone.page
    expect_elderly(phone, True)
    for path, shot in (("/refunds/normal", "no-refund-normal"), ("/refunds/special", "no-refund-special")):
        phone.goto(path)
        expect(page.get_by_role("alert")).to_contain_text("您属于本地不予退费特殊人员，不能申请退费")
        expect(page.get_by_label("银行账号")).to_have_count(0)
        phone.shot(shot)
    page.get_by_role("link", name="返回", exact=True).click()
    expect(page.get_by_role("heading", name="社保费退费", exact=True)).to_be_visible()
    assert not phone.findings, "\n".join(phone.findings)

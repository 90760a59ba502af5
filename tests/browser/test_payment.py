"""Paying on a phone in WeChat, as both person types: declare → quote → step-up SMS →
order → WeChat authorise (first time) → the WeChat Pay cashier (simulator) → back to
our return URL → the receipt page, its PDF and the public verification page. Success,
failure then retry, abandon then retry, and the amount assessed by social security.

The SMS minute (one code per number per minute): a payer needs two codes (login, then
the step-up before confirming a declaration). ``test_payer_logs_in`` runs first in the
browser suite and keeps the logged-in phones; the payments run once the minute has
passed (phase ``step_up``), 张伟's three payments on one session and one step-up (it
stays fresh for five minutes). 黄志强 needs one code only (paying an assessed amount
asks for no step-up) and runs with the tests of the middle. Run alone, each payment
test logs in itself and waits for the minute (see ``flows.login_demo``).

Order matters for the suite's time: two tests elsewhere log 李秀兰 and 张伟 in again
(conftest ``LATE_TESTS``), a minute after their step-up. So 李秀兰 logs in first and
pays first (her test is the short one), then 张伟: both step-ups come as early as they
can, and the late tests wait as little as they can.

Periods per test, so that none collides (a period is paid once per person and type):
张伟 2026-01..02 (test 1), 2026-03 (failure), 2026-04 (abandon); 李秀兰 2027 (both
resident items: a failure, an abandon, then paid); 黄志强 the assessed 2026-01..06, and asks for 2026-07 (refused)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from shebao.common.masking import mask_id_number
from shebao.core.demo_data import DEMO_PEOPLE, demo_id
from tests.browser.flows import (
    confirm_declaration,
    expect_elderly,
    fill_declaration,
    kv,
    login_demo,
    pay,
    quote,
    quote_item,
    receipt_line,
    toggle_elderly,
)

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
PENSION, MEDICAL = "企业职工基本养老保险", "职工基本医疗保险"
RES_PENSION, RES_MEDICAL = "城乡居民基本养老保险", "城乡居民基本医疗保险"
# 大字版 for the two older payers (李秀兰 born 1962, 黄志强 1966), standard for 张伟
PAYERS = {"李秀兰": True, "张伟": False}
_payers: dict[str, object] = {}  # name -> logged-in Phone kept across tests


def _demo(name: str):
    return next(p for p in DEMO_PEOPLE if p[0] == name)


def _payer(kept_phones, outbox, request, name: str):
    """The phone on which ``name`` logged in early (test_payer_logs_in); run alone, a
    new phone logs in here. Its screenshots go under this test's name."""
    phone = _payers.get(name)
    if phone is not None:
        phone.start(request.node.name)
        return phone
    phone = kept_phones(request.node.name, elderly=PAYERS[name])
    login_demo(phone, outbox, _demo(name))
    _payers[name] = phone
    return phone


def _datetime(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)


def _just_now(text: str) -> None:
    moment = _datetime(text)
    assert abs((dt.datetime.now(SHANGHAI) - moment).total_seconds()) < 300, text


def _expect_receipt_head(phone) -> str:
    """On the receipt page: 缴费成功; returns the order id from the URL."""
    page = phone.page
    match = re.fullmatch(r"/fees/orders/([\w-]+)/receipt", phone.path())
    assert match, page.url
    expect(page.get_by_role("heading", name="缴费成功")).to_be_visible()
    expect(page.get_by_text("灵活就业及城乡居民社保缴费回单")).to_be_visible()
    return match.group(1)


def _download_pdf(phone, tmp_path: Path) -> tuple[bytes, str]:
    """下载回单（PDF） through the link; returns the bytes and the text (pdftotext)."""
    with phone.page.expect_download() as info:
        phone.page.get_by_role("link", name="下载回单（PDF）").click()
    download = info.value
    assert re.fullmatch(r"缴费回单-\d+\.pdf", download.suggested_filename), download.suggested_filename
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF-"), data[:16]
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(target), "-"], capture_output=True, text=True,
                          check=True, timeout=30).stdout  # fmt: skip
    return data, text


@pytest.mark.journey_phase("login")
@pytest.mark.parametrize("name", [pytest.param("李秀兰", id="li-xiulan"), pytest.param("张伟", id="zhang-wei")])
def test_payer_logs_in(kept_phones, outbox, request, name):
    """First in the suite: the payers log in (one code each), the step-up comes later."""
    elderly = PAYERS[name]
    phone = kept_phones(request.node.name, elderly=elderly)
    login_demo(phone, outbox, _demo(name))
    expect_elderly(phone, elderly)
    phone.shot("me", manual="" if elderly else "info")
    assert not phone.findings, "\n".join(phone.findings)
    _payers[name] = phone


@pytest.mark.journey_phase("step_up")
def test_resident_pays_grade_and_medical(kept_phones, outbox, request, tmp_path):
    """李秀兰 (城乡居民, 桂林), in 大字版: resident pension grade 500 + resident medical, 2027.
    The cashier first says 支付失败, then she leaves it with 取消; the third try pays, once."""
    person = _demo("李秀兰")
    phone = _payer(kept_phones, outbox, request, "李秀兰")
    page = phone.page

    phone.goto("/fees/declare")
    expect_elderly(phone, True)
    expect(page.get_by_text("桂林市社会保险事业局", exact=False).first).to_be_visible()
    phone.shot("declare")
    fill_declaration(phone, types=[RES_PENSION, RES_MEDICAL], year=2027, grade="500.00")
    quote(phone)
    for item in (RES_PENSION, RES_MEDICAL):  # a yearly item: one line for the whole year
        expect(quote_item(page, item).locator("dl.kv dt").first).to_have_text("2027年1月至12月（全年）")
    expect(quote_item(page, RES_PENSION).locator("div:has(> dt:text-is('小计')) > dd")).to_have_text("500.00元")
    expect(quote_item(page, RES_MEDICAL).locator("div:has(> dt:text-is('小计')) > dd")).to_have_text("420.00元")
    expect(page.locator("p.total")).to_have_text("合计：920.00元")
    expect(page.get_by_label("缴费档次", exact=True)).to_have_value("500.00")
    phone.shot("declare-quote")

    order_path = confirm_declaration(phone, outbox, person[4])
    expect(kv(page, "合计")).to_have_text("920.00元")
    expect_elderly(phone, True)
    phone.shot("order")

    pay(phone, "支付失败")  # failure: back on the bill, told so, 重新支付 offered
    assert phone.path() == order_path, page.url
    expect(page.get_by_role("alert").filter(has_text="支付失败")).to_contain_text("您可以重新支付")
    expect(kv(page, "状态")).to_have_text("待缴费")
    expect(page.get_by_role("button", name="重新支付（微信支付）")).to_be_enabled()
    expect_elderly(phone, True)
    phone.shot("order-failed")

    pay(phone, "取消", shot_prefix="retry")  # abandon: nothing paid, the bill waits
    assert phone.path() == order_path, page.url
    expect(page.get_by_role("alert").filter(has_text="您尚未完成支付")).to_be_visible()
    expect(kv(page, "状态")).to_have_text("待缴费")
    phone.shot("order-abandoned")

    pay(phone, "确认支付", shot_prefix="third")
    order_id = _expect_receipt_head(phone)
    assert order_path == f"/fees/orders/{order_id}"
    expect_elderly(phone, True)
    phone.shot("receipt")
    expect(kv(page, "缴费人")).to_have_text("李秀兰")
    expect(kv(page, "证件号码")).to_have_text(mask_id_number(demo_id(person)))
    expect(kv(page, "社保经办机构")).to_have_text("桂林市社会保险事业局")
    for item, amount in ((RES_PENSION, "500.00元"), (RES_MEDICAL, "420.00元")):
        expect(receipt_line(page, item).locator("dt")).to_contain_text("2027-01 至 2027-12")
        expect(receipt_line(page, item).locator("dd")).to_have_text(amount)
    expect(kv(page, "合计")).to_have_text("920.00元")
    expect(kv(page, "缴费渠道")).to_have_text("微信支付")

    _, text = _download_pdf(phone, tmp_path)
    for needle in ("缴费人", "李秀兰", RES_PENSION, RES_MEDICAL, "920.00"):
        assert needle in text, f"{needle!r} not in the PDF text:\n{text}"
    page.get_by_role("link", name="缴费记录").click()  # three tries, one paid bill
    expect(_payments_row(page, order_id)).to_have_count(1)
    expect(_payments_row(page, order_id)).to_contain_text("已缴费")
    expect(page.locator("a.weui-cell").filter(has_text="920.00元")).to_have_count(1)
    assert not phone.findings, "\n".join(phone.findings)


@pytest.mark.journey_phase("step_up")
def test_flexible_worker_pays_and_gets_receipt(kept_phones, outbox, request, phone_factory, tmp_path):
    """张伟 (灵活就业, 南宁): pension + medical for 2026-01..02 at the lowest base."""
    person = _demo("张伟")
    phone = _payer(kept_phones, outbox, request, "张伟")
    page = phone.page

    phone.goto("/fees/")
    expect(page.get_by_role("heading", name="涉费业务")).to_be_visible()
    phone.shot("fees")
    page.get_by_role("link", name=re.compile("^申报及缴纳")).click()
    expect(page.get_by_text("南宁市社会保险事业局 · 国家税务总局南宁市青秀区税务局")).to_be_visible()
    phone.shot("declare")
    fill_declaration(phone, types=[PENSION, MEDICAL], year=2026, period_from="2026-01", period_to="2026-02", base="4371.00")
    quote(phone)
    # 4371.00 × 20% = 874.20 and × 8% = 349.68 a month, two months each
    for item, rate, monthly, subtotal in ((PENSION, "20%", "874.20元", "1748.40元"), (MEDICAL, "8%", "349.68元", "699.36元")):
        block = quote_item(page, item)
        expect(block.get_by_role("heading")).to_have_text(f"{item} · 2026年度")
        for month in ("2026年1月", "2026年2月"):
            row = block.locator("dl.kv > div").filter(has=page.locator("dt", has_text=month))
            expect(row.locator("dd")).to_have_text(monthly)
            expect(row.locator("dt")).to_have_text(f"{month}（基数4371.00元 × {rate}）")
        expect(block.locator("div:has(> dt:text-is('小计')) > dd")).to_have_text(subtotal)
    expect(page.locator("p.total")).to_have_text("合计：2447.76元")
    expect(page.get_by_label("缴费基数（元/月）", exact=True)).to_have_value("4371.00")  # what was typed stays
    phone.shot("declare-quote", manual="pay-quote")

    order_path = confirm_declaration(phone, outbox, person[4])
    expect(kv(page, "合计")).to_have_text("2447.76元")
    expect(kv(page, "状态")).to_have_text("待缴费")
    expect(page.locator("dl.kv > div").filter(has_text=PENSION).locator("dd")).to_have_text("1748.40元")
    expect(page.locator("dl.kv > div").filter(has_text=MEDICAL).locator("dd")).to_have_text("699.36元")
    expect(page.locator("dl.kv > div").filter(has_text=PENSION).locator("dt")).to_contain_text("2026年01月至2026年02月")
    phone.shot("order")

    pay(phone, "确认支付")
    order_id = _expect_receipt_head(phone)
    assert order_path == f"/fees/orders/{order_id}"
    phone.shot("receipt", manual="receipt")

    # every field of the receipt (REQUIREMENTS §2.2)
    masked = mask_id_number(demo_id(person))
    assert masked == "4501**********1239"
    expect(kv(page, "缴费人")).to_have_text("张伟")
    expect(kv(page, "证件号码")).to_have_text(masked)
    expect(kv(page, "社保经办机构")).to_have_text("南宁市社会保险事业局")
    expect(kv(page, "人员编号")).to_have_text(re.compile(r"^\d{10,20}$"))
    expect(kv(page, "服务机构")).to_have_text("国家税务总局南宁市青秀区税务局")
    for item, amount in ((PENSION, "1748.40元"), (MEDICAL, "699.36元")):
        expect(receipt_line(page, item).locator("dt")).to_contain_text("2026-01 至 2026-02")
        expect(receipt_line(page, item).locator("dd")).to_have_text(amount)
    expect(kv(page, "合计")).to_have_text("2447.76元")
    expect(kv(page, "缴费时间")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
    _just_now(kv(page, "缴费时间").inner_text())
    expect(kv(page, "缴费渠道")).to_have_text("微信支付")
    expect(kv(page, "银行流水号")).to_have_text(re.compile(r"^\d{16,32}$"))
    expect(kv(page, "电子缴款凭证号")).to_have_text(re.compile(r"^\d{12,32}$"))
    receipt_no = kv(page, "电子缴款凭证号").inner_text()
    expect(kv(page, "当前状态")).to_have_text("已缴费")
    expect(kv(page, "查询时间")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
    _just_now(kv(page, "查询时间").inner_text())
    # the tax receipt's progress: paid now, remitted (not yet in the treasury) expected
    paid = page.locator(".timeline__step").filter(has_text="已缴费")
    expect(paid).to_have_class(re.compile(r"\btimeline__step_done\b"))
    expect(paid.locator(".timeline__dot")).to_have_text("✓")
    expect(paid.locator(".timeline__time")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
    remitted = page.locator(".timeline__step").filter(has_text="已上解未入库")
    expect(remitted).not_to_have_class(re.compile(r"\btimeline__step_done\b"))
    expect(remitted.locator(".timeline__time")).to_have_text(re.compile(r"^预计 \d{1,2}月\d{1,2}日 \d\d:\d\d 前$"))
    assert demo_id(person) not in page.content()

    data, text = _download_pdf(phone, tmp_path)
    for needle in ("缴费人", "张伟", masked, "2447.76", receipt_no, PENSION, MEDICAL, "微信支付"):
        assert needle in text, f"{needle!r} not in the PDF text:\n{text}"
    assert demo_id(person) not in text and demo_id(person).encode() not in data
    code = re.search(r"验证码：([A-Za-z0-9_-]+)", text).group(1)
    assert f"/verify/{code}" in re.sub(r"\s+", "", text), text  # 验证地址, the QR's target

    # someone else scans the QR: a phone with nobody logged in
    scanner = phone_factory(f"{request.node.name}-verify")
    scanner.goto(f"/verify/{code}")
    expect(scanner.page.get_by_role("heading", name="回单真实有效")).to_be_visible()
    expect(kv(scanner.page, "电子缴款凭证号")).to_have_text(receipt_no)
    expect(kv(scanner.page, "缴费金额")).to_have_text("2447.76元")
    html = scanner.page.content()
    for private in ("张伟", masked, demo_id(person)):
        assert private not in html, private
    scanner.shot("verify")
    assert not scanner.findings, "\n".join(scanner.findings)

    # 张伟 asks for the pension of February back (his step-up of this payment is still fresh), in 大字版
    _refund_one_item(phone, PENSION, "2026年2月", "874.20元")
    assert not phone.findings, "\n".join(phone.findings)


def _card_number() -> str:
    from shebao.reference.banks import luhn_ok

    return next(f"621700001234567{d}" for d in range(10) if luhn_ok(f"621700001234567{d}"))


def _refund_one_item(phone, insurance_type: str, month: str, amount: str) -> None:
    """正常缴费退费申请 of one item: from 涉费业务 to the application's timeline."""
    page = phone.page
    toggle_elderly(phone, on=True)
    phone.goto("/fees/")
    page.get_by_role("link", name=re.compile("^社保费退费申请")).click()
    expect(page.get_by_role("heading", name="社保费退费")).to_be_visible()
    page.get_by_role("link", name=re.compile("^灵活就业及城乡居民正常缴费退费申请")).click()
    expect(page.get_by_role("heading", name="正常缴费退费申请")).to_be_visible()
    expect(page.get_by_text("退库成功后，款项一般在3至5个工作日内退回您的银行账户")).to_be_visible()
    phone.shot("refund-form")
    item = page.locator("label.refund-item").filter(has_text=f"{insurance_type} {month}")
    expect(item).to_contain_text(amount)
    item.click()
    expect(item.locator("input[type=radio]")).to_be_checked()
    page.get_by_label("开户银行").select_option(label="中国建设银行")
    page.get_by_label("银行账号").fill(_card_number())
    expect(page.get_by_label("账户名称")).to_have_value("张伟")
    phone.shot("refund-filled")
    page.get_by_role("button", name="提交退费申请").click()
    expect(page.get_by_role("heading", name="退费申请详情")).to_be_visible()
    expect(kv(page, "险种")).to_have_text(insurance_type)
    expect(kv(page, "费款所属期")).to_have_text(month)
    expect(kv(page, "退费金额")).to_have_text(amount)
    expect(kv(page, "退费账户")).to_have_text(re.compile(r"^中国建设银行 \*+\d{4}$"))
    expect(kv(page, "当前状态")).to_have_text("已提交")
    for done in ("受理", "已提交"):
        expect(page.locator(".timeline__step").filter(has_text=done)).to_have_class(re.compile(r"\btimeline__step_done\b"))
    decided = page.locator(".timeline__step").filter(has_text="退库成功")
    expect(decided.locator(".timeline__time")).to_have_text(re.compile(r"^预计 \d{1,2}月\d{1,2}日 \d\d:\d\d 前$"))
    assert _card_number() not in page.content()
    phone.shot("refund-detail")
    page.get_by_role("link", name="我的退费申请").click()
    expect(page.locator("a.weui-cell").filter(has_text=f"{insurance_type} {month}")).to_contain_text("已提交")
    phone.shot("refund-list")
    toggle_elderly(phone, on=False)


def _payments_row(page, order_id: str):
    return page.locator(f"a.weui-cell[href='/fees/orders/{order_id}/receipt']")


@pytest.mark.journey_phase("step_up")
def test_failure_then_retry_pays_once(kept_phones, outbox, request):
    """The cashier says 支付失败: our order page says so and offers 重新支付; paying
    again succeeds, and there is one paid bill and one receipt."""
    person = _demo("张伟")
    phone = _payer(kept_phones, outbox, request, "张伟")
    page = phone.page
    phone.goto("/fees/declare")
    fill_declaration(phone, types=[PENSION], year=2026, period_from="2026-03", period_to="2026-03", base="4371.00")
    quote(phone)
    expect(page.locator("p.total")).to_have_text("合计：874.20元")
    order_path = confirm_declaration(phone, outbox, person[4])
    expect(page.locator("dl.kv > div").filter(has_text=PENSION).locator("dt")).to_have_text(f"{PENSION}2026年03月")  # one month
    phone.shot("order")

    pay(phone, "支付失败")
    assert phone.path() == order_path, page.url
    expect(page.get_by_role("heading", name="确认缴费")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="支付失败")).to_contain_text("您可以重新支付")
    expect(kv(page, "状态")).to_have_text("待缴费")
    expect(kv(page, "最近一次支付")).to_contain_text("支付失败")
    expect(page.get_by_role("button", name="重新支付（微信支付）")).to_be_enabled()
    phone.shot("order-failed")

    pay(phone, "确认支付", shot_prefix="retry")
    order_id = _expect_receipt_head(phone)
    assert order_path == f"/fees/orders/{order_id}"
    expect(kv(page, "合计")).to_have_text("874.20元")
    expect(receipt_line(page, PENSION).locator("dt")).to_contain_text("2026-03 至 2026-03")
    phone.shot("receipt")

    page.get_by_role("link", name="缴费记录").click()
    expect(page.get_by_role("heading", name="缴费记录")).to_be_visible()
    expect(_payments_row(page, order_id)).to_have_count(1)
    expect(_payments_row(page, order_id)).to_contain_text("已缴费")
    expect(page.locator(f"a.weui-cell[href='{order_path}']")).to_have_count(0)  # no unpaid copy of it
    expect(page.locator("a.weui-cell").filter(has_text="874.20元")).to_have_count(1)
    phone.shot("payments")
    # the order page of a paid order: 缴费成功, the receipt, no way to pay again
    phone.goto(order_path)
    expect(page.get_by_role("heading", name="缴费成功")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("支付"))).to_have_count(0)
    expect(page.get_by_role("link", name="查看缴费回单")).to_be_visible()
    assert not phone.findings, "\n".join(phone.findings)


@pytest.mark.journey_phase("step_up")
def test_abandon_then_retry(kept_phones, outbox, request):
    """The cashier is left with 取消: our page says 您尚未完成支付, 重新支付 succeeds."""
    person = _demo("张伟")
    phone = _payer(kept_phones, outbox, request, "张伟")
    page = phone.page
    phone.goto("/fees/declare")
    fill_declaration(phone, types=[PENSION, MEDICAL], year=2026, period_from="2026-04", period_to="2026-04", base="4371.00")
    quote(phone)
    expect(page.locator("p.total")).to_have_text("合计：1223.88元")
    order_path = confirm_declaration(phone, outbox, person[4])

    pay(phone, "取消")
    assert phone.path() == order_path, page.url
    expect(page.get_by_role("alert").filter(has_text="您尚未完成支付")).to_be_visible()
    expect(kv(page, "状态")).to_have_text("待缴费")
    expect(page.get_by_role("button", name="重新支付（微信支付）")).to_be_enabled()
    phone.shot("order-abandoned")
    # it waits on 涉费业务 under 待缴费 meanwhile
    phone.goto("/fees/")
    expect(page.get_by_role("heading", name="待缴费")).to_be_visible()
    page.locator(f"a.weui-cell[href='{order_path}']").click()
    assert phone.path() == order_path

    pay(phone, "确认支付", shot_prefix="retry")
    order_id = _expect_receipt_head(phone)
    assert order_path == f"/fees/orders/{order_id}"
    expect(kv(page, "合计")).to_have_text("1223.88元")
    phone.shot("receipt")
    page.get_by_role("link", name="缴费记录").click()
    expect(_payments_row(page, order_id)).to_have_count(1)
    assert not phone.findings, "\n".join(phone.findings)


def test_assessed_amount_is_paid_and_self_declaring_it_is_refused(phone_factory, outbox, tmp_path):
    """黄志强 (梧州, 达到法定退休年龄人员), in 大字版: social security assessed his 2026
    pension (mixed mode): declaring it himself is refused with the rule's reason; the
    assessed amount is listed on 涉费业务 and paid from there."""
    person = _demo("黄志强")
    phone = phone_factory(elderly=True)
    page = phone.page
    login_demo(phone, outbox, person)
    expect_elderly(phone, True)

    phone.goto("/fees/")
    expect(page.get_by_role("heading", name="社保核定应缴（特殊缴费）")).to_be_visible()
    assessed = page.get_by_role("checkbox", name=re.compile(f"^{PENSION} 2026年度"))
    expect(assessed).to_be_checked()
    row = page.locator("label.weui-cell").filter(has=assessed)
    expect(row).to_contain_text("2026年01月至2026年06月")
    expect(row).to_contain_text("5245.20元")  # 4371.00 × 20% × 6
    phone.shot("fees-assessed")

    # asking to declare it himself: refused, in Chinese, with why and what to do
    page.get_by_role("link", name=re.compile("^申报及缴纳")).click()
    fill_declaration(phone, types=[PENSION], year=2026, period_from="2026-07", period_to="2026-07", base="4371.00")
    quote(phone)
    refusal = quote_item(page, PENSION).get_by_role("alert")
    expect(refusal).to_contain_text("达到法定退休年龄人员的2026年度企业职工基本养老保险由社保经办机构核定")
    expect(refusal).to_contain_text("不能自主申报，请按核定结果缴纳（特殊缴费）")
    assert re.search(r"[A-Za-z_]{4,}", refusal.inner_text()) is None, refusal.inner_text()
    expect(page.get_by_role("button", name="确认申报并去缴费")).to_have_count(0)
    expect(page.locator("p.total")).to_have_count(0)
    expect(page.get_by_label(PENSION, exact=True)).to_be_checked()
    phone.shot("declare-refused")

    page.get_by_role("link", name="查看社保核定应缴").click()  # where the refusal points
    assert phone.path() == "/fees/"
    # paying is a money operation; the SMS code of his login minutes ago counts as its confirmation
    page.get_by_role("button", name="缴纳核定应缴").click()
    expect(page.get_by_role("heading", name="确认缴费")).to_be_visible()
    line = page.locator("dl.kv > div").filter(has_text=PENSION)
    expect(line.locator("dt")).to_contain_text("社保核定")
    expect(line.locator("dd")).to_have_text("5245.20元")
    expect(kv(page, "合计")).to_have_text("5245.20元")
    phone.shot("order")
    pay(phone, "确认支付")
    _expect_receipt_head(phone)
    expect_elderly(phone, True)
    expect(kv(page, "缴费人")).to_have_text("黄志强")
    expect(kv(page, "社保经办机构")).to_have_text("梧州市社会保险事业局")
    expect(receipt_line(page, PENSION).locator("dt")).to_contain_text("2026-01 至 2026-06")
    expect(kv(page, "合计")).to_have_text("5245.20元")
    phone.shot("receipt")
    _, text = _download_pdf(phone, tmp_path)
    assert "5245.20" in text and "黄志强" in text
    # paid: no longer listed as assessed and due
    phone.goto("/fees/")
    expect(page.get_by_role("heading", name="社保核定应缴（特殊缴费）")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
    phone.shot("fees-after")
    assert not phone.findings, "\n".join(phone.findings)


@pytest.mark.journey_phase("step_up")
def test_declare_page_shows_paid_months_defaults_to_payable_and_refuses_paid_before_the_code(kept_phones, outbox, request):
    """Issue 8, after 张伟's payments above (pension 2026-01..04, medical 01..02 and 04):
    the declare page lists the paid and open months per item, starts at the first month
    both can pay, and a paid month is refused in the quote, named, with no SMS step;
    the 缴费基数 box is visible in standard mode; 用户中心 offers his own entries."""
    phone = _payer(kept_phones, outbox, request, "张伟")
    page = phone.page
    phone.goto("/fees/declare")
    expect_elderly(phone, False)
    months = page.get_by_role("region", name="2026年度缴费情况")
    expect(months).to_be_visible()
    pension = months.locator(".months__item[data-type='10210-FLEX']")
    expect(pension.locator(".months__paid")).to_have_text("已缴费 1月至4月")
    expect(pension.locator(".months__open")).to_contain_text("可缴纳 5月至")
    medical = months.locator(".months__item[data-type='10212-FLEX']")
    expect(medical.locator(".months__paid")).to_have_text("已缴费 1月至2月、4月")
    expect(page.get_by_label("所属期起", exact=True)).to_have_value("2026-05")  # the first month both can pay
    base = page.get_by_label("缴费基数（元/月）", exact=True)
    expect(base).to_have_attribute("placeholder", re.compile(r"^请输入或选择，如 \d+"))
    style = base.evaluate("e => { const s = getComputedStyle(e); return [s.borderTopStyle, s.borderTopWidth, s.borderTopColor]; }")
    assert style[0] == "solid" and float(style[1].removesuffix("px")) >= 1, style  # a box, not an empty row
    phone.shot("declare-months")

    fill_declaration(phone, types=[PENSION, MEDICAL], year=2026, period_from="2026-02", period_to="2026-03", base="4371.00")
    quote(phone)
    refusal = quote_item(page, PENSION).get_by_role("alert")
    expect(refusal).to_contain_text("2026年2月至3月已缴费，请勿重复缴纳")
    expect(quote_item(page, MEDICAL).get_by_role("alert")).to_contain_text("2026年2月已缴费")
    expect(page.get_by_role("button", name="确认申报并去缴费")).to_have_count(0)  # refused before any code
    expect(page.get_by_label("短信验证码", exact=True)).to_have_count(0)
    phone.shot("declare-paid-refused")

    toggle_elderly(phone, on=True)  # the same page in 大字版, for the eye
    expect(months).to_be_visible()
    phone.shot("declare-months-elderly")
    toggle_elderly(phone, on=False)

    phone.goto("/m/user")
    expect(page.get_by_text("您好，张伟")).to_be_visible()
    expect(page.get_by_role("link", name="用户实名注册")).to_have_count(0)
    expect(page.get_by_role("link", name="登录", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="信息查看")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^信息维护"))).to_have_count(2)
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    phone.shot("user-centre")
    assert not phone.findings, "\n".join(phone.findings)

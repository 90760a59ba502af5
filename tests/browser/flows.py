"""What a person does with the phone, step by step, through labels and button names
(the way a screen-reader user or an elderly person reads the page)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import expect

from shebao.common.idgen import make_resident_id
from shebao.common.masking import mask_id_number, mask_mobile

PASSWORD = "Journey@2026"
PERSON_TYPE_LABEL = {"resident": "城乡居民", "flexible": "灵活就业人员"}
SMS_MINUTE = 61.0  # the service (and the SMS simulator) send one code per number per minute

# Fresh numbers per run: the server's database is fresh, but keep them apart anyway.
_run = int.from_bytes(secrets.token_bytes(2), "big") % 9000 + os.getpid() % 1000
_mobiles = itertools.count(13900000000 + _run * 10000)
_seqs = itertools.count(secrets.randbelow(400) * 2 + 1, 2)


def new_mobile() -> str:
    return str(next(_mobiles))


def new_id_number(birth: dt.date = dt.date(1979, 5, 17)) -> str:
    return make_resident_id(division_code="450103", birth=birth, seq=next(_seqs) % 1000)


@dataclass
class Person:
    person_type: str
    name: str
    id_number: str
    mobile: str
    password: str = PASSWORD
    code_sent_at: float = 0.0  # time.monotonic() of the last code sent to ``mobile``

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    def wait_for_sms_minute(self) -> float:
        """Sleep (bounded: at most a minute) until another code may go to ``mobile``."""
        left = self.code_sent_at + SMS_MINUTE - time.monotonic()
        if left > 0:
            time.sleep(left)
        return max(left, 0.0)


def expect_elderly(phone, on: bool) -> None:
    body = phone.page.locator("body")
    if on:
        expect(body).to_have_class(re.compile(r"\belderly\b"))
        expect(body).to_have_attribute("data-weui-mode", "care")
        expect(phone.page.get_by_role("button", name="标准版")).to_have_attribute("aria-pressed", "true")
    else:
        expect(body).not_to_have_class(re.compile(r"\belderly\b"))
        expect(body).not_to_have_attribute("data-weui-mode", "care")
        expect(phone.page.get_by_role("button", name="大字版")).to_have_attribute("aria-pressed", "false")


def toggle_elderly(phone, *, on: bool) -> None:
    """Press the top-bar switch (大字版 / 标准版); it posts and comes back to the same page."""
    path = phone.path()
    phone.page.get_by_role("button", name="大字版" if on else "标准版").click()
    expect_elderly(phone, on)
    assert phone.path() == path, f"the switch should return to {path}, went to {phone.page.url}"


def expect_notice(phone, text: str) -> None:
    expect(phone.page.locator(".notice").filter(has_text=text).first).to_be_visible()


def fill_register_form(phone, person: Person, outbox, *, code: str | None = None) -> str:
    """Fill the whole form; press 获取验证码 (re-renders the form) unless ``code`` is
    given; returns the code used. Passwords and the agree box go in last."""
    page = phone.page
    page.get_by_label(PERSON_TYPE_LABEL[person.person_type], exact=True).check()
    page.get_by_label("姓名", exact=True).fill(person.name)
    page.get_by_label("证件类型", exact=True).select_option(label="居民身份证")
    page.get_by_label("证件号码", exact=True).fill(person.id_number)
    page.get_by_label("手机号码", exact=True).fill(person.mobile)
    if code is None:
        mark = outbox.mark(person.mobile)
        page.get_by_role("button", name="获取验证码").click()
        expect_notice(phone, f"验证码已发送至 {person.masked_mobile}")
        person.code_sent_at = time.monotonic()
        # the re-rendered form keeps what was typed
        expect(page.get_by_label(PERSON_TYPE_LABEL[person.person_type], exact=True)).to_be_checked()
        expect(page.get_by_label("姓名", exact=True)).to_have_value(person.name)
        expect(page.get_by_label("证件号码", exact=True)).to_have_value(person.id_number)
        expect(page.get_by_label("手机号码", exact=True)).to_have_value(person.mobile)
        phone.shot("register-code-sent")
        code = outbox.code(person.mobile, after=mark)
    page.get_by_label("短信验证码", exact=True).fill(code)
    page.get_by_label("设置密码", exact=True).fill(person.password)
    page.get_by_label("确认密码", exact=True).fill(person.password)
    page.get_by_label("我已阅读并同意《个人信息保护告知书》").check()
    return code


def submit_password(phone, identifier: str, password: str) -> None:
    page = phone.page
    page.get_by_label("证件号码或手机号码", exact=True).fill(identifier)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="下一步").click()


def login(phone, outbox, *, identifier: str, password: str, mobile: str, shot_prefix: str = "login") -> None:
    """From the login page: ID (or mobile) + password → 下一步 → SMS code → 登录 → 信息查看."""
    page = phone.page
    expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    mark = outbox.mark(mobile)
    submit_password(phone, identifier, password)
    expect(page.get_by_role("heading", name="短信验证")).to_be_visible()
    expect(page.get_by_text(f"验证码已发送至您预留的手机 {mask_mobile(mobile)}")).to_be_visible()
    phone.shot(f"{shot_prefix}-verify")
    code = outbox.code(mobile, after=mark)
    page.get_by_label("短信验证码", exact=True).fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="信息查看")).to_be_visible()
    assert phone.path() == "/accounts/me"


def kv(page, term: str):
    """The <dd> of a <dt> in the first key-value list that has it."""
    return page.locator(f"dl.kv > div:has(> dt:text-is('{term}')) > dd").first


# --------------------------------------------------------------------------- fees

WECHAT_PERSONA = "微信用户甲"
CASHIER_TITLE = "微信支付（模拟）"
PAY_BUTTON = re.compile(r"^(去支付|重新支付)（微信支付）$")


def login_demo(phone, outbox, person, *, shot_prefix: str = "login") -> None:
    """A demo person (a ``DEMO_PEOPLE`` row) logs in with ID and password, then the SMS
    code; waits first if the number had a code less than a minute ago."""
    from shebao.core.demo_data import DEMO_PASSWORD, demo_id

    outbox.wait_until_free(person[4])
    phone.goto("/accounts/login")
    login(phone, outbox, identifier=demo_id(person), password=DEMO_PASSWORD, mobile=person[4], shot_prefix=shot_prefix)


def fill_declaration(
    phone, *, types: list[str], year: int, period_from: str = "", period_to: str = "", base: str = "", grade: str = ""
) -> None:
    """On 申报及缴纳: tick the insurance types (by name), pick the year, the periods
    ("2026-01") and the base or the grade (yuan, "500"), as a person would."""
    page = phone.page
    expect(page.get_by_role("heading", name="申报及缴纳")).to_be_visible()
    for name in types:
        page.get_by_label(name, exact=True).check()
    page.get_by_label("缴费年度", exact=True).select_option(label=f"{year}年度")
    for label, period in (("所属期起", period_from), ("所属期止", period_to)):
        if period:
            y, m = period.split("-")
            page.get_by_label(label, exact=True).select_option(label=f"{y}年{int(m)}月")
    if base:
        page.get_by_label("缴费基数（元/月）", exact=True).fill(base)
    if grade:
        page.get_by_label("缴费档次", exact=True).select_option(label=f"{grade}元")


def quote(phone) -> None:
    phone.page.get_by_role("button", name="计算应缴金额").click()
    expect(phone.page.get_by_role("heading", name="应缴金额")).to_be_visible()


def quote_item(page, insurance_type: str):
    """One insurance type's block of the quote (its lines, 小计, or the refusal)."""
    return page.locator(".quote-item").filter(has=page.get_by_role("heading", name=re.compile(f"^{insurance_type} · ")))


def confirm_declaration(phone, outbox, mobile: str, *, shot_prefix: str = "declare") -> str:
    """After the quote: the step-up SMS code to the account's own mobile (unless one was
    confirmed in the last minutes), then 确认申报并去缴费; returns the order's path."""
    page = phone.page
    code_field = page.get_by_label("短信验证码", exact=True)
    if code_field.count():
        outbox.wait_until_free(mobile)
        mark = outbox.mark(mobile)
        page.get_by_role("button", name="获取验证码").click()
        expect_notice(phone, f"验证码已发送至 {mask_mobile(mobile)}")
        expect(page.get_by_role("heading", name="应缴金额")).to_be_visible()  # the quote stays
        code_field.fill(outbox.code(mobile, after=mark))
        phone.shot(f"{shot_prefix}-step-up")
    page.get_by_role("button", name="确认申报并去缴费").click()
    expect(page.get_by_role("heading", name="确认缴费")).to_be_visible()
    assert re.fullmatch(r"/fees/orders/[\w-]+", phone.path()), page.url
    return phone.path()


def step_up_by_sms(phone, outbox, mobile: str, *, shot_prefix: str = "step-up") -> None:
    """On the 短信确认 page a money operation sent us to: get the code, enter it, 确认
    (then the page we came from is shown again)."""
    page = phone.page
    expect(page.get_by_role("heading", name="短信确认")).to_be_visible()
    outbox.wait_until_free(mobile)
    mark = outbox.mark(mobile)
    page.get_by_role("button", name="获取验证码").click()
    expect_notice(phone, f"验证码已发送至 {mask_mobile(mobile)}")
    page.get_by_label("短信验证码", exact=True).fill(outbox.code(mobile, after=mark))
    phone.shot(shot_prefix)
    page.get_by_role("button", name="确认", exact=True).click()
    expect(page.get_by_role("heading", name="短信确认")).to_have_count(0)


def pay(phone, outcome: str = "确认支付", *, shot_prefix: str = "pay") -> None:
    """On our order page: 去支付 (or 重新支付), one tap; the first time in a session WeChat's
    authorise page comes first (persona 微信用户甲) and then the cashier; on the WeChat Pay
    cashier press ``outcome`` (确认支付 / 支付失败 / 取消), back to our return URL."""
    page = phone.page
    page.get_by_role("button", name=PAY_BUTTON).click()
    page.wait_for_url(re.compile(r"/sim/(wechat|wxpay)/"))
    if phone.path().startswith("/sim/wechat/"):
        phone.shot(f"{shot_prefix}-wechat-authorise")
        page.get_by_role("button", name=f"以“{WECHAT_PERSONA}”身份授权").click()
        # one tap: back from the identification the bill goes straight on to the cashier
        page.wait_for_url(re.compile(r"/sim/wxpay/cashier"))
    expect(page).to_have_title(CASHIER_TITLE)
    phone.shot(f"{shot_prefix}-cashier")
    page.get_by_role("button", name=outcome, exact=True).click()
    page.wait_for_url(lambda url: not urlsplit(url).path.startswith("/sim/"))


def receipt_line(page, insurance_type: str):
    """The 缴费明细 row of one insurance type on the receipt page."""
    return page.locator("dl.kv > div").filter(has=page.locator("dt", has_text=insurance_type))

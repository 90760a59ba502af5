"""The user-centre journey on a phone in WeChat, for both person types, in standard and
in 大字版 mode: register → log in → 信息查看 (masked) → 更换手机号码 → 退出.

The service sends one SMS code per number per minute, and the journey needs two for the
same number (registration, then login). So each journey is two tests sharing one phone:
``test_journey_register`` runs first in the browser suite, the other browser tests run
while the minute passes, and ``test_journey_continue`` finishes last (see conftest)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shebao.common.masking import mask_id_number, mask_mobile
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.browser.flows import (
    PERSON_TYPE_LABEL,
    Person,
    expect_elderly,
    expect_notice,
    fill_register_form,
    kv,
    login,
    new_id_number,
    new_mobile,
    submit_password,
    toggle_elderly,
)

pytestmark = pytest.mark.browser

JOURNEYS = [
    pytest.param("resident", False, id="resident-standard"),
    pytest.param("resident", True, id="resident-elderly"),
    pytest.param("flexible", False, id="flexible-standard"),
    pytest.param("flexible", True, id="flexible-elderly"),
]
NAMES = {"resident": "覃秀英", "flexible": "蒙建国"}
_journeys: dict[str, dict] = {}  # journey id -> {"phone", "person", "elderly"}


def _journey_id(person_type: str, elderly: bool) -> str:
    return f"{person_type}-{'elderly' if elderly else 'standard'}"


def _demo(name: str):
    return next(p for p in DEMO_PEOPLE if p[0] == name)


@pytest.mark.journey_phase("register")
@pytest.mark.parametrize(("person_type", "elderly"), JOURNEYS)
def test_journey_register(kept_phones, outbox, person_type, elderly):
    jid = _journey_id(person_type, elderly)
    phone = kept_phones(f"test_journey[{jid}]")
    page = phone.page
    person = Person(person_type=person_type, name=NAMES[person_type], id_number=new_id_number(), mobile=new_mobile())

    phone.goto("/")
    expect(page.get_by_role("heading", name="个人社保费掌上办")).to_be_visible()
    for tile in ("用户中心", "涉费业务", "查询业务", "公众服务"):
        expect(page.get_by_role("link", name=re.compile(tile))).to_be_visible()
    expect_elderly(phone, False)
    phone.shot("home", manual="" if elderly else "home")
    if elderly:
        toggle_elderly(phone, on=True)
        phone.shot("home-elderly", manual="elderly")

    page.get_by_role("link", name=re.compile("^登录")).click()
    expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    expect_elderly(phone, elderly)  # remembered on the next page
    phone.shot("login", manual="" if elderly else "login")

    # the register link is prominent: near the top, in the first screen, large and tappable
    cta = page.get_by_role("link", name="首次使用？点此进行用户实名注册")
    expect(cta).to_be_visible()
    box = cta.bounding_box()
    assert box is not None and box["y"] + box["height"] <= page.viewport_size["height"], "register link below the first screen"
    assert box["height"] >= (60 if elderly else 44) and box["width"] >= 0.8 * page.viewport_size["width"], box
    assert float(cta.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 18
    form_top = page.get_by_label("证件号码或手机号码", exact=True).bounding_box()["y"]
    assert box["y"] < form_top, "the register link should come before the login form"
    cta.click()

    expect(page.get_by_role("heading", name="用户实名注册")).to_be_visible()
    expect_elderly(phone, elderly)
    phone.shot("register", manual="" if elderly else "register")
    fill_register_form(phone, person, outbox)
    phone.shot("register-filled")
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.get_by_role("heading", name="注册成功")).to_be_visible()
    expect(page.get_by_text(f"您已完成{PERSON_TYPE_LABEL[person_type]}实名注册")).to_be_visible()
    expect_elderly(phone, elderly)
    phone.shot("register-done")
    assert not phone.findings, "\n".join(phone.findings)
    _journeys[jid] = {"phone": phone, "person": person, "elderly": elderly}


@pytest.mark.journey_phase("continue")
@pytest.mark.parametrize(("person_type", "elderly"), JOURNEYS)
def test_journey_continue(outbox, person_type, elderly):
    jid = _journey_id(person_type, elderly)
    if jid not in _journeys:
        pytest.fail(f"test_journey_register[{jid}] did not complete")
    phone, person = _journeys[jid]["phone"], _journeys[jid]["person"]
    page = phone.page

    person.wait_for_sms_minute()
    page.get_by_role("link", name="去登录").click()
    expect_elderly(phone, elderly)
    login(phone, outbox, identifier=person.id_number, password=person.password, mobile=person.mobile)
    expect_elderly(phone, elderly)
    phone.shot("me")

    # masked on the screen, and nowhere in the page in full
    expect(kv(page, "姓名")).to_have_text(person.name)
    expect(kv(page, "用户类型")).to_have_text(PERSON_TYPE_LABEL[person_type])
    expect(kv(page, "证件号码")).to_have_text(person.masked_id)
    assert re.fullmatch(r"\d{4}\*{10}\d{3}[\dX]", person.masked_id)
    expect(kv(page, "手机号码")).to_have_text(person.masked_mobile)
    assert re.fullmatch(r"1\d{2}\*{4}\d{4}", person.masked_mobile)
    html = page.content()
    assert person.id_number not in html and person.mobile not in html
    expect(page.get_by_text("未查询到您的参保登记信息")).to_be_visible()  # new registrant: no core record

    # 更换手机号码: new number, code sent to it, login password
    page.get_by_role("link", name="更换手机号码").click()
    expect(page.get_by_role("heading", name="更换手机号码")).to_be_visible()
    expect_elderly(phone, elderly)
    phone.shot("change-mobile")
    new = new_mobile()
    page.get_by_label("手机号码", exact=True).fill(new)
    mark = outbox.mark(new)
    page.get_by_role("button", name="获取验证码").click()
    expect_notice(phone, f"验证码已发送至 {mask_mobile(new)}")
    expect(page.get_by_label("手机号码", exact=True)).to_have_value(new)
    phone.shot("change-mobile-code-sent")
    page.get_by_label("短信验证码", exact=True).fill(outbox.code(new, after=mark))
    page.get_by_label("登录密码", exact=True).fill(person.password)
    page.get_by_role("button", name="确认更换").click()
    expect(page.get_by_role("heading", name="信息查看")).to_be_visible()
    expect_notice(phone, f"手机号码已更换为 {mask_mobile(new)}")
    expect(kv(page, "手机号码")).to_have_text(mask_mobile(new))
    assert new not in page.content()
    phone.shot("me-new-mobile")

    # 退出: the session is gone, 信息查看 asks for a login again
    page.locator("header").get_by_role("button", name="退出").click()
    expect_notice(phone, "您已安全退出")
    assert phone.path() == "/"
    expect_elderly(phone, elderly)  # 大字版 is a device setting, kept after logout
    phone.shot("logged-out")
    phone.goto("/accounts/me")
    assert phone.path() == "/accounts/login", page.url
    expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    expect(page.get_by_label("证件号码或手机号码", exact=True)).to_have_value("")
    phone.shot("me-after-logout")
    assert not phone.findings, "\n".join(phone.findings)


def test_demo_person_insured_information(phone_factory, outbox):
    """张伟 (灵活就业, Nanning): 参保信息 on 信息查看 and on the flexible-employment query."""
    person = _demo("张伟")
    phone = phone_factory()
    page = phone.page
    phone.goto("/accounts/login")
    phone.shot("login")
    login(phone, outbox, identifier=demo_id(person), password=DEMO_PASSWORD, mobile=person[4])
    phone.shot("me")
    expect(kv(page, "证件号码")).to_have_text(mask_id_number(demo_id(person)))
    for where in ("/accounts/me", "/query/insured/flexible"):
        if where != "/accounts/me":
            phone.goto(where)
            expect(page.get_by_role("heading", name="灵活就业参保信息查询")).to_be_visible()
            expect(page.get_by_text(f"张伟，居民身份证 {mask_id_number(demo_id(person))}")).to_be_visible()
            phone.shot("query-flexible")
        expect(kv(page, "社保经办机构")).to_have_text("南宁市社会保险事业局")
        expect(kv(page, "主管税务机关")).to_have_text("国家税务总局南宁市青秀区税务局")
        expect(kv(page, "人员类型")).to_contain_text("灵活就业")
        expect(page.get_by_role("heading", name="企业职工基本养老保险")).to_be_visible()
        pension = page.locator("h3:text-is('企业职工基本养老保险') + dl.kv")
        expect(pension.locator("div:has(> dt:text-is('费率')) > dd")).to_have_text("20%")
        assert demo_id(person) not in page.content()
    assert not phone.findings, "\n".join(phone.findings)


def test_person_without_core_record(phone_factory, outbox):
    """陈静 has an account but no registration at the core: a kind message, no error."""
    person = _demo("陈静")
    phone = phone_factory()
    page = phone.page
    phone.goto("/accounts/login")
    login(phone, outbox, identifier=demo_id(person), password=DEMO_PASSWORD, mobile=person[4])
    expect(page.get_by_text("未查询到您的参保登记信息")).to_be_visible()
    expect(page.get_by_text("12366").first).to_be_visible()
    phone.shot("me-no-record")
    response = phone.goto("/query/insured/flexible")
    assert response.status == 200
    expect(page.get_by_text("未查询到您的参保登记信息")).to_be_visible()
    phone.shot("query-no-record")
    assert not phone.findings, "\n".join(phone.findings)


def test_bad_id_number_is_refused_in_place(phone_factory, outbox):
    """A wrong check digit: the Chinese message sits next to 证件号码, everything else typed
    stays (the passwords too: issue 8, the error is not theirs), and no account exists afterwards."""
    phone = phone_factory()
    page = phone.page
    good = new_id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    person = Person(person_type="resident", name="农丽华", id_number=bad, mobile=new_mobile())
    phone.goto("/accounts/register")
    fill_register_form(phone, person, outbox, code="123456")
    phone.shot("register-filled")
    page.get_by_role("button", name="注册", exact=True).click()

    expect(page.get_by_role("heading", name="用户实名注册")).to_be_visible()
    id_input = page.get_by_label("证件号码", exact=True)
    error = page.locator("#id_id_number_error")
    expect(error).to_have_text(re.compile("校验位不正确"))
    expect(error).to_be_visible()
    expect(id_input).to_have_attribute("aria-invalid", "true")
    assert "id_id_number_error" in (id_input.get_attribute("aria-describedby") or "").split()
    # next to the field: right under the 证件号码 row, before the next section
    cell = page.locator(".weui-cell:has(#id_id_number)").bounding_box()
    err_box = error.bounding_box()
    assert 0 <= err_box["y"] - (cell["y"] + cell["height"]) < 24, (cell, err_box)
    assert page.locator(".field-error").count() == 1, page.locator(".field-error").all_inner_texts()
    phone.shot("register-bad-id")

    expect(page.get_by_label("城乡居民", exact=True)).to_be_checked()
    expect(page.get_by_label("姓名", exact=True)).to_have_value(person.name)
    expect(page.get_by_label("证件类型", exact=True)).to_have_value("201")
    expect(id_input).to_have_value(bad)
    expect(page.get_by_label("手机号码", exact=True)).to_have_value(person.mobile)
    expect(page.get_by_label("短信验证码", exact=True)).to_have_value("123456")
    expect(page.get_by_label("我已阅读并同意《个人信息保护告知书》")).to_be_checked()
    expect(page.get_by_label("设置密码", exact=True)).to_have_value(person.password)
    expect(page.get_by_label("确认密码", exact=True)).to_have_value(person.password)

    phone.goto("/accounts/login")
    submit_password(phone, bad, person.password)
    expect(page.get_by_role("alert").filter(has_text="证件号码（或手机号码）或密码不正确")).to_be_visible()
    assert phone.path() == "/accounts/login"
    phone.shot("login-refused")
    assert not phone.findings, "\n".join(phone.findings)

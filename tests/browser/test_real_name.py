"""实名核验 at registration, on a phone in WeChat: the carrier three-element check (the
identity simulator mounted at /sim/identity in the real server) lets in the person whose
phone it is, and refuses someone who types another person's name and ID with their own
phone — in place, in Chinese, with what was typed kept — without locking the owner out."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.flows import PERSON_TYPE_LABEL, Person, expect_notice, fill_register_form, new_id_number, new_mobile

pytestmark = pytest.mark.browser

MISMATCH = "姓名、证件号码与手机号码的实名登记信息不一致，请核对（须使用本人实名登记的手机号码）"


def _carrier_record(server, person: Person) -> None:
    """Put ``person`` on file as the real-name owner of their mobile (the simulator's carrier records)."""
    body = json.dumps({"mobile": person.mobile, "name": person.name, "id_number": person.id_number}).encode()
    request = urllib.request.Request(
        server.url + "/sim/identity/_subscribers", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def _register(phone, person: Person, outbox) -> None:
    phone.goto("/accounts/register")
    expect(phone.page.get_by_role("heading", name="用户实名注册")).to_be_visible()
    fill_register_form(phone, person, outbox)
    phone.shot("register-filled")
    phone.page.get_by_role("button", name="注册", exact=True).click()


def test_matching_person_registers(phone_factory, outbox, server):
    phone = phone_factory()
    person = Person(person_type="flexible", name="覃海燕", id_number=new_id_number(), mobile=new_mobile())
    _carrier_record(server, person)

    _register(phone, person, outbox)

    expect(phone.page.get_by_role("heading", name="注册成功")).to_be_visible()
    expect(phone.page.get_by_text(f"您已完成{PERSON_TYPE_LABEL['flexible']}实名注册")).to_be_visible()
    phone.shot("register-done")
    assert not phone.findings, "\n".join(phone.findings)


def test_mismatching_person_is_refused_and_the_owner_still_registers(phone_factory, outbox, server):
    owner = Person(person_type="resident", name="黄秀珍", id_number=new_id_number(), mobile=new_mobile())
    stranger = Person(person_type="resident", name="莫志刚", id_number=new_id_number(), mobile=new_mobile())
    _carrier_record(server, owner)
    _carrier_record(server, stranger)
    posing = Person(person_type="resident", name=owner.name, id_number=owner.id_number, mobile=stranger.mobile)

    phone = phone_factory()
    page = phone.page
    _register(phone, posing, outbox)

    expect(page.get_by_role("heading", name="用户实名注册")).to_be_visible()
    expect_notice(phone, MISMATCH)
    notice = page.locator(".notice_error")
    expect(notice).to_have_attribute("role", "alert")
    assert notice.bounding_box()["y"] < page.viewport_size["height"], "the refusal should be in the first screen"
    expect(page.get_by_text("注册成功")).to_have_count(0)
    expect(page.get_by_text("已注册")).to_have_count(0)  # nothing said about the owner's document
    expect(page.get_by_label("姓名", exact=True)).to_have_value(posing.name)
    expect(page.get_by_label("证件号码", exact=True)).to_have_value(posing.id_number)
    expect(page.get_by_label("手机号码", exact=True)).to_have_value(posing.mobile)
    phone.shot("register-mismatch")
    assert not phone.findings, "\n".join(phone.findings)

    # the owner, on their own phone, is not locked out
    own = phone_factory("owner")
    _register(own, owner, outbox)
    expect(own.page.get_by_role("heading", name="注册成功")).to_be_visible()
    own.shot("owner-register-done")
    assert not own.findings, "\n".join(own.findings)

"""The refund pages as the person uses them: own applications only; the step-up first; a
refusal shown on the form with nothing stored; the timeline with the next step's time."""

from __future__ import annotations

import pytest
from django.test import Client

from shebao.refunds.models import RefundApplication
from tests.fees.helpers import step_up
from tests.refunds.helpers import MONTHLY, PENSION, card_number, demo_account, pay_months

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(demo_people, clock):
    account = demo_account()
    pay_months(account, [3, 4], year=2026, now=clock.now)
    client = Client()
    client.force_login(account)
    return account, client


def _form(account, **changes):
    return {"item": f"{PENSION}:202603", "bank_code": "103", "account_number": card_number(), "holder_name": account.name,
            "idem": "page-1", **changes}


def test_the_page_lists_every_paid_item_and_the_arrival_note(person):
    account, client = person
    page = client.get("/refunds/normal").content.decode()
    assert "2026年3月" in page and "2026年4月" in page and f"{MONTHLY}元" in page
    assert "3至5个工作日" in page and f'value="{account.name}"' in page


def test_applying_asks_for_the_step_up_first_then_shows_the_timeline(person, sims):
    account, client = person
    first = client.post("/refunds/normal", _form(account))
    assert first.status_code == 302 and first["Location"].startswith("/accounts/step-up")
    assert not RefundApplication.objects.exists()
    step_up(client, sims, next_url="/refunds/normal")
    done = client.post("/refunds/normal", _form(account))
    application = RefundApplication.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/refunds/{application.public_id}"
    detail = client.get(done["Location"]).content.decode()
    for text in ("受理", "已提交", "退库成功", "预计", application.application_no, application.account_masked, "已提交</strong>"):
        assert text in detail
    assert card_number() not in detail  # the account number shown masked only
    listing = client.get("/refunds/").content.decode()
    assert application.public_id in listing and "已提交" in listing
    again = client.get("/refunds/normal").content.decode()
    assert "已有退费申请正在办理" in again  # the item is shown, not selectable


def test_a_refusal_is_shown_on_the_form_and_nothing_is_stored(person, sims):
    account, client = person
    step_up(client, sims, next_url="/refunds/normal")
    response = client.post("/refunds/normal", _form(account, account_number="6217000000000001"))
    assert response.status_code == 400 and "银行卡号校验未通过" in response.content.decode()
    response = client.post("/refunds/normal", _form(account, holder_name="王五"))
    assert response.status_code == 400 and "账户名称须与缴费人姓名一致" in response.content.decode()
    response = client.post("/refunds/normal", _form(account, item="10210-FLEX:209901"))
    assert response.status_code == 400 and "请选择" in response.content.decode()
    assert not RefundApplication.objects.exists()


def test_another_persons_application_is_not_found(person, sims, demo_people):
    account, client = person
    step_up(client, sims, next_url="/refunds/normal")
    client.post("/refunds/normal", _form(account))
    application = RefundApplication.objects.get()
    other = Client()
    other.force_login(demo_account(1))
    for url in (f"/refunds/{application.public_id}", f"/refunds/{application.public_id}/decision.pdf"):  # every URL of an application
        assert other.get(url).status_code == 404, url
    assert application.public_id not in other.get("/refunds/").content.decode()
    assert Client().get(f"/refunds/{application.public_id}").status_code == 302  # not signed in: to the login


@pytest.mark.parametrize("path", ["/refunds/normal", "/refunds/special", "/refunds/special/sheet"])
def test_a_person_on_the_no_refund_list_is_told_on_opening_the_page(person, clock, path):
    from shebao.common.crypto import random_token
    from shebao.core.models import NoRefundPerson, Payer
    from shebao.fees.selectors import payer_profile_for

    account, client = person
    payer = Payer.objects.get(registration_no=payer_profile_for(account).registration_no)
    NoRefundPerson(public_id=random_token(12), city=payer.city, id_type=payer.id_type, id_index=payer.id_index,
                   id_number=payer.id_number, name=payer.name, reason="测试", added_at=clock.now).save()
    page = client.get(path)
    text = page.content.decode()
    assert page.status_code == 200 and "您属于本地不予退费特殊人员，不能申请退费" in text
    assert 'name="account_number"' not in text and "提交退费申请" not in text  # nothing to fill in
    posted = client.post(path, _form(account))
    assert posted.status_code == 200 and "不予退费特殊人员" in posted.content.decode()
    assert not RefundApplication.objects.exists()

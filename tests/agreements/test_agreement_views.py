"""The agreement pages: sign both kinds (electronic and paper paths, for oneself and for
another person), verify after the bank counter, cancel, the list; refusals shown with
nothing stored; another person's agreement not found."""

from __future__ import annotations

import pytest
from django.test import Client

from shebao.agreements.models import ThreePartyAgreement, TwoPartyAgreement
from tests.agreements.helpers import LI, WANG, ZHANG, own_card, wang
from tests.fees.helpers import step_up
from tests.refunds.helpers import account_named

pytestmark = pytest.mark.django_db


def _client(name: str = ZHANG, sims=None, next_url: str = "/agreements/") -> Client:
    client = Client()
    client.force_login(account_named(name))
    if sims is not None:
        step_up(client, sims, next_url=next_url)
    return client


def _card_form(name: str = ZHANG, **extra) -> dict:
    card = own_card(name)
    return {"bank_code": card.bank_code, "account_number": card.account_number, "account_name": card.account_name, "sign": "on",
            **extra}


def test_the_fee_module_links_the_agreement_pages(demo_people):
    page = _client().get("/m/fees").content.decode()

    assert 'href="/agreements/"' in page


def test_the_list_starts_empty_with_both_ways_to_sign(demo_people):
    page = _client().get("/agreements/").content.decode()

    assert "暂无扣款协议" in page
    assert 'href="/agreements/three-party/new"' in page and 'href="/agreements/two-party/new"' in page


def test_signing_without_the_step_up_goes_to_it_first_and_stores_nothing(demo_people, clock):
    response = _client().post("/agreements/three-party/new", _card_form(method="electronic"))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up")
    assert ThreePartyAgreement.objects.count() == 0


def test_a_three_party_agreement_signed_and_verified_electronically(demo_people, clock, sims):
    client = _client(sims=sims, next_url="/agreements/three-party/new")
    form = client.get("/agreements/three-party/new").content.decode()

    signed = client.post("/agreements/three-party/new", _card_form(method="electronic"))
    row = ThreePartyAgreement.objects.get()
    verified = client.post(signed["Location"], {"action": "verify"})
    page = client.get(signed["Location"]).content.decode()

    assert f'value="{ZHANG}"' in form
    assert (signed.status_code, signed["Location"]) == (302, f"/agreements/three-party/{row.public_id}")
    assert verified.status_code == 302
    assert "协议验证通过，已生效" in page and "<strong>已生效</strong>" in page and row.agreement_no in page
    assert row.account_number not in page
    listed = client.get("/agreements/").content.decode()
    assert f"三方协议 {row.agreement_no}" in listed and "已生效" in listed


def test_a_paper_agreement_is_verified_online_after_the_bank_counter(demo_people, clock, sims):
    client = _client(sims=sims, next_url="/agreements/three-party/new")
    signed = client.post("/agreements/three-party/new", _card_form(method="paper"))
    row = ThreePartyAgreement.objects.get()

    waiting = client.get(signed["Location"]).content.decode()
    client.post(signed["Location"], {"action": "verify"})
    too_early = client.get(signed["Location"]).content.decode()
    sims.bank_counter(tax_org_code=row.tax_org_code, protocol_no=row.agreement_no, payer_code=row.registration_no, payer_name=ZHANG,
                      bank_code="102611000017", account_no=row.account_number, account_name=ZHANG)
    client.post(signed["Location"], {"action": "verify"})
    done = client.get(signed["Location"]).content.decode()

    assert "<strong>待银行柜面签约</strong>" in waiting and "柜面办理签约" in waiting
    assert "银行尚未录入该纸质协议" in too_early
    assert "<strong>已生效</strong>" in done


def test_a_refused_three_party_agreement_says_why_and_stores_nothing(demo_people, clock, sims):
    client = _client(sims=sims, next_url="/agreements/three-party/new")

    response = client.post("/agreements/three-party/new", _card_form(method="electronic", account_name=LI))

    assert response.status_code == 400
    assert "三方协议须使用缴费人本人的银行账户" in response.content.decode()
    assert ThreePartyAgreement.objects.count() == 0


def test_a_two_party_agreement_for_another_person_then_a_second_one_is_refused(demo_people, clock, sims):
    client = _client(sims=sims, next_url="/agreements/two-party/new")
    person = wang()
    other = {"whom": "other", "other_id_type": person.id_type, "other_id_number": person.id_number, "other_name": person.name}

    signed = client.post("/agreements/two-party/new", _card_form(**other))
    page = client.get(signed["Location"]).content.decode()
    again = client.post("/agreements/two-party/new", _card_form(**other))

    assert signed.status_code == 302
    assert f"{WANG[0]}（为他人签约）" in page and "<strong>已生效（可扣款）</strong>" in page
    assert again.status_code == 400 and "该缴费人已有生效或审核中的两两协议" in again.content.decode()
    assert TwoPartyAgreement.objects.count() == 1


def test_for_another_person_the_persons_fields_are_needed(demo_people, clock, sims):
    client = _client(sims=sims, next_url="/agreements/two-party/new")

    response = client.post("/agreements/two-party/new", _card_form(whom="other"))

    page = response.content.decode()
    assert response.status_code == 400
    assert "请选择缴费人的证件类型" in page and "请输入缴费人的证件号码" in page and "请输入缴费人的姓名" in page
    assert TwoPartyAgreement.objects.count() == 0


def test_cancelling_a_two_party_agreement(demo_people, clock, sims):
    client = _client(sims=sims, next_url="/agreements/two-party/new")
    signed = client.post("/agreements/two-party/new", _card_form(whom="self"))

    client.post(signed["Location"], {"action": "cancel"})

    assert TwoPartyAgreement.objects.get().state == "cancelled"
    assert "<strong>已解除</strong>" in client.get(signed["Location"]).content.decode()


def test_another_persons_agreement_is_not_found(demo_people, clock, sims):
    mine = _client(sims=sims, next_url="/agreements/two-party/new")
    signed = mine.post("/agreements/two-party/new", _card_form(whom="self"))

    theirs = _client(LI)

    assert theirs.get(signed["Location"]).status_code == 404
    assert theirs.post(signed["Location"], {"action": "cancel"}).status_code == 404
    assert TwoPartyAgreement.objects.get().state == "active"

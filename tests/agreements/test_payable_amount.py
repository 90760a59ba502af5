"""城乡居民应缴费额确定 (REQUIREMENTS §2.5): a resident chooses the grade the next batch
deduction takes; the yearly cost shown; each choice archived and audited; bad input and
other person types refused with a Chinese message and nothing stored."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from shebao.agreements.models import PayableAmountChoice
from shebao.archive.models import ArchiveRecord
from shebao.audit.models import AuditEvent
from tests.fees.helpers import step_up
from tests.refunds.helpers import account_named

pytestmark = pytest.mark.django_db
URL = "/agreements/payable-amount"


def _client(name: str, sims=None) -> Client:
    client = Client()
    client.force_login(account_named(name))
    if sims is not None:
        step_up(client, sims, next_url=URL)
    return client


def _grades(page: str) -> list[str]:
    return re.findall(r'name="grade" value="([\d.]+)"', page)


def test_the_resident_sees_the_grades_with_their_yearly_cost(demo_people, clock):
    page = _client("李秀兰").get(URL).content.decode()
    assert "城乡居民基本养老保险" in page and "元/年" in page and len(_grades(page)) >= 2


def test_choosing_a_grade_is_kept_archived_and_audited_and_can_change(demo_people, clock, sims):
    client = _client("李秀兰", sims)
    page = client.get(URL).content.decode()
    item = next(v for v in re.findall(r'name="item" value="([^"]+)"', page) if v.startswith("10210-RES"))
    low, high = _grades(page)[0], _grades(page)[-1]
    first = client.post(URL, {"item": item, "grade": high})
    assert first.status_code == 302
    done = client.get(URL).content.decode()
    assert "下次批量扣款按此金额扣缴" in done and f"当前：每年{high}元" in done
    client.post(URL, {"item": item, "grade": high})  # the same again: nothing new
    client.post(URL, {"item": item, "grade": low})
    assert list(PayableAmountChoice.objects.order_by("pk").values_list("amount", flat=True)) == [
        Decimal(high), Decimal(low)]
    assert ArchiveRecord.objects.filter(business_type="amount_setting").count() == 2
    assert AuditEvent.objects.filter(action="payable_amount.set").count() == 2


@pytest.mark.parametrize("grade", ["123.45", "abc", "", "-100"])
def test_a_grade_not_offered_is_refused_and_nothing_stored(demo_people, clock, sims, grade):
    client = _client("李秀兰", sims)
    page = client.get(URL).content.decode()
    item = re.findall(r'name="item" value="([^"]+)"', page)[0]
    response = client.post(URL, {"item": item, "grade": grade})
    assert response.status_code == 400 and ("请在以下缴费档次中选择" in response.content.decode() or "请选择" in response.content.decode())
    assert not PayableAmountChoice.objects.exists()


def test_an_unknown_item_and_a_flexible_worker_are_refused(demo_people, clock, sims):
    client = _client("李秀兰", sims)
    assert client.post(URL, {"item": "10210-FLEX:2026", "grade": "300"}).status_code == 400
    flexible = _client("张伟").get(URL).content.decode()
    assert "本业务适用于城乡居民" in flexible
    assert not PayableAmountChoice.objects.exists()


def test_without_the_step_up_the_person_is_sent_to_it_first(demo_people, clock):
    client = _client("李秀兰")
    page = client.get(URL).content.decode()
    item = re.findall(r'name="item" value="([^"]+)"', page)[0]
    response = client.post(URL, {"item": item, "grade": _grades(page)[0]})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up")
    assert not PayableAmountChoice.objects.exists()

"""A person reaches only their own data, whatever ids are put in URLs or forms."""

from __future__ import annotations

import pytest
from django.test import Client

from shebao.archive.models import ArchiveRecord
from shebao.archive.services import seal_pending
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db
ZHANG, LI = DEMO_PEOPLE[0], DEMO_PEOPLE[1]


@pytest.fixture
def two_people(sims, demo_people):
    zhang, li = Client(), Client()
    login(zhang, sims, demo_id(ZHANG), DEMO_PASSWORD)
    zhang.post("/accounts/me/address", {"address": "南宁市青秀区民族大道100号"})
    login(li, sims, demo_id(LI), DEMO_PASSWORD)
    li.post("/accounts/me/address", {"address": "桂林市七星区漓江路88号"})
    return zhang, li


def test_own_record_visible_other_persons_record_not_found(two_people):
    zhang, li = two_people
    zhang_page = zhang.get("/accounts/records").content.decode()
    zhang_records = [r for r in ArchiveRecord.objects.all() if r.public_id in zhang_page]
    li_records = [r for r in ArchiveRecord.objects.all() if r.public_id in li.get("/accounts/records").content.decode()]
    assert len(zhang_records) == 1 and len(li_records) == 1
    waiting = zhang.get(f"/accounts/records/{zhang_records[0].public_id}")
    assert waiting.status_code == 200 and "电子签名处理中" in waiting.content.decode()
    seal_pending("archive")
    own = zhang.get(f"/accounts/records/{zhang_records[0].public_id}")
    assert own.status_code == 200 and "数据完整，签名有效" in own.content.decode()
    assert zhang.get(f"/accounts/records/{li_records[0].public_id}").status_code == 404
    assert li.get(f"/accounts/records/{zhang_records[0].public_id}").status_code == 404


def test_record_ids_are_opaque(two_people):
    ids = list(ArchiveRecord.objects.values_list("public_id", flat=True))
    assert all(len(i) >= 20 and not i.isdigit() for i in ids)
    zhang, _ = two_people
    assert zhang.get("/accounts/records/1").status_code == 404


def test_query_parameters_cannot_select_another_person(two_people):
    zhang, _ = two_people
    li_id = demo_id(LI)
    page = zhang.get(f"/query/insured/resident?id_number={li_id}&name=李秀兰&id_type=201").content.decode()
    assert "李秀兰" not in page
    assert "暂未查询到此类险种的参保信息" in page  # 张伟 is a flexible worker: no resident items
    me = zhang.get(f"/accounts/me?public_id=x&id_number={li_id}").content.decode()
    assert "张伟" in me and "李秀兰" not in me and "桂林" not in me


def test_pending_login_cannot_be_switched_to_another_account(sims, demo_people):
    client = Client()
    client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD})
    client.post("/accounts/login/verify", {"action": "verify", "sms_code": "000000", "account": "anything"})
    response = client.post("/accounts/login/verify", {"action": "verify", "sms_code": sims.last_code(ZHANG[4])})
    assert response.status_code == 302
    assert "张伟" in client.get("/accounts/me").content.decode()


def test_anonymous_cannot_reach_personal_pages(demo_people):
    client = Client()
    for url in ("/accounts/me", "/accounts/me/mobile", "/accounts/me/address", "/accounts/records", "/query/insured/flexible", "/accounts/step-up"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login"), url


def test_citizen_cannot_open_back_office(two_people):
    zhang, _ = two_people
    response = zhang.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

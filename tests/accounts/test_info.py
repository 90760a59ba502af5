"""信息查看与维护: insured data from the core; mobile change verified by SMS; address."""

from __future__ import annotations

import pytest

from shebao.accounts.models import Account
from shebao.archive.models import ArchiveRecord
from shebao.audit.models import AuditEvent
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db
ZHANG, LI, CHEN = DEMO_PEOPLE[0], DEMO_PEOPLE[1], DEMO_PEOPLE[4]


def test_info_page_shows_insured_data(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    page = client.get("/accounts/me").content.decode()
    for text in ("南宁市社会保险事业局", "国家税务总局南宁市青秀区税务局", "灵活就业人员", "企业职工基本养老保险", "20%", "职工基本医疗保险", "8%", "特殊人员类别"):
        assert text in page, text


def test_query_without_core_record_says_so_kindly(client, sims, demo_people):
    login(client, sims, demo_id(CHEN), DEMO_PASSWORD)
    page = client.get("/query/insured/flexible").content.decode()
    assert "未查询到您的参保登记信息" in page
    assert "12366" in page


def test_resident_query_lists_resident_items_only(client, sims, demo_people):
    login(client, sims, demo_id(LI), DEMO_PASSWORD)
    page = client.get("/query/insured/resident").content.decode()
    assert "城乡居民基本养老保险" in page and "城乡居民基本医疗保险" in page
    assert "征收品目" in page
    flexible = client.get("/query/insured/flexible").content.decode()
    assert "暂未查询到此类险种的参保信息" in flexible


def test_query_requires_login(client, demo_people):
    response = client.get("/query/insured/flexible")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login")


def _send_change_code(client, mobile):
    return client.post("/accounts/me/mobile", {"action": "send_code", "mobile": mobile})


def test_change_mobile_with_code_sent_to_new_number(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    new = "13700001111"
    assert _send_change_code(client, new).status_code == 200
    code = sims.last_code(new)
    response = client.post("/accounts/me/mobile", {"action": "save", "mobile": new, "sms_code": code, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    account = next(a for a in Account.objects.all() if a.name == "张伟")
    assert account.mobile == new
    assert ArchiveRecord.objects.filter(business_type="info_update", subject_ref=account.public_id).count() == 1
    event = AuditEvent.objects.get(action="account.change_mobile", outcome="success")
    assert event.changes == {"mobile": {"old": "138****0001", "new": "137****1111"}}
    assert "137****1111" in client.get("/accounts/me").content.decode()


@pytest.mark.parametrize(
    ("password", "use_code", "message"),
    [("Wrong@2026", True, "登录密码不正确"), (DEMO_PASSWORD, False, "验证码不正确")])
def test_change_mobile_refused_changes_nothing(client, sims, demo_people, password, use_code, message):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    new = "13700002222"
    _send_change_code(client, new)
    real = sims.last_code(new)
    code = real if use_code else ("000000" if real != "000000" else "111111")
    response = client.post("/accounts/me/mobile", {"action": "save", "mobile": new, "sms_code": code, "password": password})
    assert response.status_code == 400
    assert message in response.content.decode()
    account = next(a for a in Account.objects.all() if a.name == "张伟")
    assert account.mobile == ZHANG[4]
    assert ArchiveRecord.objects.filter(business_type="info_update").count() == 0


def test_code_sent_to_old_number_does_not_change_mobile(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    login_code_to_old = sims.last_code(ZHANG[4])
    response = client.post("/accounts/me/mobile", {"action": "save", "mobile": "13700003333", "sms_code": login_code_to_old, "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert next(a for a in Account.objects.all() if a.name == "张伟").mobile == ZHANG[4]


def test_update_address_archived_and_masked_in_audit(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    response = client.post("/accounts/me/address", {"address": "南宁市青秀区民族大道100号"})
    assert response.status_code == 302
    account = next(a for a in Account.objects.all() if a.name == "张伟")
    assert account.address == "南宁市青秀区民族大道100号"
    event = AuditEvent.objects.get(action="account.change_address")
    assert "民族大道100号" not in str(event.changes)
    assert ArchiveRecord.objects.filter(business_type="info_update").count() == 1


def test_bad_address_refused(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    response = client.post("/accounts/me/address", {"address": "<b>x"})
    assert response.status_code == 400
    assert next(a for a in Account.objects.all() if a.name == "张伟").address == ""

"""Mobile change (issue 8): the password re-check is throttled with the login counts; after
the change the account's other sessions end, the person is told and the old number notified."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from shebao.accounts.models import Account, SmsNotice
from shebao.audit.models import AuditEvent
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id

pytestmark = pytest.mark.django_db
ZHANG, LI = DEMO_PEOPLE[0], DEMO_PEOPLE[1]
NEW = "13700004444"


def _account(person) -> Account:
    return next(a for a in Account.objects.all() if a.name == person[0])


def _logged_in(person) -> Client:
    client = Client()
    client.force_login(_account(person))
    return client


def _change(client, sims, password, *, send=True):
    if send:
        assert client.post("/accounts/me/mobile", {"action": "send_code", "mobile": NEW}).status_code == 200
    return client.post("/accounts/me/mobile", {"action": "save", "mobile": NEW, "sms_code": sims.last_code(NEW), "password": password})


def test_password_recheck_is_throttled_with_the_login_count(sims, demo_people):
    client = _logged_in(ZHANG)
    client.post("/accounts/me/mobile", {"action": "send_code", "mobile": NEW})
    for _ in range(4):
        response = _change(client, sims, "Wrong@2026", send=False)
        assert "登录密码不正确" in response.content.decode()
    response = _change(client, sims, "Wrong@2026", send=False)
    assert response.status_code == 400 and "登录失败次数过多，请15分钟后再试" in response.content.decode()
    # now even the right password is refused, here and at the login page
    response = _change(client, sims, DEMO_PASSWORD, send=False)
    assert response.status_code == 400 and "登录失败次数过多" in response.content.decode()
    assert _account(ZHANG).mobile == ZHANG[4]
    login = Client().post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD})
    assert login.status_code == 400 and "登录失败次数过多" in login.content.decode()


def test_change_ends_other_sessions_keeps_this_one_and_notifies_the_old_number(sims, demo_people):
    here, elsewhere, other_person = _logged_in(ZHANG), _logged_in(ZHANG), _logged_in(LI)
    half_way = Client()  # a stranger who got past the password step of ZHANG's login
    half_way.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD})
    assert half_way.get("/accounts/login/verify").status_code == 200

    response = _change(here, sims, DEMO_PASSWORD)
    assert response.status_code == 302
    page = here.get("/accounts/me").content.decode()
    assert "手机号码已更换为 137****4444" in page and "其他设备上的登录已全部退出" in page
    assert elsewhere.get("/accounts/me").status_code == 302  # logged out
    assert half_way.get("/accounts/login/verify").status_code == 302  # its pending login is gone
    assert other_person.get("/accounts/me").status_code == 200  # another account is untouched
    assert here.get("/accounts/me").status_code == 200

    notice = [m for m in sims.messages(ZHANG[4]) if "更换为" in m["text"]]
    assert len(notice) == 1
    assert "137****4444" in notice[0]["text"] and "12366" in notice[0]["text"] and NEW not in notice[0]["text"]
    assert AuditEvent.objects.get(action="account.sessions.end_others").changes == {"other_sessions": {"old": 2, "new": 0}}
    assert AuditEvent.objects.get(action="account.change_mobile.notice").outcome == "success"


def test_a_failed_notice_does_not_undo_the_change(sims, demo_people, settings):
    settings.JOBS_MAX_ATTEMPTS = 1  # the notice's first try is its last: its failure is final
    client = _logged_in(ZHANG)
    client.post("/accounts/me/mobile", {"action": "send_code", "mobile": NEW})
    code = sims.last_code(NEW)
    sims.control("sms", mode="system_error")
    response = client.post("/accounts/me/mobile", {"action": "save", "mobile": NEW, "sms_code": code, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert _account(ZHANG).mobile == NEW
    assert sims.messages(ZHANG[4]) == []  # the notice's job ran and the gateway failed
    assert AuditEvent.objects.get(action="account.change_mobile.notice").outcome == "failure"
    notice = SmsNotice.objects.get()
    assert notice.send_state == "failed" and notice.mobile == "" and notice.mobile_masked == "138****0001"


def test_a_change_that_fails_queues_no_notice(sims, demo_people):
    client = _logged_in(ZHANG)
    client.post("/accounts/me/mobile", {"action": "send_code", "mobile": NEW})
    response = client.post("/accounts/me/mobile", {"action": "save", "mobile": NEW, "sms_code": "000000", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert not SmsNotice.objects.exists()
    assert not DBTaskResult.objects.filter(task_path__endswith="send_sms_notice").exists()

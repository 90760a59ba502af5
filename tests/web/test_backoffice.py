"""Back office entry (issue 8): /admin/ only on its host name or port and from allowed
networks (404 elsewhere); staff logins throttled per username and per address, and audited."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from shebao.accounts.models import Account
from shebao.audit.models import AuditEvent
from tests.staff import current_code, totp_device, verified_client

pytestmark = pytest.mark.django_db
PASSWORD = "Staff@2026x"
WRONG = "Wrong@2026x"


@pytest.fixture
def staff(db):
    user = Account.objects.create_superuser("staff01", PASSWORD)
    totp_device(user)
    return user


@pytest.fixture
def backoffice_host(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "www.example.cn", "houtai.example.cn"]
    settings.ADMIN_HOSTS = ["houtai.example.cn"]
    settings.ADMIN_PORT = None
    settings.ADMIN_ALLOWED_NETWORKS = ["10.8.0.0/16"]
    return "houtai.example.cn"


def _admin_login(client, username, password, *, code: str | None = None, **extra):
    """The login form with the TOTP code the user's authenticator shows now (unless ``code``)."""
    if code is None:
        device = TOTPDevice.objects.filter(user__username=username).first()
        code = current_code(device) if device else ""
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password, "otp_token": code}, **extra)


def test_development_default_serves_the_back_office_on_loopback(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_public_host_gets_404_back_office_host_from_allowed_network_gets_it(client, backoffice_host):
    for path in ("/admin/", "/admin/login/", "/admin"):
        assert client.get(path, HTTP_HOST="www.example.cn", REMOTE_ADDR="10.8.1.2").status_code == 404
    assert client.get("/admin/login/", HTTP_HOST=backoffice_host, REMOTE_ADDR="10.8.1.2").status_code == 200
    # the right host from outside the allow-list: 404 too
    assert client.get("/admin/login/", HTTP_HOST=backoffice_host, REMOTE_ADDR="203.0.113.5").status_code == 404
    # the public site is unaffected
    assert client.get("/", HTTP_HOST="www.example.cn", REMOTE_ADDR="203.0.113.5").status_code == 200


def test_the_allow_list_uses_the_address_seen_through_trusted_proxies(client, backoffice_host, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    inside = client.get("/admin/login/", HTTP_HOST=backoffice_host, REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR="10.8.3.4")
    spoofed = client.get("/admin/login/", HTTP_HOST=backoffice_host, REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR="10.8.3.4, 203.0.113.5")
    assert inside.status_code == 200 and spoofed.status_code == 404


def test_back_office_on_its_own_port(client, settings):
    settings.ADMIN_HOSTS = []
    settings.ADMIN_PORT = 8443
    assert client.get("/admin/login/").status_code == 404  # port 80
    assert client.get("/admin/login/", SERVER_PORT="8443").status_code == 200


def test_nothing_configured_means_no_back_office(client, settings):
    settings.ADMIN_HOSTS = []
    settings.ADMIN_PORT = None
    assert client.get("/admin/login/").status_code == 404


def test_staff_login_success_and_failure_are_audited(client, staff):
    assert _admin_login(client, "staff01", WRONG).status_code == 200
    _admin_login(client, "nobody", WRONG)
    response = _admin_login(client, "staff01", PASSWORD)
    assert response.status_code == 302 and client.get("/admin/").status_code == 200
    events = list(AuditEvent.objects.filter(action="staff.login").order_by("id"))
    assert [(e.outcome, e.subject_ref) for e in events] == [("failure", staff.public_id), ("failure", ""), ("success", staff.public_id)]
    assert events[-1].actor_id == staff.pk and events[0].actor_id is None
    assert all("nobody" not in str(e.changes) for e in events)


def test_staff_login_locks_per_username(client, staff):
    for _ in range(4):
        assert "登录失败次数过多" not in _admin_login(client, "staff01", WRONG).content.decode()
    assert "登录失败次数过多，请15分钟后再试" in _admin_login(client, "staff01", WRONG).content.decode()
    refused = _admin_login(client, "staff01", PASSWORD)
    assert refused.status_code == 200 and "登录失败次数过多" in refused.content.decode()
    assert client.get("/admin/").status_code == 302  # not logged in
    assert AuditEvent.objects.filter(action="staff.login", outcome="failure").count() == 6


def test_staff_login_locks_per_address(client, staff, settings):
    settings.STAFF_LOGIN_IP_FAILURE_LIMIT = "3 per 15 minutes"
    for n in range(3):
        _admin_login(client, f"guess{n}", WRONG)
    refused = _admin_login(client, "staff01", PASSWORD)
    assert "登录失败次数过多" in refused.content.decode()
    assert _admin_login(client, "staff01", PASSWORD, REMOTE_ADDR="::1").status_code == 302  # another allowed address


def test_staff_login_gets_429_while_every_password_check_slot_is_taken(client, staff, settings):
    from shebao.common.hashers import password_check_semaphore

    settings.PASSWORD_CHECK_WAIT_SECONDS = 0
    semaphore = password_check_semaphore()
    held = 0
    while semaphore.acquire(blocking=False):
        held += 1
    try:
        response = _admin_login(client, "staff01", PASSWORD)
        assert response.status_code == 429 and "系统繁忙，请稍后再试" in response.content.decode()
    finally:
        for _ in range(held):
            semaphore.release()
    assert _admin_login(client, "staff01", PASSWORD).status_code == 302



def test_staff_need_the_totp_code_and_a_wrong_one_counts_as_a_failure(client, staff):
    missing = _admin_login(client, "staff01", PASSWORD, code="")
    assert missing.status_code == 200 and "请输入身份验证器上的6位动态口令" in missing.content.decode()
    wrong = _admin_login(client, "staff01", PASSWORD, code="000000" if current_code(totp_device(staff)) != "000000" else "111111")
    assert wrong.status_code == 200 and "用户名、密码或动态口令不正确" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302  # not in
    events = AuditEvent.objects.filter(action="staff.login").order_by("created_at", "id")
    assert [(e.outcome, e.changes) for e in events] == [("failure", {"cause": {"old": None, "new": "token_required"}}), ("failure", {"cause": {"old": None, "new": "invalid_token"}})]
    soon = _admin_login(client, "staff01", PASSWORD)  # django-otp holds the device back a moment after a wrong code
    assert soon.status_code == 200 and "用户名、密码或动态口令不正确" in soon.content.decode()
    assert AuditEvent.objects.filter(action="staff.login").order_by("-created_at", "-id").first().changes == {"cause": {"old": None, "new": "n_failed_attempts"}}
    totp_device(staff).throttle_reset()  # the moment passes
    assert _admin_login(client, "staff01", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_staff_account_without_an_authenticator_cannot_sign_in(client, db):
    Account.objects.create_superuser("staff02", PASSWORD)
    response = _admin_login(client, "staff02", PASSWORD, code="123456")
    assert response.status_code == 200 and "用户名、密码或动态口令不正确" in response.content.decode()
    assert AuditEvent.objects.get(action="staff.login").changes == {"cause": {"old": None, "new": "device_required"}}
    assert client.get("/admin/").status_code == 302


def test_a_wrong_password_and_a_wrong_code_get_the_same_answer(client, staff):
    """The page must not tell an attacker holding one factor that it was right."""
    good_code = current_code(totp_device(staff))
    wrong_code = "000000" if good_code != "000000" else "111111"
    pages = [_admin_login(client, "staff01", WRONG, code=good_code), _admin_login(client, "staff01", PASSWORD, code=wrong_code),
             _admin_login(client, "nobody", PASSWORD, code=good_code)]

    def errors(page):
        html = page.content.decode()
        return sorted(m for m in ("用户名、密码或动态口令不正确", "请输入正确的", "动态口令不正确或已过期", "错误次数过多", "尚未绑定") if m in html)

    assert all(p.status_code == 200 for p in pages)
    assert errors(pages[0]) == errors(pages[1]) == errors(pages[2]) != []
    causes = list(AuditEvent.objects.filter(action="staff.login").order_by("created_at", "id").values_list("changes", flat=True))
    assert causes == [{"cause": {"old": None, "new": "invalid_login"}}, {"cause": {"old": None, "new": "invalid_token"}}, {"cause": {"old": None, "new": "invalid_login"}}]


def test_a_session_without_a_verified_device_is_not_staff(client, staff):
    client.force_login(staff)  # a password-only session (e.g. from the public site's login)
    assert client.get("/admin/").status_code == 302
    assert verified_client(staff, client).get("/admin/").status_code == 200


def test_a_code_is_accepted_once(staff):
    from django.test import Client

    code = current_code(totp_device(staff))
    assert _admin_login(Client(), "staff01", PASSWORD, code=code).status_code == 302
    replay = _admin_login(Client(), "staff01", PASSWORD, code=code)  # the same code again, at once
    assert replay.status_code == 200 and "用户名、密码或动态口令不正确" in replay.content.decode()


def test_staff_totp_binds_a_new_authenticator_and_is_audited(staff, capsys):
    from django.core.management import CommandError, call_command

    old = totp_device(staff).persistent_id
    call_command("staff_totp", "staff01", "--no-qr")
    out = capsys.readouterr().out
    assert "otpauth://totp/" in out and "已为 staff01 绑定动态口令" in out
    (device,) = TOTPDevice.objects.filter(user=staff)
    assert device.persistent_id != old and device.confirmed
    assert AuditEvent.objects.filter(action="staff.totp_bound", subject_ref=staff.public_id).count() == 1
    with pytest.raises(CommandError, match="没有用户名为"):
        call_command("staff_totp", "nobody")

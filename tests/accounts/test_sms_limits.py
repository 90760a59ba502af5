"""SMS codes: abuse and honesty (issue 8).

Per-client limits (IP, session, overall) answer 429 with Retry-After and send nothing; the
registration form is checked whole before a code goes out; the per-number limits are the
gateway's own (1/min, 5/h, 10/day) and race-free; a refusal says why and when and is never
shown together with "已发送"; a login finished with an SMS code counts as the step-up.

The per-client limits are set per test with hour/day windows (the limit counts in real
time), so no assertion depends on how fast the test runs."""

from __future__ import annotations

import re
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from shebao.accounts.models import SmsChallenge, SmsPurpose
from shebao.accounts.otp import OtpError, otp_resend_wait, otp_send
from shebao.adapters.sms import get_sms_gateway
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from shebao.fees.models import PaymentOrder
from tests.accounts.helpers import login, new_person, register_code_form
from tests.jobs.inline import send_queued_sms

pytestmark = pytest.mark.django_db
ZHANG = DEMO_PEOPLE[0]
SENT = "验证码已发送"
QUEUED = "验证码正在发送"  # the page that asked; its notice then polls until 已发送 or the refusal


@pytest.fixture
def no_client_limits(settings):
    settings.SMS_SEND_RATE_PER_IP = settings.SMS_SEND_RATE_PER_SESSION = settings.SMS_SEND_RATE_OVERALL = ""
    return settings


def _ask(client, person, **extra):
    return client.post("/accounts/register", register_code_form(person), **extra)


def _retry_after(response) -> int:
    assert response.status_code == 429, response.content.decode()[:300]
    value = int(response["Retry-After"])
    assert value > 0
    return value


def test_default_limits_are_the_documented_ones():
    assert django_settings.SMS_SEND_RATE_PER_IP == "5/minute;20/hour"
    assert django_settings.SMS_SEND_RATE_PER_SESSION == "3/minute;10/hour"
    assert django_settings.SMS_SEND_RATE_OVERALL == "100/second"
    assert (django_settings.OTP_MIN_INTERVAL_SECONDS, django_settings.OTP_MAX_PER_HOUR, django_settings.OTP_MAX_PER_DAY) == (60, 5, 10)


# ------------------------------------------------------------------ per-client limits
def test_per_ip_limit_stops_forty_numbers_from_one_ip_with_fresh_sessions(sims, settings):
    settings.SMS_SEND_RATE_PER_IP = "5/hour"
    statuses = [_ask(Client(REMOTE_ADDR="203.0.113.7"), new_person()) for _ in range(40)]
    assert [r.status_code for r in statuses[:5]] == [200] * 5
    assert [r.status_code for r in statuses[5:]] == [429] * 35
    refused = statuses[5]
    assert 0 < _retry_after(refused) <= 3600
    body = refused.content.decode()
    assert "获取验证码过于频繁，请" in body and SENT not in body
    assert len(sims.messages()) == 5
    assert SmsChallenge.objects.count() == 5
    # another address is not affected
    assert _ask(Client(REMOTE_ADDR="198.51.100.9"), new_person()).status_code == 200


def test_per_session_limit(sims, settings):
    settings.SMS_SEND_RATE_PER_SESSION = "3/hour"
    client = Client()
    answers = [_ask(client, new_person(), REMOTE_ADDR=f"203.0.113.{n}") for n in range(1, 6)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    _retry_after(answers[3])
    assert len(sims.messages()) == 3


def test_overall_limit(sims, settings):
    settings.SMS_SEND_RATE_OVERALL = "3/day"
    answers = [_ask(Client(REMOTE_ADDR=f"203.0.113.{n}"), new_person()) for n in range(1, 6)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    _retry_after(answers[3])
    assert "短信服务繁忙，请" in answers[3].content.decode()
    assert len(sims.messages()) == 3


def test_per_ip_limit_also_guards_the_change_of_mobile(sims, settings, demo_people):
    settings.SMS_SEND_RATE_PER_IP = "1/hour"
    client = Client()
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)  # the login's code spends the one allowed
    before = len(sims.messages())
    response = client.post("/accounts/me/mobile", {"action": "send_code", "mobile": "13700004444"})
    _retry_after(response)
    assert len(sims.messages()) == before


# ------------------------------------------------------------------ the registration form first
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "450103198808080000", "校验位"),
        ("name", "张3", "姓名只能包含汉字"),
        ("person_type", "tourist", "请选择用户类型"),
        ("id_type", "999", "选择一个有效的选项"),
        ("mobile", "12345678901", "手机号码格式不正确"),
    ])
def test_invalid_registration_form_sends_no_code(client, sims, field, value, message):
    person = new_person()
    person[field] = value
    response = _ask(client, person)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert sims.messages() == []
    assert SmsChallenge.objects.count() == 0


# ------------------------------------------------------------------ the gateway's limits, honestly
def test_sixth_code_in_an_hour_is_refused_with_reason_and_time(client, sims, clock, no_client_limits):
    person = new_person()
    for n in range(5):
        sent = _ask(client, person)
        assert sent.status_code == 200 and f"{QUEUED}至 {person['mobile'][:3]}****" in sent.content.decode()
        # the button counts down to the next allowed code: a minute, after the 5th the hour
        assert f'data-countdown="{60 if n < 4 else 3600 - 4 * 61}"' in sent.content.decode()
        send_queued_sms()
        clock.advance(seconds=61)
    sixth = _ask(client, person)  # 5 × 61 s after the first: it leaves the hour at +3600 s
    assert _retry_after(sixth) == 3600 - 5 * 61
    body = sixth.content.decode()
    assert "该手机号1小时内获取验证码已达5次，请55分钟后再试" in body
    assert SENT not in body and QUEUED not in body
    assert f'data-countdown="{3600 - 5 * 61}"' in body
    assert len(sims.messages(person["mobile"])) == 5


def test_eleventh_code_in_a_day_waits_for_tomorrow(sims, clock, no_client_limits):
    mobile = "13912345001"
    for _ in range(10):
        otp_send(mobile=mobile, purpose=SmsPurpose.LOGIN, now=clock.now)
        send_queued_sms()
        clock.advance(minutes=61)
    # 2026-03-02 10:00 + 10 × 61 min = 20:10 in Shanghai: tomorrow is 3 h 50 min away
    with pytest.raises(OtpError, match="该手机号今日验证码已达上限，请明天再试") as refused:
        otp_send(mobile=mobile, purpose=SmsPurpose.LOGIN, now=clock.now)
    assert refused.value.retry_after == 3 * 3600 + 50 * 60
    assert len(sims.messages(mobile)) == 10


@pytest.mark.parametrize(
    ("earlier", "gap", "message", "retry_after"),
    [(1, 1, "验证码发送过于频繁，请60秒后再试", 60), (5, 61, "该手机号1小时内获取验证码次数已达上限，请1小时后再试", 3600)])
def test_gateway_refusal_the_service_did_not_expect_is_told_plainly(client, sims, clock, no_client_limits, earlier, gap, message,
                                                                    retry_after):
    """Codes the service's books do not hold (sent by another system on the same account, or a
    send that timed out but left) make the gateway refuse: the person is told why and when."""
    person = new_person()
    gateway = get_sms_gateway()
    for n in range(earlier):
        gateway.send_code(mobile=person["mobile"], code="123456", request_id=f"elsewhere-{n}")
        clock.advance(seconds=gap)
    response = _ask(client, person)
    assert response.status_code == 200 and QUEUED in response.content.decode()
    send_queued_sms()
    status = client.get("/accounts/sms/status")
    body = status.content.decode()
    assert message in body and 'role="alert"' in body and SENT not in body and "hx-get" not in body
    assert SmsChallenge.objects.get().send_state == "failed" and SmsChallenge.objects.get().code_sealed == ""
    assert otp_resend_wait(mobile=person["mobile"], now=clock.now) == 0  # the refused send is not counted as sent
    assert len(sims.messages(person["mobile"])) == earlier


def test_login_page_never_says_sent_when_the_code_was_refused(client, sims, demo_people, no_client_limits):
    response = client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD}, follow=True)
    body = response.content.decode()
    assert f"{QUEUED}至您预留的手机 138****0001" in body and "过于频繁" not in body
    resend = client.post("/accounts/login/verify", {"action": "resend"})
    _retry_after(resend)
    body = resend.content.decode()
    assert re.search(r"验证码发送过于频繁，请\d+秒后再试", body)
    assert SENT not in body and QUEUED not in body
    assert len(sims.messages(ZHANG[4])) == 1


# ------------------------------------------------------------------ login counts as the step-up
def test_login_with_sms_code_counts_as_step_up_for_paying(client, sims, clock, demo_people, reference_data):
    from tests.fees.helpers import logged_in

    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)  # the login, then 61 s
    codes_before = len(sims.messages(ZHANG[4]))
    page = client.post("/fees/declare", {"insurance_types": ["10210-FLEX"], "contribution_year": "2026", "period_from": "2026-09",
                                         "period_to": "2026-09", "base": "4371.00", "grade": "", "idem": "q", "action": "quote"})
    assert "获取验证码" not in page.content.decode()  # no second code asked for
    response = client.post("/fees/declare", {"insurance_types": ["10210-FLEX"], "contribution_year": "2026", "period_from": "2026-09",
                                             "period_to": "2026-09", "base": "4371.00", "grade": "", "idem": "s", "action": "confirm"})
    assert response.status_code == 302, response.content.decode()[:300]
    assert PaymentOrder.objects.count() == 1
    assert len(sims.messages(ZHANG[4])) == codes_before


def test_password_alone_is_no_step_up(client, sims, demo_people):
    from shebao.common.actor import STEP_UP_SESSION_KEY

    client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD})
    assert STEP_UP_SESSION_KEY not in client.session


# ------------------------------------------------------------------ race-free per number (PostgreSQL)
THREADS = 8


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_to_one_number_reach_the_gateway_once(sims, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL row locks (select_for_update); the database here is {connection.vendor}")
    import shebao.accounts.otp as otp_module

    real = get_sms_gateway()
    calls: list[str] = []
    lock = threading.Lock()

    class Counting:
        """The real client to the simulator, counting every request that reaches it."""

        def send_code(self, **kw):
            with lock:
                calls.append(kw["mobile"])
            return real.send_code(**kw)

    monkeypatch.setattr(otp_module, "get_sms_gateway", lambda: Counting())
    mobile = "13912345002"
    barrier = threading.Barrier(THREADS)
    sent: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            from shebao.common import clock

            otp_send(mobile=mobile, purpose=SmsPurpose.LOGIN, now=clock.now())
            sent.append("ok")
        except OtpError as exc:
            refused.append(str(exc))
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert (len(sent), len(refused)) == (1, THREADS - 1)
    assert SmsChallenge.objects.count() == 1
    assert len(sims.messages(mobile)) == 1  # (runs the queued jobs: one)
    assert calls == [mobile]  # exactly one reached the gateway

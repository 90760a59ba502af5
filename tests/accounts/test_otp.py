"""SMS code rules: 6 digits, hashed, 5 minutes, single use, bound to number and purpose,
1 per minute and 10 per day per number, 5 wrong tries."""

from __future__ import annotations

import pytest

from shebao.accounts.models import SmsChallenge, SmsPurpose
from shebao.accounts.otp import OtpError, otp_send, otp_verify

pytestmark = pytest.mark.django_db
MOBILE = "13912345678"


def test_code_is_six_digits_and_stored_hashed(sims, clock):
    otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    code = sims.last_code(MOBILE)
    challenge = SmsChallenge.objects.get()
    assert len(code) == 6 and code.isdigit()
    assert code not in challenge.code_hash
    assert MOBILE not in challenge.mobile_index
    assert (challenge.expires_at - challenge.created_at).total_seconds() == 300


def test_single_use(sims, clock):
    otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    code = sims.last_code(MOBILE)
    otp_verify(mobile=MOBILE, purpose=SmsPurpose.REGISTER, code=code, now=clock.now)
    with pytest.raises(OtpError, match="已失效"):
        otp_verify(mobile=MOBILE, purpose=SmsPurpose.REGISTER, code=code, now=clock.now)


def test_expires_after_five_minutes(sims, clock):
    otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    code = sims.last_code(MOBILE)
    clock.advance(seconds=301)
    with pytest.raises(OtpError, match="已失效"):
        otp_verify(mobile=MOBILE, purpose=SmsPurpose.REGISTER, code=code, now=clock.now)


def test_bound_to_purpose_and_number(sims, clock):
    otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    code = sims.last_code(MOBILE)
    with pytest.raises(OtpError):
        otp_verify(mobile=MOBILE, purpose=SmsPurpose.LOGIN, code=code, now=clock.now)
    with pytest.raises(OtpError):
        otp_verify(mobile="13912345679", purpose=SmsPurpose.REGISTER, code=code, now=clock.now)
    otp_verify(mobile=MOBILE, purpose=SmsPurpose.REGISTER, code=code, now=clock.now)


def test_one_per_minute(sims, clock):
    otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    clock.advance(seconds=30)
    with pytest.raises(OtpError, match="请30秒后再试"):
        otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    assert SmsChallenge.objects.count() == 1
    assert len(sims.messages(MOBILE)) == 1


def test_ten_per_day(sims, clock, settings):
    sent = 0
    for _ in range(10):
        otp_send(mobile=MOBILE, purpose=SmsPurpose.LOGIN, now=clock.now)
        sent += 1
        clock.advance(minutes=61)  # also past the gateway's hourly flow control
    assert sent == 10
    with pytest.raises(OtpError, match="上限"):
        otp_send(mobile=MOBILE, purpose=SmsPurpose.LOGIN, now=clock.now)
    assert SmsChallenge.objects.count() == 10


def test_new_code_replaces_old(sims, clock):
    otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    first = sims.last_code(MOBILE)
    clock.advance(seconds=61)
    otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    second = sims.last_code(MOBILE)
    if first != second:
        with pytest.raises(OtpError):
            otp_verify(mobile=MOBILE, purpose=SmsPurpose.REGISTER, code=first, now=clock.now)
    otp_verify(mobile=MOBILE, purpose=SmsPurpose.REGISTER, code=second, now=clock.now)


def test_gateway_failure_is_recorded_in_kind_words_and_the_code_is_dead(sims, clock, settings):
    from shebao.accounts.otp import otp_resend_wait, otp_send_status

    settings.JOBS_MAX_ATTEMPTS = 1  # the first try is the last: the failure is final
    sims.control("sms", mode="system_error")
    challenge = otp_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER, now=clock.now)
    assert sims.messages(MOBILE) == []  # the job ran, the gateway failed
    status = otp_send_status(challenge_id=challenge.public_id, now=clock.now)
    assert (status.state, status.message) == ("failed", "短信发送失败，请稍后重新获取验证码")
    assert otp_resend_wait(mobile=MOBILE, now=clock.now) == 0  # a failed send does not count
    with pytest.raises(OtpError, match="已失效或未获取"):
        otp_verify(mobile=MOBILE, purpose=SmsPurpose.REGISTER, code="000000", now=clock.now)

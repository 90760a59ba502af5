"""SMS verification codes (短信验证码).

Rules (ASVS v5.0.0-6.5.1..6.6.3, issue "Bad input"): 6 digits from the OS
CSPRNG; stored as a salted keyed hash; valid 5 minutes; single use; bound to
the number and the purpose; at most 1 per minute and 10 per day per number;
after 5 wrong tries the code is dead and a new one is needed."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F

from shebao.accounts.models import SmsChallenge, SmsPurpose
from shebao.adapters.sms import get_sms_gateway
from shebao.adapters.sms.port import SmsError, SmsRateLimited
from shebao.common import crypto
from shebao.common.masking import mask_mobile

logger = logging.getLogger("shebao.accounts")


class OtpError(Exception):
    """A code could not be sent or was not accepted; the message is for the person."""


def mobile_index(mobile: str) -> str:
    return crypto.blind_index(mobile, purpose="mobile")


def _check_send_limits(*, index: str, now: dt.datetime) -> None:
    recent = SmsChallenge.objects.filter(mobile_index=index)
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    if last and (now - last).total_seconds() < settings.OTP_MIN_INTERVAL_SECONDS:
        wait = settings.OTP_MIN_INTERVAL_SECONDS - int((now - last).total_seconds())
        raise OtpError(f"验证码发送过于频繁，请{wait}秒后再试")
    day_start = now - dt.timedelta(days=1)
    if recent.filter(created_at__gte=day_start).count() >= settings.OTP_MAX_PER_DAY:
        raise OtpError("该手机号今日获取验证码次数已达上限（10次），请明天再试")


def otp_send(*, mobile: str, purpose: SmsPurpose | str, now: dt.datetime, request_id: str = "") -> SmsChallenge:
    """Send a fresh code to ``mobile`` for ``purpose``; earlier unused codes of
    the same number and purpose stop working."""
    index = mobile_index(mobile)
    _check_send_limits(index=index, now=now)
    code = f"{secrets.randbelow(10**6):06d}"
    try:
        result = get_sms_gateway().send_code(mobile=mobile, code=code, request_id=request_id)
    except SmsRateLimited as exc:
        raise OtpError("该手机号获取验证码过于频繁，请稍后再试") from exc
    except SmsError as exc:
        logger.warning("sms send failed", extra={"mobile": mask_mobile(mobile), "code": exc.code, "retryable": exc.retryable})
        raise OtpError("短信发送失败，请稍后重试") from exc
    with transaction.atomic():
        SmsChallenge.objects.filter(mobile_index=index, purpose=purpose, used_at__isnull=True).update(used_at=now)
        challenge = SmsChallenge.objects.create(
            public_id=crypto.random_token(),
            mobile_index=index,
            purpose=purpose,
            code_hash=crypto.hash_secret(code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.OTP_TTL_SECONDS),
            provider_ref=result.provider_ref[:64],
        )
    logger.info("sms code sent", extra={"mobile": mask_mobile(mobile), "purpose": str(purpose)})
    return challenge


@dataclass(frozen=True)
class OtpOutcome:
    ok: bool
    message: str = ""


def otp_consume(*, mobile: str, purpose: SmsPurpose | str, code: str, now: dt.datetime) -> OtpOutcome:
    """Check and consume a code. Returns an outcome instead of raising so that a
    wrong try is counted even when the caller's transaction goes on to commit
    nothing else. Must run inside a transaction (row lock on PostgreSQL)."""
    challenge = (
        SmsChallenge.objects.select_for_update()
        .filter(mobile_index=mobile_index(mobile), purpose=purpose, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if challenge is None:
        return OtpOutcome(False, "验证码已失效或未获取，请重新获取验证码")
    if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
        return OtpOutcome(False, "验证码错误次数过多，请重新获取验证码")
    if not crypto.check_secret(code, challenge.code_hash):
        SmsChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
        left = settings.OTP_MAX_ATTEMPTS - challenge.attempts - 1
        if left <= 0:
            return OtpOutcome(False, "验证码错误次数过多，请重新获取验证码")
        return OtpOutcome(False, f"验证码不正确，还可尝试{left}次")
    used = SmsChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(used_at=now)
    if used != 1:
        return OtpOutcome(False, "验证码已失效或未获取，请重新获取验证码")
    return OtpOutcome(True)


def otp_verify(*, mobile: str, purpose: SmsPurpose | str, code: str, now: dt.datetime) -> None:
    """Consume a code in its own transaction; raise OtpError if it is not accepted."""
    with transaction.atomic():
        outcome = otp_consume(mobile=mobile, purpose=purpose, code=code, now=now)
    if not outcome.ok:
        raise OtpError(outcome.message)

"""SMS verification codes (短信验证码).

Rules (ASVS v5.0.0-6.5.1..6.6.3, issue "Bad input"): 6 digits from the OS
CSPRNG; stored as a salted keyed hash; valid 5 minutes; single use; bound to
the number and the purpose; after 5 wrong tries the code is dead and a new one is needed.

Per-number send limits are the gateway's own (Aliyun's defaults for verification codes,
which the simulator plays): 1 a minute, ``OTP_MAX_PER_HOUR`` (5) an hour, ``OTP_MAX_PER_DAY``
(10) a calendar day in China. The service keeps the same books (every ``SmsChallenge`` row
is one message the gateway accepted), so it refuses before the gateway would and can say
why and when; a refusal the gateway still gives (books out of step, e.g. a send that timed
out but left) is mapped to the same kind of message with the longest wait it can mean.

Race-free: ``otp_send`` locks the number's ``SmsNumberGate`` row (``select_for_update``),
checks the limits and marks a send in flight in one short transaction, and only then
calls the gateway; a concurrent send to the same number sees the mark and is refused,
so of N simultaneous requests exactly one reaches the gateway. The per-client limits
(IP, session, overall) are the views' (``shebao.accounts.views.send_sms_code``)."""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F

from shebao.accounts.models import SmsChallenge, SmsNumberGate, SmsPurpose
from shebao.adapters.sms import get_sms_gateway
from shebao.adapters.sms.port import SmsError, SmsRateLimited
from shebao.common import crypto
from shebao.common.masking import mask_mobile

logger = logging.getLogger("shebao.accounts")

GATEWAY_ZONE = ZoneInfo("Asia/Shanghai")  # the gateway's "day" is the calendar day in China
GATEWAY_MINUTE_SECONDS = 60
HOUR = dt.timedelta(hours=1)


class OtpError(Exception):
    """A code could not be sent or was not accepted; the message is for the person.

    ``retry_after``: when the refusal is a send limit, the seconds until a code may be
    asked for again (for ``Retry-After`` and the countdown); ``None`` otherwise."""

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def mobile_index(mobile: str) -> str:
    return crypto.blind_index(mobile, purpose="mobile")


def _next_gateway_midnight(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(start of today, start of tomorrow) in the gateway's zone."""
    start = now.astimezone(GATEWAY_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def wait_text(seconds: int) -> str:
    """A wait as people say it: "45秒后", "12分钟后"."""
    return f"{seconds}秒后" if seconds < 120 else f"{math.ceil(seconds / 60)}分钟后"


def _limit_refusal(sends: list[dt.datetime], now: dt.datetime) -> OtpError | None:
    """The per-number refusal for a number with these accepted sends, or None.

    Windows as the gateway counts them: the minute and the hour slide (a send counts
    while it is less than 60 s / 1 h old), the day is the calendar day in China. When
    several limits refuse, the one with the longest wait is the truth."""
    sends = sorted(sends)
    today, tomorrow = _next_gateway_midnight(now)
    refusals: list[tuple[int, str]] = []
    if sum(1 for s in sends if s >= today) >= settings.OTP_MAX_PER_DAY:
        refusals.append((_seconds_until(tomorrow, now), "该手机号今日验证码已达上限，请明天再试"))
    in_hour = [s for s in sends if s > now - HOUR]
    per_hour = settings.OTP_MAX_PER_HOUR
    if len(in_hour) >= per_hour:
        wait = _seconds_until(in_hour[-per_hour] + HOUR, now)
        refusals.append((wait, f"该手机号1小时内获取验证码已达{per_hour}次，请{wait_text(wait)}再试"))
    interval = settings.OTP_MIN_INTERVAL_SECONDS
    if sends and (now - sends[-1]).total_seconds() < interval:
        wait = _seconds_until(sends[-1] + dt.timedelta(seconds=interval), now)
        refusals.append((wait, f"验证码发送过于频繁，请{wait}秒后再试"))
    if not refusals:
        return None
    wait, message = max(refusals)
    return OtpError(message, retry_after=wait)


def _sends(index: str, now: dt.datetime) -> list[dt.datetime]:
    """The accepted sends to the number that any limit still counts."""
    today, _ = _next_gateway_midnight(now)
    since = min(today, now - HOUR, now - dt.timedelta(seconds=settings.OTP_MIN_INTERVAL_SECONDS))
    return list(SmsChallenge.objects.filter(mobile_index=index, created_at__gte=since).values_list("created_at", flat=True))


def otp_resend_wait(*, mobile: str, now: dt.datetime) -> int:
    """Seconds until another code may be asked for ``mobile`` (0: now); for the countdown."""
    refusal = _limit_refusal(_sends(mobile_index(mobile), now), now)
    return refusal.retry_after if refusal else 0


def _in_flight_seconds() -> float:
    """How long a send in flight blocks the number: the gateway call's timeout and a
    margin; a mark older than that (a process died mid-send) is ignored."""
    return float(settings.SMS.get("TIMEOUT_SECONDS", 5)) + 10


def _reserve(*, index: str, now: dt.datetime) -> str:
    """Lock the number's gate row, check the limits, mark a send in flight; returns its token."""
    with transaction.atomic():
        SmsNumberGate.objects.bulk_create([SmsNumberGate(mobile_index=index)], ignore_conflicts=True)
        gate = SmsNumberGate.objects.select_for_update().get(mobile_index=index)
        if gate.sending_since is not None and abs((now - gate.sending_since).total_seconds()) < _in_flight_seconds():
            raise OtpError("验证码正在发送，请稍候查收短信，不必重复获取", retry_after=max(1, settings.OTP_MIN_INTERVAL_SECONDS))
        refusal = _limit_refusal(_sends(index, now), now)
        if refusal is not None:
            raise refusal
        token = secrets.token_hex(16)
        SmsNumberGate.objects.filter(pk=gate.pk).update(sending_since=now, sending_token=token)
    return token


def _release(*, index: str, token: str) -> None:
    """Clear this send's in-flight mark (only its own: the token must match)."""
    SmsNumberGate.objects.filter(mobile_index=index, sending_token=token).update(sending_since=None, sending_token="")


def _gateway_refusal(exc: SmsRateLimited, now: dt.datetime) -> OtpError:
    """The gateway's flow-control refusal in the person's words, with the longest wait it can mean."""
    _, tomorrow = _next_gateway_midnight(now)
    if exc.window == "minute":
        return OtpError(f"验证码发送过于频繁，请{GATEWAY_MINUTE_SECONDS}秒后再试", retry_after=GATEWAY_MINUTE_SECONDS)
    if exc.window == "day":
        return OtpError("该手机号今日验证码已达上限，请明天再试", retry_after=_seconds_until(tomorrow, now))
    if exc.window == "account_day":
        return OtpError("今日短信发送量已达上限，请明天再试", retry_after=_seconds_until(tomorrow, now))
    return OtpError("该手机号1小时内获取验证码次数已达上限，请1小时后再试", retry_after=3600)


def otp_send(*, mobile: str, purpose: SmsPurpose | str, now: dt.datetime, request_id: str = "") -> SmsChallenge:
    """Send a fresh code to ``mobile`` for ``purpose``; earlier unused codes of
    the same number and purpose stop working. Raises ``OtpError`` (with ``retry_after``
    for a limit) and then nothing was sent. Call it outside a transaction: the in-flight
    mark must be visible to concurrent requests while the gateway is called."""
    index = mobile_index(mobile)
    token = _reserve(index=index, now=now)
    code = f"{secrets.randbelow(10**6):06d}"
    try:
        result = get_sms_gateway().send_code(mobile=mobile, code=code, request_id=request_id)
    except BaseException as exc:
        _release(index=index, token=token)
        if isinstance(exc, SmsRateLimited):
            logger.warning("sms refused by gateway flow control", extra={"mobile": mask_mobile(mobile), "code": exc.code, "window": exc.window})
            raise _gateway_refusal(exc, now) from exc
        if isinstance(exc, SmsError):
            logger.warning("sms send failed", extra={"mobile": mask_mobile(mobile), "code": exc.code, "retryable": exc.retryable})
            raise OtpError("短信发送失败，请稍后重试") from exc
        raise
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
        _release(index=index, token=token)
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

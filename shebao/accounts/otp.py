"""SMS verification codes (短信验证码).

Rules (ASVS v5.0.0-6.5.1..6.6.3, issue "Bad input"): 6 digits from the OS
CSPRNG; stored as a salted keyed hash; valid 5 minutes; single use; bound to
the number and the purpose; after 5 wrong tries the code is dead and a new one is needed.

Per-number send limits are the gateway's own (Aliyun's defaults for verification codes,
which the simulator plays): 1 a minute, ``OTP_MAX_PER_HOUR`` (5) an hour, ``OTP_MAX_PER_DAY``
(10) a calendar day in China. The service keeps the same books (every ``SmsChallenge`` row
that is queued or sent is one message), so it refuses before the gateway would and can say
why and when; a refusal the gateway still gives (books out of step) is recorded on the
challenge in the same kind of words, with the longest wait it can mean.

Sent by a job: ``otp_send`` checks the limits and creates the challenge under the number's
``SmsNumberGate`` row lock and enqueues ``send_sms_code`` in the same transaction; the job
(``otp_deliver``) calls the gateway, retries what is retryable with backoff, and records the
outcome on the row, which the page that asked polls (``otp_send_status``). The code is
never in the job's arguments: it waits on the row encrypted, and is erased once sent. The
per-client limits (IP, session, overall) are the views' (``shebao.accounts.views.send_sms_code``)."""

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

from shebao.accounts.models import SmsChallenge, SmsNumberGate, SmsPurpose, SmsSendState
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
    return list(SmsChallenge.objects.filter(mobile_index=index, created_at__gte=since).exclude(send_state=SmsSendState.FAILED)
                .values_list("created_at", flat=True))


def otp_resend_wait(*, mobile: str, now: dt.datetime) -> int:
    """Seconds until another code may be asked for ``mobile`` (0: now); for the countdown."""
    refusal = _limit_refusal(_sends(mobile_index(mobile), now), now)
    return refusal.retry_after if refusal else 0


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
    """Make a fresh code for ``mobile`` and ``purpose`` and queue its SMS (the job
    ``send_sms_code``, enqueued in the same transaction: a code is either made and queued,
    or neither); earlier unused codes of the same number and purpose stop working.
    Raises ``OtpError`` (with ``retry_after`` for a limit) and then nothing was made.

    Race-free: the number's gate row is locked while the limits are checked and the
    challenge that counts in them is created, so of N simultaneous requests exactly one
    is queued. A challenge counts from the moment it is queued; one the gateway refused
    (``failed``) does not."""
    from shebao.accounts.tasks import send_sms_code

    index = mobile_index(mobile)
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        SmsNumberGate.objects.bulk_create([SmsNumberGate(mobile_index=index)], ignore_conflicts=True)
        SmsNumberGate.objects.select_for_update().get(mobile_index=index)
        refusal = _limit_refusal(_sends(index, now), now)
        if refusal is not None:
            raise refusal
        SmsChallenge.objects.filter(mobile_index=index, purpose=purpose, used_at__isnull=True).update(used_at=now)
        challenge = SmsChallenge(
            public_id=crypto.random_token(),
            mobile_index=index,
            purpose=purpose,
            code_hash=crypto.hash_secret(code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.OTP_TTL_SECONDS),
            send_state=SmsSendState.QUEUED,
            mobile=mobile,
            code_sealed=code,
        )
        challenge.save()
        send_sms_code.enqueue(challenge_id=challenge.public_id, request_id=request_id)
    logger.info("sms code queued", extra={"mobile": mask_mobile(mobile), "purpose": str(purpose)})
    return challenge


SEND_FAILED_MESSAGE = "短信发送失败，请稍后重新获取验证码"
EXPIRED_UNSENT_MESSAGE = "验证码未能及时发出，请重新获取验证码"


def _finish(challenge: SmsChallenge, *, state: SmsSendState, now: dt.datetime, error: str = "", provider_ref: str = "") -> bool:
    """Record the send's outcome once: only a still-queued challenge changes (a second run
    of the job finds it done); the number and the code are erased."""
    return bool(SmsChallenge.objects.filter(pk=challenge.pk, send_state=SmsSendState.QUEUED).update(
        send_state=state, sent_at=now if state == SmsSendState.SENT else None, send_error=error[:100],
        provider_ref=provider_ref[:64], mobile="", code_sealed="",
    ))


def otp_deliver(*, challenge_id: str, now: dt.datetime, request_id: str = "", last_try: bool = False) -> str:
    """Hand a queued code to the gateway (the job ``send_sms_code``); the state it leaves.

    Safe to run again: a challenge already sent or failed is left alone. A run killed
    between the gateway's answer and the update sends the same code once more when the job
    is run again (harmless: one more message with the code the person is waiting for).
    A retryable gateway error is raised for the job to retry with backoff, unless
    ``last_try``; flow control and final errors are recorded in the person's words."""
    challenge = SmsChallenge.objects.filter(public_id=challenge_id).first()
    if challenge is None or challenge.send_state != SmsSendState.QUEUED:
        return challenge.send_state if challenge else "missing"
    if challenge.used_at is not None or challenge.expires_at <= now:
        _finish(challenge, state=SmsSendState.FAILED, now=now, error=EXPIRED_UNSENT_MESSAGE)
        return SmsSendState.FAILED
    mobile = challenge.mobile
    try:
        result = get_sms_gateway().send_code(mobile=mobile, code=challenge.code_sealed, request_id=request_id)
    except SmsRateLimited as exc:
        logger.warning("sms refused by gateway flow control", extra={"mobile": mask_mobile(mobile), "code": exc.code, "window": exc.window})
        _finish(challenge, state=SmsSendState.FAILED, now=now, error=str(_gateway_refusal(exc, now)))
        return SmsSendState.FAILED
    except SmsError as exc:
        logger.warning("sms send failed", extra={"mobile": mask_mobile(mobile), "code": exc.code, "retryable": exc.retryable})
        if exc.retryable and not last_try:
            raise
        _finish(challenge, state=SmsSendState.FAILED, now=now, error=SEND_FAILED_MESSAGE)
        return SmsSendState.FAILED
    _finish(challenge, state=SmsSendState.SENT, now=now, provider_ref=result.provider_ref)
    logger.info("sms code sent", extra={"mobile": mask_mobile(mobile), "purpose": challenge.purpose})
    return SmsSendState.SENT


@dataclass(frozen=True)
class SmsStatus:
    """Where a code's SMS stands, for the page that asked for it."""

    state: str  # queued / sent / failed
    message: str = ""


def otp_send_status(*, challenge_id: str, now: dt.datetime) -> SmsStatus:
    challenge = SmsChallenge.objects.filter(public_id=challenge_id).only("send_state", "send_error", "expires_at").first()
    if challenge is None:
        return SmsStatus(SmsSendState.FAILED, EXPIRED_UNSENT_MESSAGE)
    if challenge.send_state == SmsSendState.QUEUED and challenge.expires_at <= now:
        return SmsStatus(SmsSendState.FAILED, EXPIRED_UNSENT_MESSAGE)
    return SmsStatus(challenge.send_state, challenge.send_error)


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
        .exclude(send_state=SmsSendState.FAILED)
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

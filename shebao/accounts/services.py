"""User-centre services (REQUIREMENTS §1): registration, login, information
upkeep, step-up confirmation and WeChat binding. The only writers of accounts."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from shebao.accounts import throttle
from shebao.accounts.models import Account, SmsNotice, SmsPurpose, SmsSendState, WechatBinding
from shebao.accounts.otp import OtpError, mobile_index, otp_consume
from shebao.adapters.identity import IdentityCheckUnavailable, IdentityOutcome, IdentityVerdict, get_identity_check
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor, AuthMethod
from shebao.common.hashers import password_check_slot
from shebao.common.idempotency import fingerprint, idempotency_claim, idempotency_complete
from shebao.common.identity import identity_index
from shebao.common.masking import mask_address, mask_id_number, mask_mobile, mask_name

logger = logging.getLogger("shebao.accounts")

LOGIN_FAILED_MESSAGE = "证件号码（或手机号码）或密码不正确"
IDENTITY_MESSAGES = {
    IdentityOutcome.INCONSISTENT: "姓名、证件号码与手机号码的实名登记信息不一致，请核对（须使用本人实名登记的手机号码）",
    IdentityOutcome.NO_RECORD: "未查询到该手机号码的实名登记信息，请使用本人实名登记的手机号码",
}
IDENTITY_UNAVAILABLE_MESSAGE = "实名核验服务暂不可用，请稍后再试"
IDENTITY_UNSUPPORTED_MESSAGE = "该证件类型暂不支持线上实名核验，请携带证件到就近办税服务厅办理"
CORE_NAME_MISMATCH_MESSAGE = "姓名与该证件号码的社保登记信息不一致，请核对"


class AccountError(Exception):
    """A user-centre request was refused; the message is for the person."""


@dataclass(frozen=True)
class Registration:
    person_type: str
    name: str
    id_type: str
    id_number: str
    mobile: str
    password: str


# ---------------------------------------------------------------- real-name check (实名核验)
def real_name_check(*, name: str, id_type: str, id_number: str, mobile: str, actor: Actor,
                    check_core: bool = True) -> tuple[IdentityVerdict | None, str]:
    """(verdict, message for the person) of the real-name check; the message is empty
    when it passed. Runs inside the caller's transaction, after the SMS code to ``mobile``
    was accepted: the carrier call is billed and answers "do these belong together", so
    only someone holding the phone may ask, once per SMS code (1 a minute, 10 a day).

    1. ``check_core``: where the core holds a registration for the document, ``name``
       must be its name (checked first: it is local and free).
    2. The carrier three-element check (``shebao.adapters.identity``): inconsistent or no
       record → refused; the caller's transaction commits (the spent code stays spent).
    3. No verdict (vendor unreachable, throttled, ...): the caller's transaction is marked
       for rollback — nothing is stored, the SMS code stays usable — and the message says
       to try later. The HTTP call is bounded by ``IDENTITY_CHECK["TIMEOUT_SECONDS"]``."""
    if check_core:
        from shebao.adapters.core import get_core

        if get_core().registration_name_matches(name=name, id_type=id_type, id_number=id_number) is False:
            return None, CORE_NAME_MISMATCH_MESSAGE
    try:
        verdict = get_identity_check().check_mobile(
            name=name, id_type=id_type, id_number=id_number, mobile=mobile, request_id=actor.request_id
        )
    except IdentityCheckUnavailable:
        transaction.set_rollback(True)
        return None, IDENTITY_UNAVAILABLE_MESSAGE
    return verdict, "" if verdict.consistent else IDENTITY_MESSAGES[verdict.outcome]


def _identity_fields(verdict: IdentityVerdict, now: dt.datetime) -> dict:
    """What an account keeps of a passed check: the outcome, the vendor's request id and
    the time — never the vendor's answer or the values sent."""
    return {"identity_check_result": str(verdict.outcome), "identity_check_ref": verdict.provider_ref[:64], "identity_verified_at": now}


# ---------------------------------------------------------------- registration
def account_register(*, data: Registration, sms_code: str, idempotency_key: str, actor: Actor, now: dt.datetime) -> Account:
    """用户实名注册 (REQUIREMENTS §1.1): accepted automatically when the SMS code
    is right, the real-name check passes (``real_name_check``: the core's name for
    the document, then the carriers' three elements) and the document is not
    registered yet; archived. A retried post with the same idempotency key returns
    the account created the first time. Documents the carriers cannot check are
    refused before anything else."""
    id_index = identity_index(id_type=data.id_type, id_number=data.id_number)
    request_hash = fingerprint({"id": id_index, "mobile": mobile_index(data.mobile), "type": data.person_type})
    error = ""
    if not get_identity_check().supports(data.id_type):
        raise AccountError(IDENTITY_UNSUPPORTED_MESSAGE)
    with transaction.atomic():
        claim = idempotency_claim(scope="account_register", key=idempotency_key, request_hash=request_hash)
        if not claim.fresh and claim.row.result:
            return Account.objects.get(public_id=claim.row.result)
        outcome = otp_consume(mobile=data.mobile, purpose=SmsPurpose.REGISTER, code=sms_code, now=now)
        verdict, error = (None, outcome.message) if not outcome.ok else real_name_check(
            name=data.name, id_type=data.id_type, id_number=data.id_number, mobile=data.mobile, actor=actor)
        if not error and Account.objects.filter(id_index=id_index).exists():
            error = "该证件号码已注册。如是本人，请直接登录；忘记密码请联系12366。"
        if error:
            if not transaction.get_rollback():  # an unavailable check rolls back everything, the claim too
                claim.row.delete()  # the key may be used again; counted wrong tries stay
        else:
            account = _account_create(data=data, id_index=id_index, now=now, verdict=verdict)
            idempotency_complete(claim, result=account.public_id)
            archive_append(
                business_type="registration",
                business_ref=account.public_id,
                subject_ref=account.public_id,
                data={
                    "person_type": data.person_type,
                    "name": data.name,
                    "id_type": data.id_type,
                    "id_number": data.id_number,
                    "mobile": data.mobile,
                    "registered_at": now.isoformat(),
                    "real_name_check": {"result": account.identity_check_result, "ref": account.identity_check_ref},
                },
                now=now,
            )
            audit_record(actor=actor.signed_in_as(account, method=AuthMethod.NONE, at=now), action="account.register",
                         subject_type="account", subject_ref=account.public_id, now=now)
            return account
    audit_record(actor=actor, action="account.register", outcome="failure", now=now)
    raise AccountError(error)


def _account_create(*, data: Registration, id_index: str, now: dt.datetime, verdict: IdentityVerdict) -> Account:
    public_id = crypto.random_token(12)
    account = Account(
        public_id=public_id,
        username=f"u_{public_id}",
        person_type=data.person_type,
        name=data.name,
        id_type=data.id_type,
        id_number=data.id_number,
        id_index=id_index,
        mobile=data.mobile,
        mobile_index=mobile_index(data.mobile),
        real_name_verified=True,
        **_identity_fields(verdict, now),
        created_at=now,
    )
    account.set_password(data.password)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:  # a concurrent registration of the same document won
        raise AccountError("该证件号码已注册。如是本人，请直接登录；忘记密码请联系12366。") from exc
    return account


# ---------------------------------------------------------------- login
def _find_login_account(identifier: str) -> Account | None:
    ident = identifier.strip().upper()
    if ident.isdigit() and len(ident) == 11:
        matches = list(Account.objects.filter(mobile_index=mobile_index(ident), is_active=True, is_staff=False)[:2])
        return matches[0] if len(matches) == 1 else None
    return (
        Account.objects.filter(is_active=True, is_staff=False)
        .filter(id_index__in=[identity_index(id_type=t, id_number=ident) for t, _ in Account._meta.get_field("id_type").choices])
        .first()
    )


def login_check_password(*, identifier: str, password: str, actor: Actor, now: dt.datetime) -> Account:
    """First login step (REQUIREMENTS §1.3): document number or mobile + password.
    The same message whether the account exists or not. Failures are counted per
    account (ID number and mobile together), per typed identifier when it matches no
    account, and per client address -- see shebao.accounts.throttle for the windows.
    The password check holds an argon2 slot (shebao.common.hashers); when none is free
    PasswordChecksBusy propagates (429) before anything is counted."""
    account = _find_login_account(identifier)
    subject = throttle.account_subject(account) if account is not None else throttle.identifier_subject(identifier)
    with password_check_slot():
        try:
            throttle.attempt_begin(subject, actor.client_address)
        except throttle.Locked as exc:
            raise AccountError(str(exc)) from None
        if account is None:
            make_password(password)  # same work as a real check: no timing oracle
            ok = False
        else:
            ok = account.check_password(password)
    if ok:
        throttle.attempt_succeeded(subject)
        locked = None
    else:
        locked = throttle.attempt_failed(subject, actor.client_address)
    audit_record(actor=actor.signed_in_as(account, method=AuthMethod.PASSWORD, at=now) if ok else actor,
                 action="account.login.password", outcome="success" if ok else "failure", now=now)
    if not ok:
        raise AccountError(str(locked) if locked else LOGIN_FAILED_MESSAGE)
    return account


def login_verify_code(*, account: Account, code: str, actor: Actor, now: dt.datetime) -> Actor:
    """Second login step: the SMS code sent to the account's own mobile. Returns the actor
    signed in (password + SMS, which also counts as the step-up for money operations)."""
    with transaction.atomic():
        outcome = otp_consume(mobile=account.mobile, purpose=SmsPurpose.LOGIN, code=code, now=now)
    signed_in = actor.signed_in_as(account, method=AuthMethod.PASSWORD_SMS, at=now).with_step_up(now)
    audit_record(actor=signed_in if outcome.ok else actor, action="account.login.sms", outcome="success" if outcome.ok else "failure",
                 subject_type="account", subject_ref=account.public_id, now=now)
    if not outcome.ok:
        raise AccountError(outcome.message)
    return signed_in


# ---------------------------------------------------------------- information upkeep
def account_change_mobile(*, actor: Actor, new_mobile: str, sms_code: str, password: str, now: dt.datetime) -> None:
    """信息维护 (REQUIREMENTS §1.2): a new mobile, verified by a code sent to it,
    after re-entering the password (ASVS v5.0.0-7.5.1), that passes the carrier
    real-name check with the account's own name and document; archived and audited.
    The password re-check counts in the login throttle of the account (a session is
    no password oracle). After the change the account's other sessions end and the
    old number gets a notice (_after_mobile_change)."""
    account = actor.citizen_account()
    subject = throttle.account_subject(account)
    with password_check_slot():
        try:
            throttle.attempt_begin(subject, actor.client_address)
        except throttle.Locked as exc:
            audit_record(actor=actor, action="account.change_mobile", outcome="failure", now=now)
            raise AccountError(str(exc)) from None
        ok = account.check_password(password)
    if not ok:
        locked = throttle.attempt_failed(subject, actor.client_address)
        audit_record(actor=actor, action="account.change_mobile", outcome="failure", now=now)
        raise AccountError(str(locked) if locked else "登录密码不正确")
    throttle.attempt_succeeded(subject)
    if new_mobile == account.mobile:
        raise AccountError("新手机号码与原号码相同")
    if not get_identity_check().supports(account.id_type):
        raise AccountError(IDENTITY_UNSUPPORTED_MESSAGE)
    with transaction.atomic():
        outcome = otp_consume(mobile=new_mobile, purpose=SmsPurpose.CHANGE_MOBILE, code=sms_code, now=now)
        verdict, error = (None, outcome.message) if not outcome.ok else real_name_check(
            name=account.name, id_type=account.id_type, id_number=account.id_number, mobile=new_mobile, check_core=False,
            actor=actor)
        if not error:
            old = account.mobile
            account.mobile, account.mobile_index = new_mobile, mobile_index(new_mobile)
            checked = _identity_fields(verdict, now)
            for field, value in checked.items():
                setattr(account, field, value)
            # save, not update(): the ciphertext is bound to the row
            account.save(update_fields=["mobile", "mobile_index", *checked])
            account.refresh_from_db()
            _archive_info_update(account, field="mobile", value=new_mobile, now=now)
            audit_record(
                actor=actor, action="account.change_mobile", subject_type="account", subject_ref=account.public_id,
                changes={"mobile": {"old": mask_mobile(old), "new": mask_mobile(new_mobile)}}, now=now,
            )
            _queue_mobile_changed_notice(actor=actor, account=account, old_mobile=old, now=now)
    if error:
        raise AccountError(error)
    _after_mobile_change(actor=actor, account=account, old_mobile=old, now=now)


def _after_mobile_change(*, actor: Actor, account: Account, old_mobile: str, now: dt.datetime) -> None:
    """End the account's other sessions (the current one stays), audited."""
    from shebao.accounts.sessions import end_other_sessions

    ended = end_other_sessions(account, keep=actor.session_key)
    audit_record(
        actor=actor, action="account.sessions.end_others", subject_type="account", subject_ref=account.public_id,
        changes={"other_sessions": {"old": ended, "new": 0}}, now=now,
    )


def _queue_mobile_changed_notice(*, actor: Actor, account: Account, old_mobile: str, now: dt.datetime) -> None:
    """The old number is told of the change (手机号已变更), by a job queued with the change."""
    from django.utils import timezone

    local = timezone.localtime(now)
    params = {"time": f"{local.month}月{local.day}日{local:%H:%M}", "mobile": mask_mobile(account.mobile)}
    sms_notice_queue(mobile=old_mobile, notice="mobile_changed", params=params, subject_ref=account.public_id,
                     request_id=actor.request_id, now=now)


def sms_notice_queue(*, mobile: str, notice: str, params: dict[str, str], subject_ref: str, request_id: str,
                     now: dt.datetime) -> SmsNotice:
    """Queue an SMS notice: its row (the number encrypted on it) and its job, in the caller's
    transaction, so a rolled-back change sends nothing and a committed one loses nothing."""
    from shebao.accounts.tasks import send_sms_notice

    with transaction.atomic():
        row = SmsNotice(public_id=crypto.random_token(), notice=notice, subject_ref=subject_ref, mobile=mobile,
                        mobile_masked=mask_mobile(mobile), params=params, request_id=request_id, created_at=now)
        row.save()
        send_sms_notice.enqueue(notice_id=row.public_id)
    return row


# the audit action a notice's outcome is recorded under
NOTICE_AUDIT_ACTIONS = {"mobile_changed": "account.change_mobile.notice"}


def sms_notice_deliver(*, notice_id: str, now: dt.datetime, last_try: bool = False) -> str:
    """Send a queued notice (the job ``send_sms_notice``); the state it leaves, audited.

    Safe to run again: a notice already sent or failed is left alone (a run killed between
    the gateway's answer and the update sends it once more when run again). A retryable
    gateway error is raised for the job to retry with backoff, unless ``last_try``; a
    final one is recorded and audited as a failure, and never undoes what was noticed."""
    from shebao.adapters.sms import SmsError, get_sms_gateway

    row = SmsNotice.objects.filter(public_id=notice_id).first()
    if row is None or row.send_state != SmsSendState.QUEUED:
        return row.send_state if row else "missing"
    try:
        result = get_sms_gateway().send_notice(mobile=row.mobile, notice=row.notice, params=row.params, request_id=row.request_id)
        state, error, ref = SmsSendState.SENT, "", result.provider_ref
    except SmsError as exc:
        logger.warning("sms notice not sent: %s", getattr(exc, "code", ""), extra={"subject_ref": row.subject_ref})
        if exc.retryable and not last_try:
            raise
        state, error, ref = SmsSendState.FAILED, f"{getattr(exc, 'code', '')} {exc}".strip(), ""
    with transaction.atomic():
        done = SmsNotice.objects.filter(pk=row.pk, send_state=SmsSendState.QUEUED).update(
            send_state=state, sent_at=now if state == SmsSendState.SENT else None, send_error=error[:100], provider_ref=ref[:64], mobile="")
        if done:
            audit_record(
                actor=Actor.system("send_sms_notice", request_id=row.request_id), action=NOTICE_AUDIT_ACTIONS.get(row.notice, f"sms.notice.{row.notice}"),
                subject_type="account", subject_ref=row.subject_ref, outcome="success" if state == SmsSendState.SENT else "failure",
                changes={"notice_to": {"old": row.mobile_masked, "new": ""}}, now=now,
            )
    return state


def account_update_address(*, actor: Actor, address: str, now: dt.datetime) -> None:
    """Contact address upkeep (REQUIREMENTS §1.2); archived and audited."""
    account = actor.citizen_account()
    with transaction.atomic():
        old = account.address
        account.address = address
        account.save(update_fields=["address"])
        _archive_info_update(account, field="address", value=address, now=now)
        audit_record(
            actor=actor, action="account.change_address", subject_type="account", subject_ref=account.public_id,
            changes={"address": {"old": mask_address(old), "new": mask_address(address)}}, now=now,
        )


def _archive_info_update(account: Account, *, field: str, value: str, now: dt.datetime) -> None:
    archive_append(
        business_type="info_update",
        business_ref=f"{account.public_id}:{field}:{int(now.timestamp())}",
        subject_ref=account.public_id,
        data={"field": field, "value": value, "name": account.name, "id_number": account.id_number, "updated_at": now.isoformat()},
        now=now,
    )


# ---------------------------------------------------------------- step-up for money operations
def step_up_verify(*, actor: Actor, code: str, now: dt.datetime) -> Actor:
    """A fresh SMS code before a money operation (valid ``STEP_UP_VALID_SECONDS``). Returns
    the actor with the step-up; the web door keeps it in the session
    (``shebao.common.actor.remember_step_up``)."""
    account = actor.citizen_account()
    with transaction.atomic():
        outcome = otp_consume(mobile=account.mobile, purpose=SmsPurpose.STEP_UP, code=code, now=now)
    audit_record(actor=actor, action="account.step_up", outcome="success" if outcome.ok else "failure", now=now)
    if not outcome.ok:
        raise AccountError(outcome.message)
    return actor.with_step_up(now)


# ---------------------------------------------------------------- WeChat binding
def wechat_bind(*, actor: Actor, appid: str, openid: str, now: dt.datetime) -> WechatBinding:
    """Bind a WeChat openid (snsapi_base) to the account, for notices. An openid
    already bound to another account is refused; binding twice is a no-op."""
    account = actor.citizen_account()
    index = crypto.blind_index(f"{appid}:{openid}", purpose="openid")
    with transaction.atomic():
        existing = WechatBinding.objects.select_for_update().filter(appid=appid, openid_index=index).first()
        if existing is not None:
            if existing.account_id != account.pk:
                raise AccountError("该微信已绑定其他账号，请先在原账号中解除绑定")
            return existing
        binding = WechatBinding.objects.create(account=account, appid=appid, openid_index=index, openid=openid, bound_at=now)
        archive_append(
            business_type="wechat_binding", business_ref=f"wx:{binding.pk}", subject_ref=account.public_id,
            data={"appid": appid, "openid": openid, "bound_at": now.isoformat()}, now=now,
        )
        audit_record(actor=actor, action="account.wechat_bind", subject_type="account", subject_ref=account.public_id, now=now)
    return binding


def wechat_unbind(*, actor: Actor, now: dt.datetime) -> int:
    account = actor.citizen_account()
    with transaction.atomic():
        count, _ = WechatBinding.objects.filter(account=account).delete()
        if count:
            audit_record(actor=actor, action="account.wechat_unbind", subject_type="account", subject_ref=account.public_id, now=now)
    return count


def masked_identity(account: Account) -> dict[str, str]:
    """What screens show of a person (GB/T 35273 §7.2)."""
    return {
        "name": account.name,
        "name_masked": mask_name(account.name),
        "id_number": mask_id_number(account.id_number),
        "mobile": mask_mobile(account.mobile),
        "address": account.address,
    }


__all__ = [
    "AccountError", "OtpError", "Registration", "account_register", "real_name_check", "login_check_password", "login_verify_code",
    "account_change_mobile", "account_update_address", "step_up_verify", "wechat_bind",
    "wechat_unbind", "masked_identity", "LOGIN_FAILED_MESSAGE",
]

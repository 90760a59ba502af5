"""User-centre services (REQUIREMENTS §1): registration, login, information
upkeep, step-up confirmation and WeChat binding. The only writers of accounts."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from shebao.accounts.models import Account, LoginThrottle, SmsPurpose, WechatBinding
from shebao.accounts.otp import OtpError, mobile_index, otp_consume
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.idempotency import fingerprint, idempotency_claim, idempotency_complete
from shebao.common.masking import mask_address, mask_id_number, mask_mobile, mask_name
from shebao.core.selectors import identity_index

logger = logging.getLogger("shebao.accounts")

LOGIN_FAILED_MESSAGE = "证件号码（或手机号码）或密码不正确"


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


# ---------------------------------------------------------------- registration
def account_register(*, data: Registration, sms_code: str, idempotency_key: str, now: dt.datetime, request=None) -> Account:
    """用户实名注册 (REQUIREMENTS §1.1): accepted automatically when the SMS code
    is right and the document is not registered yet; archived. A retried post
    with the same idempotency key returns the account created the first time."""
    id_index = identity_index(id_type=data.id_type, id_number=data.id_number)
    request_hash = fingerprint({"id": id_index, "mobile": mobile_index(data.mobile), "type": data.person_type})
    error = ""
    with transaction.atomic():
        claim = idempotency_claim(scope="account_register", key=idempotency_key, request_hash=request_hash)
        if not claim.fresh and claim.row.result:
            return Account.objects.get(public_id=claim.row.result)
        outcome = otp_consume(mobile=data.mobile, purpose=SmsPurpose.REGISTER, code=sms_code, now=now)
        if not outcome.ok:
            error = outcome.message
        elif Account.objects.filter(id_index=id_index).exists():
            error = "该证件号码已注册。如是本人，请直接登录；忘记密码请联系12366。"
        if error:
            claim.row.delete()  # the key may be used again; counted wrong tries stay
        else:
            account = _account_create(data=data, id_index=id_index, now=now)
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
                },
                now=now,
            )
            audit_record(actor=account, action="account.register", subject_type="account", subject_ref=account.public_id, request=request, now=now)
            return account
    audit_record(actor=None, action="account.register", outcome="failure", request=request, now=now)
    raise AccountError(error)


def _account_create(*, data: Registration, id_index: str, now: dt.datetime) -> Account:
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
def _identifier_index(identifier: str) -> str:
    return crypto.blind_index(identifier.strip().upper(), purpose="login-identifier")


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


def login_check_password(*, identifier: str, password: str, now: dt.datetime, request=None) -> Account:
    """First login step (REQUIREMENTS §1.3): document number or mobile + password.
    The same message whether the account exists or not; after
    LOGIN_MAX_FAILURES failures the identifier is locked for LOGIN_LOCK_SECONDS."""
    index = _identifier_index(identifier)
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(identifier_index=index, defaults={"updated_at": now})
        if throttle.locked_until and throttle.locked_until > now:
            minutes = max(1, int((throttle.locked_until - now).total_seconds() // 60) + 1)
            raise AccountError(f"登录失败次数过多，请{minutes}分钟后再试")
        account = _find_login_account(identifier)
        if account is None:
            make_password(password)  # same work as a real check: no timing oracle
            ok = False
        else:
            ok = account.check_password(password)
        if ok:
            throttle.failures = 0
            throttle.locked_until = None
        else:
            throttle.failures += 1
            if throttle.failures >= settings.LOGIN_MAX_FAILURES:
                throttle.locked_until = now + dt.timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
                throttle.failures = 0
        throttle.updated_at = now
        throttle.save()
    audit_record(actor=account if ok else None, action="account.login.password", outcome="success" if ok else "failure", request=request, now=now)
    if not ok:
        if throttle.locked_until:
            raise AccountError(f"登录失败次数过多，请{settings.LOGIN_LOCK_SECONDS // 60}分钟后再试")
        raise AccountError(LOGIN_FAILED_MESSAGE)
    return account


def login_verify_code(*, account: Account, code: str, now: dt.datetime, request=None) -> None:
    """Second login step: the SMS code sent to the account's own mobile."""
    with transaction.atomic():
        outcome = otp_consume(mobile=account.mobile, purpose=SmsPurpose.LOGIN, code=code, now=now)
    audit_record(actor=account, action="account.login.sms", outcome="success" if outcome.ok else "failure", request=request, now=now)
    if not outcome.ok:
        raise AccountError(outcome.message)


# ---------------------------------------------------------------- information upkeep
def account_change_mobile(*, account: Account, new_mobile: str, sms_code: str, password: str, now: dt.datetime, request=None) -> None:
    """信息维护 (REQUIREMENTS §1.2): a new mobile, verified by a code sent to it,
    after re-entering the password (ASVS v5.0.0-7.5.1); archived and audited."""
    if not account.check_password(password):
        audit_record(actor=account, action="account.change_mobile", outcome="failure", request=request, now=now)
        raise AccountError("登录密码不正确")
    if new_mobile == account.mobile:
        raise AccountError("新手机号码与原号码相同")
    with transaction.atomic():
        outcome = otp_consume(mobile=new_mobile, purpose=SmsPurpose.CHANGE_MOBILE, code=sms_code, now=now)
        if outcome.ok:
            old = account.mobile
            account.mobile, account.mobile_index = new_mobile, mobile_index(new_mobile)
            account.save(update_fields=["mobile", "mobile_index"])  # save, not update(): the ciphertext is bound to the row
            account.refresh_from_db()
            _archive_info_update(account, field="mobile", value=new_mobile, now=now)
            audit_record(
                actor=account, action="account.change_mobile", subject_type="account", subject_ref=account.public_id,
                changes={"mobile": {"old": mask_mobile(old), "new": mask_mobile(new_mobile)}}, request=request, now=now,
            )
    if not outcome.ok:
        raise AccountError(outcome.message)


def account_update_address(*, account: Account, address: str, now: dt.datetime, request=None) -> None:
    """Contact address upkeep (REQUIREMENTS §1.2); archived and audited."""
    with transaction.atomic():
        old = account.address
        account.address = address
        account.save(update_fields=["address"])
        _archive_info_update(account, field="address", value=address, now=now)
        audit_record(
            actor=account, action="account.change_address", subject_type="account", subject_ref=account.public_id,
            changes={"address": {"old": mask_address(old), "new": mask_address(address)}}, request=request, now=now,
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
STEP_UP_SESSION_KEY = "step_up_at"


def step_up_verify(*, account: Account, code: str, session, now: dt.datetime, request=None) -> None:
    """A fresh SMS code before a money operation; remembered STEP_UP_VALID_SECONDS."""
    with transaction.atomic():
        outcome = otp_consume(mobile=account.mobile, purpose=SmsPurpose.STEP_UP, code=code, now=now)
    audit_record(actor=account, action="account.step_up", outcome="success" if outcome.ok else "failure", request=request, now=now)
    if not outcome.ok:
        raise AccountError(outcome.message)
    session[STEP_UP_SESSION_KEY] = int(now.timestamp())


def step_up_is_fresh(*, session, now: dt.datetime) -> bool:
    at = session.get(STEP_UP_SESSION_KEY)
    return at is not None and 0 <= now.timestamp() - at <= settings.STEP_UP_VALID_SECONDS


# ---------------------------------------------------------------- WeChat binding
def wechat_bind(*, account: Account, appid: str, openid: str, now: dt.datetime, request=None) -> WechatBinding:
    """Bind a WeChat openid (snsapi_base) to the account, for notices. An openid
    already bound to another account is refused; binding twice is a no-op."""
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
        audit_record(actor=account, action="account.wechat_bind", subject_type="account", subject_ref=account.public_id, request=request, now=now)
    return binding


def wechat_unbind(*, account: Account, now: dt.datetime, request=None) -> int:
    with transaction.atomic():
        count, _ = WechatBinding.objects.filter(account=account).delete()
        if count:
            audit_record(actor=account, action="account.wechat_unbind", subject_type="account", subject_ref=account.public_id, request=request, now=now)
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
    "AccountError", "OtpError", "Registration", "account_register", "login_check_password", "login_verify_code",
    "account_change_mobile", "account_update_address", "step_up_verify", "step_up_is_fresh", "wechat_bind",
    "wechat_unbind", "masked_identity", "LOGIN_FAILED_MESSAGE",
]

"""Single sign-on services (REQUIREMENTS §1.4, issue 13): the only writers of partner
channels, nonces and SSO logins, and of the accounts that SSO creates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from shebao.accounts.models import Account
from shebao.accounts.otp import mobile_index
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor, AuthMethod, Door
from shebao.common.identity import identity_index
from shebao.sso.errors import SsoRefused
from shebao.sso.models import NonceScope, PartnerChannel, PartnerNonce, SsoLogin
from shebao.sso.tickets import PartnerIdentity, ticket_read

logger = logging.getLogger("shebao.sso")


@dataclass(frozen=True)
class Arrival:
    """A person signed on through a channel: the account, the login row binding our session
    to the partner's, and where the partner wants them sent back."""

    account: Account
    login: SsoLogin
    channel: PartnerChannel
    actor: Actor
    return_url: str


def _refusal(exc: SsoRefused, *, actor: Actor, action: str, now: dt.datetime) -> None:
    """Log and audit a refusal (outside the rolled-back transaction): the code, never the data."""
    logger.warning("sso refused %s", exc.code, extra={"refusal": exc.code, "channel": exc.channel, "sso_action": action})
    audit_record(actor=actor, action=action, outcome="failure", subject_type="partner_channel", subject_ref=exc.channel,
                 changes={"reason": {"old": None, "new": exc.code}}, now=now)


def sso_ticket_arrive(*, token: str, actor: Actor, now: dt.datetime) -> Arrival:
    """A person arrives with a partner's signed ticket: every check of ``tickets.ticket_read``,
    then the nonce claimed once (a unique row, so two copies racing each other sign in once),
    then the person's account found or created (``_account_for``). Refused: logged, audited,
    nothing kept, :class:`SsoRefused` raised."""
    try:
        channel, identity = ticket_read(token, now=now)
        with transaction.atomic():
            nonce_claim(channel=channel, scope=NonceScope.TICKET, nonce=identity.nonce, expires_at=identity.expires_at, now=now)
            return _sign_on(channel=channel, identity=identity, method=AuthMethod.PARTNER_TICKET, actor=actor, now=now)
    except SsoRefused as exc:
        _refusal(exc, actor=actor, action="sso.arrival", now=now)
        raise


def nonce_claim(*, channel: PartnerChannel, scope: str, nonce: str, expires_at: dt.datetime, now: dt.datetime) -> None:
    """Claim a partner's nonce by unique insert; a second use raises ``replayed``. Old nonces
    (past their ticket's or request's window) are pruned as a side effect."""
    PartnerNonce.objects.filter(channel=channel, expires_at__lt=now - dt.timedelta(minutes=5)).delete()
    try:
        with transaction.atomic():
            PartnerNonce.objects.create(channel=channel, scope=scope, nonce=nonce, seen_at=now, expires_at=expires_at)
    except IntegrityError:
        raise SsoRefused("replayed", channel=channel.identifier) from None


def _sign_on(*, channel: PartnerChannel, identity: PartnerIdentity, method: AuthMethod, actor: Actor, now: dt.datetime) -> Arrival:
    account = _account_for(channel=channel, identity=identity, actor=actor, now=now)
    login = SsoLogin.objects.create(public_id=crypto.random_token(12), channel=channel, account=account,
                                    partner_session=identity.partner_session, return_url=identity.return_url[:300], created_at=now)
    signed_in = dataclasses.replace(actor.signed_in_as(account, method=method, at=now), door=Door.SSO)
    audit_record(actor=signed_in, action="sso.arrival", subject_type="sso_login", subject_ref=login.public_id, now=now)
    return Arrival(account=account, login=login, channel=channel, actor=signed_in, return_url=identity.return_url)


def _account_for(*, channel: PartnerChannel, identity: PartnerIdentity, actor: Actor, now: dt.datetime) -> Account:
    """The person's account: the one registered for the document, whose name must be the
    ticket's; or, for a document without an account, a new one -- only when the core's name
    for the document (where it holds one) is the ticket's, and the person type is known (the
    core's, else the ticket's)."""
    from shebao.adapters.core import get_core

    index = identity_index(id_type=identity.id_type, id_number=identity.id_number)
    account = Account.objects.filter(id_index=index, is_staff=False).first()
    if account is not None:
        if account.name != identity.name:
            raise SsoRefused("name_mismatch", channel=channel.identifier)
        if not account.is_active:
            raise SsoRefused("account_disabled", channel=channel.identifier)
        return account
    core = get_core()
    if core.registration_name_matches(name=identity.name, id_type=identity.id_type, id_number=identity.id_number) is False:
        raise SsoRefused("name_mismatch", channel=channel.identifier)
    profile = core.payer_profile_by_identity(name=identity.name, id_type=identity.id_type, id_number=identity.id_number)
    person_type = profile.person_type if profile is not None else identity.person_type
    if not person_type:
        raise SsoRefused("not_registered", channel=channel.identifier)
    return _account_create(channel=channel, identity=identity, index=index, person_type=person_type, now=now)


def _account_create(*, channel: PartnerChannel, identity: PartnerIdentity, index: str, person_type: str, now: dt.datetime) -> Account:
    public_id = crypto.random_token(12)
    account = Account(public_id=public_id, username=f"u_{public_id}", person_type=person_type, name=identity.name,
                      id_type=identity.id_type, id_number=identity.id_number, id_index=index, mobile=identity.mobile,
                      mobile_index=mobile_index(identity.mobile), real_name_verified=True,
                      identity_check_ref=f"partner:{channel.identifier}"[:64], identity_verified_at=now, created_at=now)
    account.set_unusable_password()  # signs in through the partner; a password can be set by registering
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:  # a concurrent arrival of the same person created it: use that one
        account = Account.objects.get(id_index=index)
        if account.name != identity.name:
            raise SsoRefused("name_mismatch", channel=channel.identifier) from None
        return account
    archive_append(business_type="registration", business_ref=public_id, subject_ref=public_id, now=now, data={
        "person_type": person_type, "name": identity.name, "id_type": identity.id_type, "id_number": identity.id_number,
        "nationality": identity.nationality, "mobile": identity.mobile, "registered_at": now.isoformat(),
        "real_name_check": {"result": "partner", "ref": f"partner:{channel.identifier}"},
    })
    return account


def sso_login_attach(*, login: SsoLogin, session_key: str) -> None:
    """Remember which of our sessions the login is (after the session key was rotated)."""
    login.session_key = session_key
    login.save(update_fields=["session_key"])


def sso_login_end(*, login_id: str, reason: str, actor: Actor, now: dt.datetime) -> int:
    """End an SSO login (the partner said no, or asked us to sign the person out): the row is
    closed and its session deleted through the configured engine. How many were ended."""
    from importlib import import_module

    from django.conf import settings

    with transaction.atomic():
        login = SsoLogin.objects.select_for_update().filter(public_id=login_id, ended_at__isnull=True).first()
        if login is None:
            return 0
        login.ended_at, login.end_reason = now, reason[:32]
        login.save(update_fields=["ended_at", "end_reason"])
        audit_record(actor=actor, action="sso.session.end", subject_type="sso_login", subject_ref=login.public_id,
                     changes={"reason": {"old": None, "new": reason}}, now=now)
    if login.session_key:
        import_module(settings.SESSION_ENGINE).SessionStore(session_key=login.session_key).delete()
    return 1


def sso_recheck(*, login_id: str, function: str, actor: Actor, now: dt.datetime) -> bool:
    """Ask the partner whether the person of an SSO login is still signed in there (the
    back-channel check, ``shebao.adapters.partner``) before they enter ``function``.
    Audited either way; on "no" (or no valid answer, or the channel switched off) the login
    ends and False is returned."""
    from django.conf import settings

    from shebao.adapters.partner import CheckVerdict, partner_check

    login = SsoLogin.objects.select_related("channel").filter(public_id=login_id, ended_at__isnull=True).first()
    if login is None:
        return False
    channel = login.channel
    if not channel.enabled:
        verdict = CheckVerdict(False, "channel_disabled")
    else:
        verdict = partner_check(check_url=channel.check_url, sig_alg=channel.signature_algorithm, public_key=channel.public_key,
                                partner_session=login.partner_session, function=function, request_id=actor.request_id,
                                timeout=settings.SSO["CHECK_TIMEOUT_SECONDS"], skew_seconds=settings.SSO["CLOCK_SKEW_SECONDS"])
    audit_record(actor=actor, action="sso.recheck", outcome="success" if verdict.active else "failure", subject_type="sso_login",
                 subject_ref=login.public_id, changes={"function": {"old": None, "new": function}, "answer": {"old": None, "new": verdict.reason}},
                 now=now)
    if not verdict.active:
        logger.info("sso session ended by recheck", extra={"channel": channel.identifier, "reason": verdict.reason})
        sso_login_end(login_id=login.public_id, reason=verdict.reason, actor=actor, now=now)
    return verdict.active


def sso_oidc_arrive(*, channel: PartnerChannel, claims: dict, actor: Actor, now: dt.datetime) -> Arrival:
    """A person arrives from an OpenID Connect partner with verified ID token claims
    (``oidc.oidc_finish``): the same identity checks, the token's nonce claimed once, the
    account found or created, as for a ticket."""
    from shebao.sso.tickets import oidc_identity

    try:
        identity = oidc_identity(claims, channel=channel, now=now)
        with transaction.atomic():
            nonce_claim(channel=channel, scope=NonceScope.TICKET, nonce=identity.nonce, expires_at=identity.expires_at, now=now)
            return _sign_on(channel=channel, identity=identity, method=AuthMethod.OIDC, actor=actor, now=now)
    except SsoRefused as exc:
        _refusal(exc, actor=actor, action="sso.arrival", now=now)
        raise


def sso_refusal_record(*, exc: SsoRefused, actor: Actor, now: dt.datetime) -> None:
    """Log and audit a refusal found before a service was reached (an OIDC callback)."""
    _refusal(exc, actor=actor, action="sso.arrival", now=now)

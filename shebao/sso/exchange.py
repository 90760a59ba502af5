"""The partner API's side of single sign-on (issue 13): a partner exchanges a ticket
server-to-server for a one-time arrival link (60 s), and may end the sessions of one of its
people (back-channel logout). The link holds no identity: the login's opaque id and a keyed
MAC of it, so a retried exchange (same idempotency key) answers the same link."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac

from django.db import transaction

from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor, AuthMethod, Door
from shebao.sso.errors import SsoRefused
from shebao.sso.models import NonceScope, PartnerChannel, SsoLogin
from shebao.sso.services import Arrival, _refusal, _sign_on, nonce_claim, sso_login_end
from shebao.sso.tickets import ticket_read

ARRIVAL_SECONDS = 60


def _mac_forms(login_id: str) -> tuple[str, ...]:
    return tuple(form.rpartition(":")[2][:40] for form in crypto.blind_index(login_id, purpose="sso-arrival").forms)


def arrival_code(login: SsoLogin) -> str:
    return f"{login.public_id}.{_mac_forms(login.public_id)[0]}"


def sso_ticket_exchange(*, channel: PartnerChannel, token: str, actor: Actor, now: dt.datetime) -> SsoLogin:
    """The partner ``channel`` (authenticated by its request signature, ``actor``) hands over a
    ticket it issued: every ticket check, the nonce once, the account found or created; the
    login then waits ``ARRIVAL_SECONDS`` for the browser (:func:`sso_arrival_redeem`)."""
    visitor = Actor.anonymous(door=Door.API, client_address=actor.client_address, request_id=actor.request_id)
    try:
        ticket_channel, identity = ticket_read(token, now=now)
        if ticket_channel.pk != channel.pk:
            raise SsoRefused("issuer_mismatch", channel=channel.identifier)
        with transaction.atomic():
            nonce_claim(channel=channel, scope=NonceScope.TICKET, nonce=identity.nonce, expires_at=identity.expires_at, now=now)
            arrival = _sign_on(channel=channel, identity=identity, method=AuthMethod.PARTNER_TICKET, actor=visitor, now=now)
            login = arrival.login
            login.arrival_expires_at = now + dt.timedelta(seconds=ARRIVAL_SECONDS)
            login.save(update_fields=["arrival_expires_at"])
            audit_record(actor=actor, action="sso.ticket.exchange", subject_type="sso_login", subject_ref=login.public_id, now=now)
            return login
    except SsoRefused as exc:
        _refusal(exc, actor=actor, action="sso.ticket.exchange", now=now)
        raise


def sso_arrival_redeem(*, code: str, actor: Actor, now: dt.datetime) -> Arrival:
    """The browser follows the arrival link: once, in time, for a live login of an enabled channel."""
    login_id, _, mac = (code or "").partition(".")
    try:
        with transaction.atomic():
            login = SsoLogin.objects.select_for_update().select_related("channel", "account").filter(public_id=login_id[:32]).first()
            valid = login is not None and any(hmac.compare_digest(mac, form) for form in _mac_forms(login.public_id))
            if not valid or login.arrival_expires_at is None or login.arrival_used_at is not None or login.ended_at is not None:
                raise SsoRefused("arrival_invalid", channel=login.channel.identifier if login else "")
            if now > login.arrival_expires_at or not login.channel.enabled or not login.account.is_active:
                raise SsoRefused("arrival_invalid", channel=login.channel.identifier)
            login.arrival_used_at = now
            login.save(update_fields=["arrival_used_at"])
            signed_in = dataclasses.replace(actor.signed_in_as(login.account, method=AuthMethod.PARTNER_TICKET, at=now), door=Door.SSO)
            audit_record(actor=signed_in, action="sso.arrival", subject_type="sso_login", subject_ref=login.public_id, now=now)
            return Arrival(account=login.account, login=login, channel=login.channel, actor=signed_in, return_url=login.return_url)
    except SsoRefused as exc:
        _refusal(exc, actor=actor, action="sso.arrival", now=now)
        raise


def sso_partner_logout(*, channel: PartnerChannel, partner_session: str, actor: Actor, now: dt.datetime) -> int:
    """The partner signed the person out: end every live login bound to that partner session."""
    ids = list(SsoLogin.objects.filter(channel=channel, partner_session=partner_session, ended_at__isnull=True)
               .values_list("public_id", flat=True))
    return sum(sso_login_end(login_id=login_id, reason="partner_logout", actor=actor, now=now) for login_id in ids)

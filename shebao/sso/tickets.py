"""Reading a partner's signed ticket into a :class:`PartnerIdentity` (issue 13): every check
of the ticket itself, in the order that leaks least -- the channel, its signature, then the
decryption, the audience, the times and the return address. The nonce and the person are the
service's part (``services.sso_ticket_arrive``)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from shebao.adapters import partner as wire
from shebao.common import partner_crypto
from shebao.common.crypto import DecryptionError
from shebao.common.validators import validate_id_number, validate_mobile, validate_person_name
from shebao.sso.errors import SsoRefused
from shebao.sso.models import PartnerChannel, Protocol

_NATIONALITY = re.compile(r"[A-Z]{3}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SID = re.compile(r"[A-Za-z0-9_.:-]{8,128}")


@dataclass(frozen=True)
class PartnerIdentity:
    """Who the partner says arrives, checked: canonical document number and mobile."""

    name: str
    id_type: str
    id_number: str
    nationality: str
    mobile: str
    person_type: str
    partner_session: str
    return_url: str
    nonce: str
    expires_at: dt.datetime


def channel_for(identifier: str, *, protocol: str) -> PartnerChannel:
    channel = PartnerChannel.objects.filter(identifier=identifier[:32], enabled=True).first()
    if channel is None:
        raise SsoRefused("unknown_partner")
    if channel.protocol != protocol:
        raise SsoRefused("wrong_protocol", channel=channel.identifier)
    return channel


def ticket_read(token: str, *, now: dt.datetime) -> tuple[PartnerChannel, PartnerIdentity]:
    """The channel and the identity of a ticket, or :class:`SsoRefused` naming the first
    check it failed."""
    try:
        envelope = wire.ticket_parse(token)
    except wire.TicketFormatError:
        raise SsoRefused("ticket_malformed") from None
    channel = channel_for(envelope.issuer, protocol=Protocol.TICKET)
    refuse = _refuser(channel)
    if envelope.header.get("alg") != channel.signature_algorithm or envelope.header.get("enc") != channel.encryption_algorithm:
        raise refuse("bad_signature")
    if not partner_crypto.partner_verify(channel.signature_algorithm, channel.public_key, envelope.signed_part, envelope.signature):
        raise refuse("bad_signature")
    try:
        claims = wire.ticket_claims(envelope, enc_alg=channel.encryption_algorithm, key_hex=channel.encryption_key)
    except (DecryptionError, wire.TicketFormatError):
        raise refuse("tampered") from None
    return channel, claims_check(claims, channel=channel, now=now, audience=settings.SSO["AUDIENCE"])


def _refuser(channel: PartnerChannel):
    return lambda code, detail="": SsoRefused(code, detail, channel=channel.identifier)


def _times(claims: dict, refuse, now: dt.datetime) -> dt.datetime:
    iat, exp = claims.get("iat"), claims.get("exp")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (iat, exp)):
        raise refuse("bad_claims")
    skew = settings.SSO["CLOCK_SKEW_SECONDS"]
    moment = now.timestamp()
    if iat > moment + skew:
        raise refuse("clock_skew")
    if exp < iat or exp - iat > settings.SSO["TICKET_MAX_AGE_SECONDS"]:
        raise refuse("expired", "单点登录票据的有效期超过60秒，不予受理")
    if moment > exp + skew:
        raise refuse("expired")
    return dt.datetime.fromtimestamp(exp + skew, tz=dt.UTC)


def claims_check(claims: dict, *, channel: PartnerChannel, now: dt.datetime, audience: str) -> PartnerIdentity:
    """Audience, times, return address and the person's data of decrypted claims."""
    refuse = _refuser(channel)
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise refuse("wrong_audience")
    expires_at = _times(claims, refuse, now)
    texts = {k: claims.get(k) for k in ("nonce", "sid", "name", "id_type", "id_number", "nationality", "mobile")}
    if not all(isinstance(v, str) and v for v in texts.values()):
        raise refuse("bad_claims")
    if not _NONCE.fullmatch(texts["nonce"]) or not _SID.fullmatch(texts["sid"]):
        raise refuse("bad_claims")
    return_url = claims.get("return_url") or ""
    if not isinstance(return_url, str) or (return_url and return_url not in channel.return_urls()):
        raise refuse("bad_return_url")
    return _identity(texts, claims, refuse, return_url=return_url, expires_at=expires_at, now=now)


def _identity(texts: dict, claims: dict, refuse, *, return_url: str, expires_at: dt.datetime, now: dt.datetime) -> PartnerIdentity:
    from shebao.common import clock

    try:
        id_number = validate_id_number(texts["id_type"], texts["id_number"], today=clock.local(now).date())
    except ValidationError as exc:
        raise refuse("bad_identity", f"证件号码校验未通过：{exc.messages[0]}") from None
    try:
        name = validate_person_name(texts["name"])
        mobile = validate_mobile(texts["mobile"])
    except ValidationError:
        raise refuse("bad_claims") from None
    if not _NATIONALITY.fullmatch(texts["nationality"]):
        raise refuse("bad_claims")
    person_type = claims.get("person_type") if claims.get("person_type") in ("flexible", "resident") else ""
    return PartnerIdentity(name=name, id_type=texts["id_type"], id_number=id_number, nationality=texts["nationality"],
                           mobile=mobile, person_type=person_type, partner_session=texts["sid"], return_url=return_url,
                           nonce=texts["nonce"], expires_at=expires_at)


def oidc_identity(claims: dict, *, channel: PartnerChannel, now: dt.datetime) -> PartnerIdentity:
    """The person of verified ID token claims (signature, iss, aud, exp, nonce checked by
    ``oidc.oidc_finish``): the same identity checks as a ticket's; the partner session is
    ``sid`` (else ``sub``); the one-time value is the token's nonce."""
    refuse = _refuser(channel)
    texts = {k: claims.get(k) for k in ("nonce", "name", "id_type", "id_number", "nationality", "mobile")}
    texts["sid"] = claims.get("sid") or claims.get("sub")
    if not all(isinstance(v, str) and v for v in texts.values()) or not _SID.fullmatch(texts["sid"]) or not _NONCE.fullmatch(texts["nonce"]):
        raise refuse("bad_claims")
    expires_at = dt.datetime.fromtimestamp(int(claims["exp"]) + settings.SSO["CLOCK_SKEW_SECONDS"], tz=dt.UTC)
    return _identity(texts, claims, refuse, return_url="", expires_at=expires_at, now=now)

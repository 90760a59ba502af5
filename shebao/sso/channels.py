"""Registering partner channels in the back office (issue 13): ``partner_channel_save`` is the
one writer; it checks the key material and audits what changed (key material never shown,
only that it changed)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from shebao.audit.services import audit_record
from shebao.common import crypto, partner_crypto
from shebao.common.actor import Actor, ActorError, ActorKind
from shebao.sso.models import PartnerChannel, Protocol

SECRET_FIELDS = ("encryption_key", "oidc_client_secret", "public_key")
AUDITED_FIELDS = ("identifier", "name", "enabled", "protocol", "signature_algorithm", "public_key", "encryption_algorithm",
                  "encryption_key", "allowed_return_urls", "check_url", "oidc_issuer", "oidc_client_id", "oidc_client_secret",
                  "oidc_authorize_url", "oidc_token_url", "oidc_jwks_url")


class ChannelInvalid(ValueError):
    """The channel's settings do not fit together (message for the staff member)."""


def channel_validate(channel: PartnerChannel) -> None:
    """Key material well formed for the chosen algorithms; OIDC endpoints for OIDC channels."""
    try:
        channel.public_key = partner_crypto.check_public_key(channel.signature_algorithm, channel.public_key)
        if channel.protocol == Protocol.TICKET:
            channel.encryption_key = partner_crypto.check_encryption_key(channel.encryption_algorithm, channel.encryption_key)
    except partner_crypto.PartnerKeyError as exc:
        raise ChannelInvalid(str(exc)) from None
    if channel.protocol == Protocol.OIDC:
        missing = [f for f in ("oidc_issuer", "oidc_client_id", "oidc_authorize_url", "oidc_token_url", "oidc_jwks_url") if not getattr(channel, f)]
        if missing:
            raise ChannelInvalid(f"OpenID Connect 渠道须填写：{', '.join(missing)}")


def _shown(field: str, value):
    if field in SECRET_FIELDS:
        return "〔已设置〕" if value else ""
    return value


def partner_channel_save(*, channel: PartnerChannel, previous: dict | None, actor: Actor, now: dt.datetime) -> PartnerChannel:
    """Create or change a channel (staff only); audited as ``sso.channel.change`` with the
    fields that changed (secrets as 〔已设置〕)."""
    if actor.kind not in (ActorKind.STAFF, ActorKind.SYSTEM):
        raise ActorError("只有工作人员可以登记合作渠道")
    channel_validate(channel)
    if not channel.public_id:
        channel.public_id = crypto.random_token(12)
        channel.created_at = now
    channel.updated_at = now
    new = {f: getattr(channel, f) for f in AUDITED_FIELDS}
    old = previous or {}
    changes = {f: {"old": _shown(f, old.get(f)), "new": _shown(f, v)} for f, v in new.items() if old.get(f) != v}
    for f in SECRET_FIELDS:  # a re-entered secret equal to the old one is no change; a new one shows as changed
        if f in changes and changes[f]["old"] == changes[f]["new"]:
            changes[f]["old"] = "〔原值〕"
    with transaction.atomic():
        channel.save()
        audit_record(actor=actor, action="sso.channel.change", subject_type="partner_channel", subject_ref=channel.public_id,
                     changes=changes, now=now)
    return channel


def channel_snapshot(channel: PartnerChannel) -> dict:
    """The audited fields as they are now (before an edit)."""
    return {f: getattr(channel, f) for f in AUDITED_FIELDS}

"""Registering the partner simulator's channels (development and tests only): what a staff
member would type into the back office, read from the simulator's ``_registration``."""

from __future__ import annotations

import datetime as dt

import httpx

from shebao.common.actor import Actor
from shebao.sso.channels import AUDITED_FIELDS, channel_snapshot, partner_channel_save
from shebao.sso.models import PartnerChannel

SIMULATED = ("etax", "gov", "bank")


def simulated_partners_register(*, base_url: str, actor: Actor, now: dt.datetime) -> list[PartnerChannel]:
    """Create or update the channels of the simulator at ``base_url`` (…/sim/partner)."""
    channels = []
    for identifier in SIMULATED:
        data = httpx.get(f"{base_url}/{identifier}/_registration", timeout=5).raise_for_status().json()
        channel = PartnerChannel.objects.filter(identifier=identifier).first() or PartnerChannel()
        previous = channel_snapshot(channel) if channel.pk else None
        for field in AUDITED_FIELDS:
            if field in data:
                setattr(channel, field, data[field])
        channel.enabled = True
        channels.append(partner_channel_save(channel=channel, previous=previous, actor=actor, now=now))
    return channels

"""The partner-channel port in our vocabulary: what the service asks of an integrated channel
(is this person still signed in there?) and what it reads from one (a ticket, an ID token).
The wire formats are in ``wire``; the HTTP clients in ``client`` and ``oidc_client``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckVerdict:
    """A partner's answer to a back-channel check; anything but a valid, signed "yes" is no."""

    active: bool
    reason: str  # "active", "revoked", "unavailable", "bad_answer", "channel_disabled"


class PartnerUnavailable(Exception):
    """A partner's endpoint did not answer usably (OIDC token or JWKS endpoint)."""

"""Partner channels (e-tax bureau, government-service app, banks): the port (``port``), the
wire formats (``wire``), the back-channel check client (``client``), the OIDC endpoints'
client (``oidc_client``) and the loopback simulator. The service imports this package only;
the HTTP clients load on first use."""

from __future__ import annotations

from typing import Any

from shebao.adapters.partner.port import CheckVerdict, PartnerUnavailable
from shebao.adapters.partner.wire import (
    Envelope,
    TicketFormatError,
    api_signing_string,
    body_digest,
    ticket_claims,
    ticket_parse,
)

__all__ = ["CheckVerdict", "Envelope", "PartnerUnavailable", "TicketFormatError", "api_signing_string", "body_digest",
           "oidc_token_and_keys", "partner_check", "ticket_claims", "ticket_parse"]


def partner_check(**kwargs: Any) -> CheckVerdict:
    """See :func:`shebao.adapters.partner.client.partner_check`."""
    from shebao.adapters.partner.client import partner_check as check

    return check(**kwargs)


def oidc_token_and_keys(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    """See :func:`shebao.adapters.partner.oidc_client.oidc_token_and_keys`."""
    from shebao.adapters.partner.oidc_client import oidc_token_and_keys as fetch

    return fetch(**kwargs)

"""What a partner may read through the partner API: only about people who signed on through
that partner (a login of theirs exists), and never personal data."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

from shebao.sso.models import PartnerChannel, SsoLogin


def partner_session_active(*, channel: PartnerChannel, partner_session: str) -> bool:
    """Whether one of our sessions bound to this partner session is still live."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = SsoLogin.objects.filter(channel=channel, partner_session=partner_session, ended_at__isnull=True).exclude(session_key="")
    return any(store().exists(key) for key in keys.values_list("session_key", flat=True))


def payment_order_for_partner(*, channel: PartnerChannel, order_no: str):
    from shebao.fees.models import PaymentOrder

    return PaymentOrder.objects.filter(public_id=order_no, account__sso_logins__channel=channel).distinct().first()


def agreement_for_partner(*, channel: PartnerChannel, agreement_no: str):
    """(kind, agreement) of a three-party or two-party agreement, or None."""
    from shebao.agreements.models import ThreePartyAgreement, TwoPartyAgreement

    for kind, model in (("three_party", ThreePartyAgreement), ("two_party", TwoPartyAgreement)):
        found = model.objects.filter(agreement_no=agreement_no, account__sso_logins__channel=channel).distinct().first()
        if found is not None:
            return kind, found
    return None

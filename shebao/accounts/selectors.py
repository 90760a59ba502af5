"""Reads for the user centre."""

from __future__ import annotations

from shebao.accounts.models import Account
from shebao.adapters.core import get_core
from shebao.adapters.core.port import InsuredInfo


def insured_info_for(account: Account, *, person_type: str | None = None) -> InsuredInfo | None:
    """Insured data of the logged-in person found by their own three elements
    (REQUIREMENTS §3); None when the core has no registration."""
    core = get_core()
    registration_no = core.registration_find(name=account.name, id_type=account.id_type, id_number=account.id_number)
    if registration_no is None:
        return None
    info = core.insured_info(registration_no=registration_no)
    if person_type:
        items = tuple(i for i in info.items if i.person_type == person_type)
        info = InsuredInfo(**{**info.__dict__, "items": items})
    return info

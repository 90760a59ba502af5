"""Who signs in the agreement tests, and the accounts the bank simulator holds for them."""

from __future__ import annotations

from shebao.adapters.bank.simulator import demo_account_no
from shebao.agreements.agreement_services import AccountEntry, PersonEntry
from shebao.core.demo_data import DEMO_PEOPLE, demo_id
from shebao.fees.selectors import payer_profile_for
from tests import actors
from tests.refunds.helpers import account_named

ZHANG = DEMO_PEOPLE[0][0]  # 张伟: an account and a registration
LI = DEMO_PEOPLE[1][0]  # 李秀兰
WANG = DEMO_PEOPLE[5]  # 王芳: a registration at the core, no account of her own


def signer(name: str = ZHANG, *, now):
    """(account, actor after the SMS step-up, payer profile)."""
    account = account_named(name)
    return account, actors.citizen(account, step_up_at=now), payer_profile_for(account)


def own_card(name: str = ZHANG) -> AccountEntry:
    """The person's ICBC card at the bank simulator (class 102), under their name."""
    index = next(i for i, person in enumerate(DEMO_PEOPLE, start=1) if person[0] == name)
    return AccountEntry(bank_code="102", account_number=demo_account_no(index), account_name=name)


def wang() -> PersonEntry:
    return PersonEntry(id_type="201", id_number=demo_id(WANG), name=WANG[0])

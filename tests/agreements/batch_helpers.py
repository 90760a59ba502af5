"""Payers on batch deduction for the batch tests: a signed two-party agreement with their own
card (checked by the bank simulator, which then knows the agreement) and a payable amount."""

from __future__ import annotations

import datetime as dt

from shebao.accounts.models import Account
from shebao.agreements import batch_services
from shebao.agreements.agreement_services import two_party_create
from shebao.agreements.services import payable_amount_set
from shebao.rules.selectors import rules_open
from shebao.rules.snapshot import FIXED_GRADE
from tests import actors
from tests.agreements.helpers import LI, own_card, signer

PENSION = "10210-RES"  # 城乡居民基本养老保险, fixed grades
DEDUCTION_ON = dt.date(2026, 3, 6)


def resident_rule(profile, today: dt.date, code: str = PENSION):
    return next(r for r in rules_open(city_code=profile.city_code, insurance_type_code=code, today=today)
                if r.calculation == FIXED_GRADE)


def on_batch(now: dt.datetime, name: str = LI, *, grade_index: int = -1, code: str = PENSION):
    """``name`` signs a two-party agreement and sets a grade: (account, profile, grade)."""
    account, actor, profile = signer(name, now=now)
    two_party_create(actor=actor, profile=profile, person=None, to=own_card(name), sign=True, now=now)
    rule = resident_rule(profile, now.date(), code)
    grade = rule.grades[grade_index]
    payable_amount_set(actor=actor, profile=profile, rule=rule, grade=grade, now=now)
    return account, profile, grade


def operator() -> Account:
    return Account.objects.filter(username="batch01").first() or Account.objects.create_superuser(
        "batch01", "Staff@2026x", created_at="2026-11-20T02:00:00Z")


def launched(now: dt.datetime, profile, *, code: str = PENSION, on: dt.date = DEDUCTION_ON):
    """A task for ``profile``'s city, built."""
    task = batch_services.batch_task_create(actor=actors.staff(operator()), insurance_type_code=code, contribution_year=on.year,
                                            city_code=profile.city_code, deduction_on=on, now=now)
    return batch_services.batch_task_build(task_id=task.pk, now=now)

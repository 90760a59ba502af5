"""The reminder before a batch deduction (REQUIREMENTS §2.6): an SMS with the amount and the
date, a few days before, once per task, to the signers of pending items only."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.accounts.models import SmsNotice
from shebao.agreements import batch_services
from shebao.agreements.batch_models import BatchDeductionItem
from tests import actors
from tests.agreements.batch_helpers import launched, on_batch

pytestmark = pytest.mark.django_db


def test_three_days_before_the_date_the_signer_is_told_the_amount_once(demo_people, clock, sims):
    account, profile, grade = on_batch(clock.now)
    task = launched(clock.now, profile)
    assert batch_services.batch_reminders_send(now=clock.now) == {"tasks": 0, "sms": 0}  # four days ahead: not yet

    clock.advance(days=1)
    assert batch_services.batch_reminders_send(now=clock.now) == {"tasks": 1, "sms": 1}
    assert batch_services.batch_reminders_send(now=clock.now + dt.timedelta(hours=1)) == {"tasks": 0, "sms": 0}

    task.refresh_from_db()
    [message] = [m for m in sims.messages(account.mobile) if "批量扣缴" in m["text"]]
    assert task.reminded_at == clock.now
    assert message["text"] == (f"【广西税务】您的城乡居民基本养老保险将于3月6日从签约银行账户批量扣缴{grade:.2f}元，请确保账户余额充足；"
                               "如已通过其他方式缴费或不需扣款，请在社保费掌上办“待批扣清册作废”中作废。")


def test_a_voided_item_gets_no_reminder(demo_people, clock, sims):
    account, profile, _ = on_batch(clock.now)
    launched(clock.now, profile)
    batch_services.batch_item_void(actor=actors.citizen(account), public_id=BatchDeductionItem.objects.get().public_id, now=clock.now)

    assert batch_services.batch_reminders_send(now=clock.now + dt.timedelta(days=1)) == {"tasks": 1, "sms": 0}
    assert not SmsNotice.objects.filter(notice="batch_reminder").exists()

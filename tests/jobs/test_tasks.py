"""What each job does when a worker runs it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shebao.accounts.models import SmsChallenge, SmsPurpose
from shebao.jobs import tasks

pytestmark = pytest.mark.django_db(transaction=True)  # the worker loop closes connections between jobs


def _challenge(public_id: str, created_at: dt.datetime) -> SmsChallenge:
    return SmsChallenge.objects.create(public_id=public_id, mobile_index="k1:00", purpose=SmsPurpose.LOGIN, code_hash="x",
                                       created_at=created_at, expires_at=created_at + dt.timedelta(minutes=5))


def test_purge_expired_forgets_old_challenges_and_expired_sessions_only(run_queue):
    now = timezone.now()
    _challenge("old", now - tasks.SMS_CHALLENGE_KEEP - dt.timedelta(minutes=1))
    _challenge("today", now - dt.timedelta(hours=20))  # still counted by the daily send limit
    Session.objects.create(session_key="expired", session_data="", expire_date=now - dt.timedelta(seconds=1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + dt.timedelta(hours=1))

    tasks.purge_expired.enqueue()
    run_queue()

    job = DBTaskResult.objects.get()
    assert (job.status, job.return_value) == ("SUCCESSFUL", {"sms_challenges": 1, "sessions": 1})
    assert list(SmsChallenge.objects.values_list("public_id", flat=True)) == ["today"]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_stale_payment_sweep_runs_as_a_job(run_queue, monkeypatch):
    calls = []

    def fake_sweep(*, now):
        calls.append(now)
        return {"credited": 0, "closed": 2, "errors": 0}

    monkeypatch.setattr("shebao.fees.services.attempts_close_stale", fake_sweep)
    tasks.close_stale_payments.enqueue()
    run_queue()

    job = DBTaskResult.objects.get()
    assert (job.status, job.return_value) == ("SUCCESSFUL", {"credited": 0, "closed": 2, "errors": 0})
    assert len(calls) == 1

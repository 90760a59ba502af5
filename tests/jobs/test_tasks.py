"""What each job does when a worker runs it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shebao.accounts.models import SmsChallenge, SmsNotice, SmsPurpose
from shebao.jobs import tasks
from tests import actors

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
    old = now - tasks.SMS_CHALLENGE_KEEP - dt.timedelta(minutes=1)
    for public_id, state in (("sent-long-ago", "sent"), ("still-queued", "queued")):
        SmsNotice.objects.create(public_id=public_id, notice="mobile_changed", mobile_masked="138****0001", created_at=old, send_state=state)

    tasks.purge_expired.enqueue()
    run_queue()

    job = DBTaskResult.objects.get()
    assert (job.status, job.return_value) == ("SUCCESSFUL", {"sms_challenges": 1, "sms_notices": 1, "sessions": 1, "idempotency_keys": 0, "periodic_runs": 0})
    assert list(SmsChallenge.objects.values_list("public_id", flat=True)) == ["today"]
    assert list(SmsNotice.objects.values_list("public_id", flat=True)) == ["still-queued"]  # its job has yet to run
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


def test_purge_expired_forgets_idempotency_keys_no_page_can_send(run_queue):
    from shebao.common.models import IdempotencyKey

    now = timezone.now()
    IdempotencyKey.objects.create(scope="declare:x", key="old", request_hash="h", created_at=now - tasks.IDEMPOTENCY_KEY_KEEP - dt.timedelta(seconds=1))
    IdempotencyKey.objects.create(scope="declare:x", key="live", request_hash="h", created_at=now - dt.timedelta(hours=8))
    tasks.purge_expired.enqueue()
    run_queue()
    assert DBTaskResult.objects.get().return_value["idempotency_keys"] == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["live"]


def test_treasury_states_advance_as_a_job(run_queue, monkeypatch):
    from shebao.adapters.core.embedded import EmbeddedCore

    seen = []
    monkeypatch.setattr(EmbeddedCore, "receipts_advance", lambda self, *, now: seen.append(now) or 3)
    tasks.advance_treasury_states.enqueue()
    run_queue()
    assert (DBTaskResult.objects.get().status, DBTaskResult.objects.get().return_value, len(seen)) == ("SUCCESSFUL", 3, 1)


def _statement(monkeypatch, result=None, error=None):
    from shebao.fees import reconcile

    days = []

    def fake(*, channel, day):
        days.append(day)
        if error:
            raise error
        return result

    monkeypatch.setattr(reconcile, "reconcile_day", fake)
    return days


def test_reconciliation_of_a_day_as_a_job(run_queue, monkeypatch):
    days = _statement(monkeypatch, result=([object()] * 2, [object()] * 2, []))
    tasks.reconcile_day.enqueue(day="2026-03-01")
    run_queue()
    job = DBTaskResult.objects.get()
    assert (job.status, job.return_value, days) == ("SUCCESSFUL", {"day": "2026-03-01", "statement": 2, "ours": 2}, [dt.date(2026, 3, 1)])


def test_reconciliation_differences_fail_the_job_with_them_listed(run_queue, monkeypatch):
    from shebao.fees.reconcile import Difference

    diff = Difference(kind="missing_at_us", label="渠道有记录、我方未入账", out_trade_no="SB123", transaction_id="", detail="金额 100.00 元")
    _statement(monkeypatch, result=([], [], [diff]))
    tasks.reconcile_day.enqueue(day="2026-03-01")
    run_queue()
    job = DBTaskResult.objects.get()
    assert (job.status, len(job.worker_ids)) == ("FAILED", 1)
    assert job.exception_class_path == "shebao.jobs.tasks.ReconciliationMismatch"
    assert "2026-03-01 对账不平：1 处差异，请人工核查。[渠道有记录、我方未入账] SB123：金额 100.00 元" in job.traceback


def test_reconciliation_retries_when_the_channel_is_unavailable(run_queue, monkeypatch):
    from shebao.adapters.payment.port import PaymentError

    _statement(monkeypatch, error=PaymentError("wechatpay 不可达", code="UNAVAILABLE", retryable=True))
    tasks.reconcile_day.enqueue(day="2026-03-01")
    run_queue()
    job = DBTaskResult.objects.get()
    assert job.status == "READY" and job.run_after > job.started_at


def test_seal_logs_job_seals_what_was_appended(run_queue):
    from django.db import transaction

    from shebao.archive.models import ArchiveRecord
    from shebao.archive.services import archive_append
    from shebao.audit.models import AuditEvent
    from shebao.audit.services import audit_record
    from shebao.common import clock

    with transaction.atomic():  # as in a business write
        archive_append(business_type="registration", business_ref="reg-job", subject_ref="acct-job", data={"name": "覃丽华"}, now=clock.now())
        audit_record(actor=actors.visitor(), action="test.seal", outcome="success", now=clock.now())
    assert ArchiveRecord.objects.filter(seq__isnull=True).count() == 1 and AuditEvent.objects.filter(seq__isnull=True).count() == 1

    tasks.seal_logs.enqueue()
    run_queue()

    job = DBTaskResult.objects.get()
    assert (job.status, job.return_value) == ("SUCCESSFUL", {"archive": 1, "audit": 1})
    assert not ArchiveRecord.objects.filter(seq__isnull=True).exists() and not AuditEvent.objects.filter(seq__isnull=True).exists()


def test_purge_expired_forgets_old_periodic_runs(run_queue):
    from shebao.jobs.models import PeriodicRun

    now = timezone.now()
    PeriodicRun.objects.create(task_path="x.old", period_start=now - tasks.PERIODIC_RUN_KEEP - dt.timedelta(minutes=1), enqueued_at=now)
    PeriodicRun.objects.create(task_path="x.new", period_start=now - dt.timedelta(minutes=1), enqueued_at=now)
    tasks.purge_expired.enqueue()
    run_queue()
    assert DBTaskResult.objects.get().return_value["periodic_runs"] == 1
    assert list(PeriodicRun.objects.values_list("task_path", flat=True)) == ["x.new"]

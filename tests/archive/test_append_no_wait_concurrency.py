"""Appends lock no shared row (PostgreSQL): while one payer's transaction stays
open after it appended an archive record and an audit event, 16 other payers'
transactions append and commit, and the sealer seals them -- nobody waits for
the open one. When it commits at last (its ids are the smallest), the next
seal takes its rows after the others: nothing is skipped, the chain holds."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from shebao.archive.models import ArchiveRecord
from shebao.archive.services import archive_append, seal_pending
from shebao.archive.verify import verify_archive
from shebao.audit.models import AuditEvent
from shebao.audit.services import audit_record
from shebao.audit.verify import verify_audit
from tests import actors
from tests.archive.factories import registration_data
from tests.audit.factories import FROZEN_NOW

OTHERS = 16
DEADLINE = 30  # seconds: with a head-row lock they would wait for ever (until the open one commits)


def pay(n: int) -> None:
    archive_append(business_type="payment", business_ref=f"pay-{n}", subject_ref=f"acct_{n}", data=registration_data(n), now=FROZEN_NOW)
    audit_record(actor=actors.system(), action="fees.paid", subject_ref=f"pay-{n}", now=FROZEN_NOW)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_holding_its_appends_makes_nobody_wait():
    if connection.vendor != "postgresql":
        pytest.skip(f"needs concurrent PostgreSQL transactions; the database here is {connection.vendor}")
    appended, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    done: list[int] = []

    def open_payer() -> None:
        try:
            with transaction.atomic():
                pay(0)
                appended.set()
                assert release.wait(timeout=DEADLINE * 2), "never released"
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            appended.set()
            connection.close()

    def other_payer(n: int) -> None:
        try:
            with transaction.atomic():
                pay(n)
            done.append(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=open_payer)
    holder.start()
    try:
        assert appended.wait(timeout=DEADLINE)
        others = [threading.Thread(target=other_payer, args=(n,)) for n in range(1, OTHERS + 1)]
        for thread in others:
            thread.start()
        end = time.monotonic() + DEADLINE  # one deadline for all, not one each
        for thread in others:
            thread.join(timeout=max(0.0, end - time.monotonic()))

        assert errors == []
        assert sorted(done) == list(range(1, OTHERS + 1)), "some payers waited for the open transaction"
        assert holder.is_alive()  # still open: they did not wait for it to end
        # The sealer does not wait for the open transaction either; it cannot see its rows.
        assert (seal_pending("archive"), seal_pending("audit")) == (OTHERS, OTHERS)
    finally:
        release.set()
        holder.join(timeout=DEADLINE)

    assert errors == []
    held = ArchiveRecord.objects.get(business_ref="pay-0")
    assert held.seq is None and held.pk < ArchiveRecord.objects.get(business_ref="pay-1").pk  # smaller id, committed later
    assert (seal_pending("archive"), seal_pending("audit")) == (1, 1)
    held.refresh_from_db()
    assert held.seq == OTHERS + 1
    assert AuditEvent.objects.get(subject_ref="pay-0").seq == OTHERS + 1
    for result in (verify_archive(), verify_audit()):
        assert (result.ok, result.checked, result.pending, result.problems) == (True, OTHERS + 1, 0, [])

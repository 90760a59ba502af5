"""Concurrent audit events take no shared lock; the sealer run afterwards gives
seqs 1..N without gaps and one valid, signed chain (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shebao.archive.services import seal_pending
from shebao.audit.models import AuditEvent
from shebao.audit.services import audit_record
from shebao.audit.verify import verify_audit
from tests import actors
from tests.audit.factories import FROZEN_NOW

THREADS = 8


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_events_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL concurrency; the database here is {connection.vendor}")
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            audit_record(actor=actors.visitor(), action="account.login.failed", subject_ref=f"thread_{n}", outcome="failure", now=FROZEN_NOW)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, THREADS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    seal_pending("audit")
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, THREADS + 1))
    result = verify_audit()
    assert (result.ok, result.checked, result.problems) == (True, THREADS, [])

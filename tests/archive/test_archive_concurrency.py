"""Concurrent appends take no shared lock; the sealer run afterwards gives
seqs 1..N without gaps and one valid, signed chain (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shebao.archive.models import ArchiveRecord
from shebao.archive.services import seal_pending
from shebao.archive.verify import verify_archive
from tests.archive.factories import archived_business

THREADS = 8


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL concurrency; the database here is {connection.vendor}")
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            archived_business(n, subject_ref=f"acct_thread_{n}")
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
    seal_pending("archive")
    assert list(ArchiveRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, THREADS + 1))
    assert sorted(ArchiveRecord.objects.values_list("business_ref", flat=True)) == sorted(f"reg-{n}" for n in range(1, THREADS + 1))
    result = verify_archive()
    assert (result.ok, result.checked, result.problems) == (True, THREADS, [])

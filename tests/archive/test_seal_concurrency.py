"""One sealer at a time (PostgreSQL advisory lock): while another session holds
the log's sealer lock, seal_pending returns 0 at once and writes nothing; many
sealers racing with appends never fork the chain."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from shebao.archive.models import ArchiveRecord, ArchiveSeal
from shebao.archive.services import SEAL_LOCK_KEYS, seal_pending
from shebao.archive.verify import verify_archive
from tests.archive.factories import archived_business

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL advisory locks; the database here is {connection.vendor}")


def test_a_second_sealer_returns_at_once_while_the_first_holds_the_lock():
    _needs_postgresql()
    archived_business(1)
    holding, release = threading.Event(), threading.Event()

    def other_sealer() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEYS["archive"]])
                holding.set()
                release.wait(timeout=60)
        finally:
            holding.set()
            connection.close()

    thread = threading.Thread(target=other_sealer)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        assert seal_pending("archive") == 0
        assert ArchiveRecord.objects.get().seq is None and not ArchiveSeal.objects.exists()
    finally:
        release.set()
        thread.join(timeout=30)
    assert seal_pending("archive") == 1


def test_racing_sealers_and_appends_make_one_chain():
    _needs_postgresql()
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(5):
                archived_business(n * 10 + i, subject_ref=f"acct_{n}")
                if n % 2:
                    seal_pending("archive")
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    seal_pending("archive")
    assert list(ArchiveRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 41))
    result = verify_archive()
    assert (result.ok, result.checked, result.pending, result.problems) == (True, 40, 0, [])

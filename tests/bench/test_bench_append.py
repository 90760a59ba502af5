"""``manage.py bench_append`` (shebao.bench.append) works with tiny numbers: the append
windows commit real archive records and audit events beside the baseline's plain
inserts, and the sealer seals the whole backlog into a log that verifies. Nothing here
checks a timing (the figures are for docs/performance.md, not for a test)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from shebao.archive.models import ArchiveRecord
from shebao.archive.verify import verify_archive
from shebao.audit.models import AuditEvent
from shebao.audit.verify import verify_audit
from shebao.bench import append


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_appends_and_the_sealer_are_measured_and_leave_an_intact_log():
    if connection.vendor != "postgresql":
        pytest.skip(f"bench_append measures PostgreSQL; the database here is {connection.vendor}")

    result = append.run_all(thread_counts=[1, 3], rounds=1, seconds=0.5, max_per_window=40, backlog=60, locked=True)

    windows = [w for ws in result["appends"].values() for w in ws]
    assert [(w.kind, w.threads) for w in windows] == [("baseline", 1), ("append", 1), ("locked", 1), ("baseline", 3), ("append", 3), ("locked", 3)]
    assert all(0 < w.committed <= 40 for w in windows)
    appended = sum(w.committed for w in windows if w.kind != "baseline")
    total = AuditEvent.objects.count()
    assert total >= max(appended, 60)  # a transaction in hand at a window's end commits uncounted
    assert ArchiveRecord.objects.count() == total
    assert result["pending"] == total
    assert [(s["log"], s["sealed"]) for s in result["sealer"]] == [("archive", total), ("audit", total)]
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0
    assert verify_archive().ok and verify_audit().ok
    summary = append.summarise(result)
    assert set(summary) == {1, 3}
    assert set(summary[3]) == {"capped", "baseline", "append", "locked"}
    assert set(summary[3]["locked"]) == {"tx_s", "p50_ms", "p99_ms", "ratio", "round_ratios", "median_ratio"}
    assert "sealer, backlog" in append.render(result)


@pytest.mark.django_db
def test_bench_append_refuses_anything_but_postgresql_on_loopback():
    if connection.vendor == "postgresql":
        pytest.skip("the refusal is shown on SQLite")
    with pytest.raises(CommandError, match="需要回环地址上的 PostgreSQL"):
        call_command("bench_append", "--rounds", "1")

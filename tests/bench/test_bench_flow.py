"""``manage.py bench_flow`` works end to end with tiny numbers: it builds its own
database, servers and load, drives the whole flow and prints the figures. Nothing
here checks a timing (the figures are for docs/performance.md, not for a test)."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection


def _server_url() -> str:
    """postgres://user[:password]@host:port/shebao_bench for the server the suite uses."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/shebao_bench"


def _bench(tmp_path, *options: str) -> tuple[str, dict]:
    """``bench_flow`` with tiny numbers on the suite's PostgreSQL server: (printed report, JSON figures)."""
    if connection.vendor != "postgresql":
        pytest.skip(f"bench_flow measures the service on PostgreSQL; the database here is {connection.vendor}")
    out, err = io.StringIO(), io.StringIO()
    json_path = tmp_path / "bench.json"
    call_command("bench_flow", "--users", "2", "--duration", "4", "--rounds", "1", *options, "--database-url", _server_url(),
                 "--json", str(json_path), stdout=out, stderr=err)
    return out.getvalue(), json.loads(json_path.read_text())


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_bench_flow_runs_the_whole_flow_and_reports(tmp_path):
    report, figures = _bench(tmp_path)
    for text in ("req/s", "p50 ms", "p99 ms", "baseline", "signed_in", "flow", "cost ratio", "signed-in floor", "TARGET flow cost",
                 "TARGET flow p99"):
        assert text in report, text
    assert "errors: flow 0, baseline 0, set-up 0" in report, report

    assert figures["errors"] == {"flow": 0, "baseline": 0, "setup": 0}
    assert not figures["users_failed"]
    assert figures["receipts"] >= 1 and figures["payments"] == figures["receipts"]
    kinds = [w["kind"] for w in figures["windows"]]
    assert kinds == ["baseline", "signed_in", "flow"]
    assert all(w["requests"] > 0 for w in figures["windows"])
    # the signed-in floor: its own window, its ratios from the same figures as the flow's
    overall = figures["overall"]
    assert figures["signed_in"]["cost_ratio"] == pytest.approx(overall["baseline"]["rps"] / overall["signed_in"]["rps"])
    assert figures["signed_in"]["flow_cost_ratio"] == pytest.approx(overall["signed_in"]["rps"] / overall["flow"]["rps"])
    assert figures["signed_in"]["cpu_ratio"] > 0 and figures["signed_in"]["flow_cpu_ratio"] > 0
    assert figures["notify_server"]["count"] >= 1  # the simulator's notification reached the service
    assert figures["meta"]["database"] not in _databases()  # dropped at the end


def _databases() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        return {row[0] for row in cur.fetchall()}


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_bench_flow_with_think_time_judges_cost_by_cpu_and_cleans_redis(tmp_path):
    import redis

    report, figures = _bench(tmp_path, "--think-ms", "30", "--no-signed-in")
    assert "users pause 30 ms on average" in report, report
    assert "TARGET flow cost ≤ 3× baseline" in report and "(CPU ratio " in report, report
    assert "sessions redis+db (cached_db)" in report
    assert figures["meta"]["think_ms"] == 30
    assert [w["kind"] for w in figures["windows"]] == ["baseline", "flow"] and figures["signed_in"] is None
    assert figures["errors"] == {"flow": 0, "baseline": 0, "setup": 0}
    assert figures["receipts"] >= 1
    # the verdict follows the CPU ratio, not the throughput ratio, when users pause
    assert figures["verdict"]["cost_ratio_ok"] == (figures["cpu_ratio"] <= 3.0)
    # the service's sessions lived in Redis under the run's own prefix, deleted at the end
    server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    assert not list(server.scan_iter(match=f"{figures['meta']['database']}:*", count=1000))

"""Prometheus metrics (issue 14): requests per view with latency and statements; the business
counters; gauges from cheap queries; served by the exporter on loopback only, never by the site;
an alert rule file that loads and uses only metrics the exporter serves."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client import generate_latest

from shebao.common.metrics import PAYMENTS, count
from shebao.ops.collectors import metrics_registry
from tests.concurrency import database_url, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _scrape() -> str:
    return generate_latest(metrics_registry()).decode()


def _value(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else r"") + r" ([0-9.e+-]+)"
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


@pytest.mark.django_db
def test_requests_are_counted_per_view_with_latency_and_statements(client):
    before = _scrape()
    assert client.get("/manual").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    after = _scrape()
    assert _value(after, "shebao_http_requests_total", method="GET", status="2xx", view="manual") == \
        _value(before, "shebao_http_requests_total", method="GET", status="2xx", view="manual") + 1
    assert _value(after, "shebao_http_requests_total", method="GET", status="4xx", view="unmatched") >= 1
    assert _value(after, "shebao_http_request_seconds_count", view="manual") >= 1
    assert _value(after, "shebao_http_request_db_statements_count", view="manual") >= 1
    assert "/no-such-page" not in after  # the label is the view's name, never the path


@pytest.mark.django_db
def test_gauges_come_from_bounded_queries(django_assert_max_num_queries):
    from shebao.jobs.tasks import purge_expired

    purge_expired.enqueue()
    with django_assert_max_num_queries(7):
        text = _scrape()
    assert _value(text, "shebao_jobs_ready") == 1
    assert _value(text, "shebao_jobs_oldest_ready_seconds") >= 0
    for log in ("audit", "archive"):
        assert f'shebao_log_unsealed{{log="{log}"}}' in text and f'shebao_log_seal_lag_seconds{{log="{log}"}}' in text


@pytest.mark.django_db
def test_a_business_counter_is_served():
    before = _value(_scrape(), "shebao_payments_total", outcome="credited")
    count(PAYMENTS, "credited")
    assert _value(_scrape(), "shebao_payments_total", outcome="credited") == before + 1


@pytest.mark.django_db
def test_the_public_site_does_not_serve_metrics(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_exporter_serves_every_process_on_loopback(tmp_path):
    """metrics_server in its own process, multiprocess mode: what another process counted is served."""
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    env = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "SHEBAO_ENV": "test", "DATABASE_URL": database_url(), "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
           "SHEBAO_VAR_DIR": str(tmp_path / "var")}
    counted = subprocess.run([sys.executable, "-c", "import django; django.setup(); from shebao.common.metrics import SMS, count; "
                              "count(SMS, 'isv.BUSINESS_LIMIT_CONTROL')"],
                             cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"}, capture_output=True, text=True, timeout=60)
    assert counted.returncode == 0, counted.stderr[-2000:]
    server = subprocess.Popen([sys.executable, "manage.py", "metrics_server", "--bind", "127.0.0.1:0"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = wait_for(lambda: server.stdout.readline(), "the exporter to say where it listens", deadline=60)
        url = re.search(r"(http://127\.0\.0\.1:\d+/metrics)", line).group(1)
        text = httpx.get(url, timeout=10).text
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert 'shebao_sms_total{result="isv.BUSINESS_LIMIT_CONTROL"} 1.0' in text
    assert "shebao_jobs_ready" in text


def _exported_names() -> set[str]:
    text = _scrape()
    return {line.split(" ")[2] for line in text.splitlines() if line.startswith("# TYPE ")}


@pytest.mark.django_db
def test_the_alert_rules_load_and_use_only_served_metrics():
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 10 and len({a["alert"] for a in alerts}) == len(alerts)
    served = _exported_names() | {"up"}
    for alert in alerts:
        assert alert["labels"]["severity"] in ("page", "ticket") and alert["annotations"]["summary"], alert["alert"]
        for name in re.findall(r"\b(shebao_[a-z_]+|up)\b", alert["expr"]):
            base = re.sub(r"_(bucket|count|sum|total)$", "", name)
            assert name in served or base in served, f"{alert['alert']}: {name}"

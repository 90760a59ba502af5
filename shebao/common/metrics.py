"""Prometheus metrics of the service (issue "Operations and speed"), on prometheus-client.

Counters and histograms live where the work happens (web and worker processes); in production
and development every process writes them to ``PROMETHEUS_MULTIPROC_DIR`` (set in settings) and
the exporter (``manage.py metrics_server``, its own port on loopback, never the public site)
sums them. Gauges that need a query are computed by the exporter at scrape time, from indexed,
bounded queries only (shebao.ops.collectors). Shared code, so that adapters may count too."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("shebao_http_requests_total", "Requests answered, by view, method and status class",
                        ["view", "method", "status"])
HTTP_SECONDS = Histogram("shebao_http_request_seconds", "Time to answer a request, by view", ["view"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0))
HTTP_DB_STATEMENTS = Histogram("shebao_http_request_db_statements", "Database statements per request, by view", ["view"],
                               buckets=(0, 1, 2, 4, 6, 8, 12, 16, 24, 32, 64))
PAYMENTS = Counter("shebao_payments_total", "Payment attempts by outcome: credited, failed, unknown, double_payment, refund_due",
                   ["outcome"])
PAYMENT_NOTIFICATIONS = Counter("shebao_payment_notifications_total", "Payment and refund notifications by outcome", ["outcome"])
CHANNEL_REFUNDS = Counter("shebao_channel_refunds_total", "Refunds back the way they came, by final state", ["state"])
SMS = Counter("shebao_sms_total", "SMS sends by result (sent, or the gateway's refusal code)", ["result"])
IDENTITY_CHECKS = Counter("shebao_identity_checks_total", "Carrier identity checks by outcome (or unavailable)", ["outcome"])
JOBS_FINISHED = Counter("shebao_jobs_finished_total", "Jobs finished, by task and status", ["task", "status"])
RECONCILIATION_DIFFERENCES = Counter("shebao_reconciliation_differences_total", "Differences found by reconciliation, by kind", ["kind"])


def count(counter: Counter, *labels: str) -> None:
    """Increment one labelled counter; metrics must never break the business around them."""
    try:
        counter.labels(*labels).inc()
    except Exception:  # noqa: BLE001 -- a full disk under the multiprocess files, say
        return

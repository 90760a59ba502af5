"""Gauges computed when Prometheus scrapes the exporter: each one indexed and bounded (a count
over a partial index of what is waiting, never a full-table count)."""

from __future__ import annotations

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily


def _age_seconds(moment, now) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment else 0.0


class ServiceCollector:
    """Job queue depth and oldest ready job's age; failed jobs; seal lag of the audit log and the
    archive (entries waiting for a seal, and the oldest one's age)."""

    def __init__(self, *, own_connection: bool = False):
        self.own_connection = own_connection

    def collect(self):
        from django.db import connection

        try:
            yield from self._gauges()
        finally:
            if self.own_connection:  # the exporter answers each scrape in a thread of its own
                connection.close()

    def _gauges(self):
        from django_tasks_db.models import DBTaskResult

        from shebao.archive.models import ArchiveRecord
        from shebao.audit.models import AuditEvent

        now = timezone.now()
        ready = DBTaskResult.objects.ready()  # READY and due (the library's own test, as its workers claim)
        depth = GaugeMetricFamily("shebao_jobs_ready", "Jobs ready to run and not yet claimed")
        depth.add_metric([], ready.count())
        yield depth
        oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
        age = GaugeMetricFamily("shebao_jobs_oldest_ready_seconds", "Age of the oldest job ready to run (0 if none)")
        age.add_metric([], _age_seconds(oldest, now))
        yield age
        failed = GaugeMetricFamily("shebao_jobs_failed_last_hour", "Jobs that failed for good in the last hour")
        failed.add_metric([], DBTaskResult.objects.filter(status="FAILED", finished_at__gte=now - timezone.timedelta(hours=1)).count())
        yield failed
        waiting = GaugeMetricFamily("shebao_log_unsealed", "Entries waiting for a seal, by log", labels=["log"])
        lag = GaugeMetricFamily("shebao_log_seal_lag_seconds", "Age of the oldest entry waiting for a seal, by log", labels=["log"])
        for name, model in (("audit", AuditEvent), ("archive", ArchiveRecord)):
            unsealed = model.objects.filter(seq__isnull=True)
            waiting.add_metric([name], unsealed.count())
            lag.add_metric([name], _age_seconds(unsealed.order_by("id").values_list("created_at", flat=True).first(), now))
        yield waiting
        yield lag


def metrics_registry(*, exporter: bool = False):
    """The registry the exporter serves: every process's counters (multiprocess mode when
    ``PROMETHEUS_MULTIPROC_DIR`` is set, else this process's own) and the gauges above."""
    import os

    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_OwnProcess(REGISTRY))
    registry.register(ServiceCollector(own_connection=exporter))
    return registry


class _OwnProcess:
    """This process's default registry, served beside the gauges (tests; a single process)."""

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        yield from self.registry.collect()

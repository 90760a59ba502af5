"""``manage.py metrics_server``: the Prometheus exporter, on its own port bound to loopback
(METRICS_BIND, default 127.0.0.1:9464), never on the public site. ``make run`` starts it."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve /metrics for Prometheus on METRICS_BIND (loopback)"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="", help="host:port (default settings.METRICS_BIND)")

    def handle(self, *args, bind: str, **options):
        from prometheus_client import start_http_server

        from shebao.ops.collectors import metrics_registry

        host, _, port = (bind or settings.METRICS_BIND).rpartition(":")
        server, thread = start_http_server(int(port), addr=host or "127.0.0.1", registry=metrics_registry(exporter=True))
        self.stdout.write(f"metrics on http://{host or '127.0.0.1'}:{server.server_port}/metrics")
        self.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()

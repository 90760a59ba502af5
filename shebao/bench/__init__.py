"""Load benchmark of the declare-and-pay flow (``manage.py bench_flow``, docs/performance.md).

Nothing here is imported by the service in normal operation: the benchmark's one extra
URL lives in ``shebao.bench.urls``, used only by the service process the benchmark starts
(``DJANGO_SETTINGS_MODULE=shebao.bench.settings``)."""

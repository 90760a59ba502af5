"""Request metrics: rate, latency and errors per view, and database statements per request."""

from __future__ import annotations

import time

from django.db import connections

from shebao.common.metrics import HTTP_DB_STATEMENTS, HTTP_REQUESTS, HTTP_SECONDS


class _StatementCounter:
    """A database execute wrapper that only counts (Django's documented hook)."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


class MetricsMiddleware:
    """Outermost but for the request id: times the whole answer. The view label is the URL
    pattern's name (bounded: never the path, which holds ids), or ``unmatched``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _StatementCounter()
        started = time.perf_counter()
        with connections["default"].execute_wrapper(counter):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match is not None else "unmatched"
        try:
            HTTP_REQUESTS.labels(view, request.method if request.method in _METHODS else "OTHER", f"{response.status_code // 100}xx").inc()
            HTTP_SECONDS.labels(view).observe(elapsed)
            HTTP_DB_STATEMENTS.labels(view).observe(counter.n)
        except Exception:  # noqa: BLE001 -- metrics never break an answer
            pass
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

"""The service's URLs plus the benchmark's reference endpoints (benchmark service process only)."""

from django.urls import path

from config.urls import urlpatterns as service_urlpatterns
from shebao.bench.views import one_query, signed_in

urlpatterns = [
    path("bench/one-query", one_query, name="bench_one_query"),
    path("bench/signed-in", signed_in, name="bench_signed_in"),
    *service_urlpatterns,
]

"""The service's URLs plus the baseline endpoint (benchmark service process only)."""

from django.urls import path

from config.urls import urlpatterns as service_urlpatterns
from shebao.bench.views import one_query

urlpatterns = [path("bench/one-query", one_query, name="bench_one_query"), *service_urlpatterns]

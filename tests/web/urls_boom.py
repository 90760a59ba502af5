"""The site's URLs plus views that fail, for the error-page tests."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def boom(request):
    raise RuntimeError("boom")


def forbidden(request):
    raise PermissionDenied


def bad(request):
    raise BadRequest


urlpatterns = [*site_urlpatterns, path("test-boom", boom), path("test-forbidden", forbidden), path("test-bad", bad)]

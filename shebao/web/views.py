"""Site-wide pages: home, health and readiness, elderly-mode switch, CSRF failure."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

ELDERLY_COOKIE = "elderly"


def home(request):
    return render(request, "web/home.html")


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    checks = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        checks["database"] = f"error: {type(exc).__name__}"
    from shebao.web.readiness import adapter_checks

    checks.update(adapter_checks())
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@require_POST
def toggle_elderly(request):
    """Switch 大字版 on or off; remembered for a year in a cookie (no personal data)."""
    nxt = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    response = redirect(nxt)
    on = request.COOKIES.get(ELDERLY_COOKIE) != "1"
    response.set_cookie(ELDERLY_COOKIE, "1" if on else "0", max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def csrf_failure(request, reason=""):
    return render(request, "web/error.html", {"title": "页面已过期", "message": "页面停留时间过长或已在别处提交，请返回后刷新页面再试。"}, status=403)

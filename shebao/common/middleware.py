"""Cross-cutting HTTP concerns: request id, security headers (strict CSP, no
inline script), session idle timeout (ASVS v5.0.0-7.3.1), 429 when every
password-check slot is taken."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect

from shebao.common.logging import request_id_var

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; form-action 'self' {extra}; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request.headers.get("X-Request-Id", "")
        if not (8 <= len(rid) <= 64 and rid.replace("-", "").isalnum()):
            rid = uuid.uuid4().hex
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = rid
        return response


ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class AllowedMethodsMiddleware:
    """Answer 405 to TRACE, TRACK and any other unknown method before any view
    runs, so no view (or a catch-all GET-style handler) echoes the request back
    (cross-site tracing; ASVS v5.0.0-13.4.4)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ALLOWED_METHODS:
            return HttpResponseNotAllowed(ALLOWED_METHODS)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        extra = settings.WECHAT["OPEN_BASE"].split("/sim/")[0] if settings.SIMULATORS_ENABLED else ""
        self.csp = CSP.format(extra=extra).replace("  ", " ")

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.csp)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            # Pages with personal data are never cached (ASVS v5.0.0-14.3.2).
            response["Cache-Control"] = "no-store"
        return response


class SessionIdleTimeoutMiddleware:
    """Log a person out after SESSION_IDLE_TIMEOUT_SECONDS without a request."""

    KEY = "_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(self.KEY, now)
            if now - last > settings.SESSION_IDLE_TIMEOUT_SECONDS:
                logout(request)
                return redirect(f"{redirect_login_url()}?timeout=1")
            if now - last >= 30 or self.KEY not in request.session:  # avoid a session write per request
                request.session[self.KEY] = now
        return self.get_response(request)


class PasswordChecksBusyMiddleware:
    """Answer ``PasswordChecksBusy`` (shebao.common.hashers: every argon2 slot of this
    process is taken) with 429, ``Retry-After`` and a Chinese page, instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from shebao.common.hashers import PasswordChecksBusy

        if not isinstance(exception, PasswordChecksBusy):
            return None
        from django.shortcuts import render

        response = render(request, "web/error.html", {"title": "系统繁忙", "message": "系统繁忙，请稍后再试"}, status=429)
        response["Retry-After"] = str(settings.PASSWORD_CHECK_RETRY_AFTER_SECONDS)
        return response


def redirect_login_url() -> str:
    from django.urls import reverse

    return reverse(settings.LOGIN_URL)

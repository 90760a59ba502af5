"""Cross-cutting HTTP concerns: request id, security headers (strict CSP, no
inline script, no-store), session idle timeout and absolute lifetime (ASVS v5.0.0-7.3.1/7.3.2),
429 when every password-check slot is taken."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect

from shebao.common.actor import LOGIN_AT_SESSION_KEY as LOGIN_AT_KEY
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
            # A signed-in person's pages are never cached, whatever the view says (ASVS v5.0.0-14.3.2).
            response["Cache-Control"] = "no-store"
        elif not response.has_header("Cache-Control"):
            # Anonymous pages echo personal data too (a registration or login form shown again
            # with the ID number after an error): every dynamic response is no-store unless its
            # view deliberately marks itself cacheable (django.views.decorators.cache.cache_control);
            # none does today. Static files never reach here (WhiteNoise answers above).
            response["Cache-Control"] = "no-store"
        return response




def session_seconds() -> float:
    """Wall-clock seconds for session lifetimes. Not shebao.common.clock: tests move that
    business clock by days to exercise date rules, and must not be logged out by it."""
    return time.time()


def record_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver (connected in CommonConfig.ready): every login -- SMS
    login, the admin's, ``Client.force_login`` -- stamps its session with the login time,
    from which SessionIdleTimeoutMiddleware ends it SESSION_COOKIE_AGE later."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_KEY] = int(session_seconds())


class SessionIdleTimeoutMiddleware:
    """Log a person out after SESSION_IDLE_TIMEOUT_SECONDS without a request, and in any
    case SESSION_COOKIE_AGE (8 h) after login however active the session was: the
    database expiry of a session slides with every save (the idle stamp below saves),
    so the absolute limit is enforced here from the login time. A signed-in session
    without one (created before the limit existed) is stamped on its first request."""

    KEY = "_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(session_seconds())
            last = request.session.get(self.KEY, now)
            login_at = request.session.get(LOGIN_AT_KEY)
            if login_at is not None and now - login_at >= settings.SESSION_COOKIE_AGE:
                logout(request)
                return redirect(f"{redirect_login_url()}?expired=1")
            if now - last > settings.SESSION_IDLE_TIMEOUT_SECONDS:
                logout(request)
                return redirect(f"{redirect_login_url()}?timeout=1")
            if login_at is None:
                request.session[LOGIN_AT_KEY] = now
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

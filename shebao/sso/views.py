"""Arrivals from partner channels (REQUIREMENTS §1.4). Thin: read the POSTed ticket (never a
URL: no identity in addresses, logs or referrers), call one service, sign in, send on.
Every answer of these views carries ``Referrer-Policy: no-referrer``."""

from __future__ import annotations

import functools

from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from shebao.common import clock
from shebao.common.actor import AUTH_METHOD_SESSION_KEY, Door, request_actor
from shebao.sso import oidc, services
from shebao.sso.errors import SsoRefused
from shebao.sso.recheck import SSO_SESSION_KEY

BACKEND = "django.contrib.auth.backends.ModelBackend"


def no_referrer(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def refused_page(request, exc: SsoRefused, *, status: int = 400):
    return render(request, "web/error.html", {"title": "无法通过合作渠道登录", "message": exc.message}, status=status)


def sign_in(request, arrival: services.Arrival) -> None:
    """Our session for the arrival: a fresh key (any earlier login in this browser ends), the
    way in (partner ticket or OIDC), bound to the channel and the partner's session."""
    if request.user.is_authenticated:
        logout(request)
    login(request, arrival.account, backend=BACKEND)
    request.session[AUTH_METHOD_SESSION_KEY] = str(arrival.actor.auth_method)
    request.session[SSO_SESSION_KEY] = {"login": arrival.login.public_id, "channel": arrival.channel.identifier,
                                        "fn": None, "return_url": arrival.return_url}
    request.session.save()
    services.sso_login_attach(login=arrival.login, session_key=request.session.session_key)


# A partner's page POSTs the ticket here across sites: no CSRF token can exist yet, and the
# ticket itself (signed, encrypted, for our audience, once only) is what proves the request.
@csrf_exempt
@require_POST
@no_referrer
def ticket_arrive(request):
    try:
        arrival = services.sso_ticket_arrive(token=request.POST.get("ticket", ""), actor=request_actor(request, door=Door.SSO),
                                             now=clock.now())
    except SsoRefused as exc:
        return refused_page(request, exc)
    sign_in(request, arrival)
    return redirect("home")


def _oidc_channel(identifier: str):
    from shebao.sso.models import Protocol
    from shebao.sso.tickets import channel_for

    return channel_for(identifier, protocol=Protocol.OIDC)


@require_GET
@no_referrer
def oidc_start(request, identifier: str):
    """Send the person to the partner's authorisation endpoint (code flow with PKCE)."""
    actor, now = request_actor(request, door=Door.SSO), clock.now()
    try:
        channel = _oidc_channel(identifier)
    except SsoRefused as exc:
        services.sso_refusal_record(exc=exc, actor=actor, now=now)
        return refused_page(request, exc)
    url, pending = oidc.oidc_begin(channel=channel, redirect_uri=request.build_absolute_uri(reverse("sso:oidc_callback", args=[identifier])))
    request.session[oidc.OIDC_SESSION_KEY] = pending
    return redirect(url)


@require_GET
@no_referrer
def oidc_callback(request, identifier: str):
    """The partner sends the person back with a code: exchanged, the ID token verified, signed in."""
    actor, now = request_actor(request, door=Door.SSO), clock.now()
    pending = request.session.pop(oidc.OIDC_SESSION_KEY, None)  # once only, whatever the outcome
    try:
        channel = _oidc_channel(identifier)
        claims = oidc.oidc_finish(channel=channel, pending=pending, code=request.GET.get("code", ""), state=request.GET.get("state", ""),
                                  request_id=actor.request_id)
    except SsoRefused as exc:
        services.sso_refusal_record(exc=exc, actor=actor, now=now)
        return refused_page(request, exc)
    try:
        arrival = services.sso_oidc_arrive(channel=channel, claims=claims, actor=actor, now=now)
    except SsoRefused as exc:
        return refused_page(request, exc)
    sign_in(request, arrival)
    return redirect("home")


@require_GET
@no_referrer
def arrival_redeem(request, code: str):
    """The one-time arrival link a partner got from the ticket exchange (partner API)."""
    from shebao.sso.exchange import sso_arrival_redeem

    try:
        arrival = sso_arrival_redeem(code=code, actor=request_actor(request, door=Door.SSO), now=clock.now())
    except SsoRefused as exc:
        return refused_page(request, exc)
    sign_in(request, arrival)
    return redirect("home")

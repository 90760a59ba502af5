"""The client's address, as seen through the trusted reverse proxies in front of the service.

In production the service sits behind ``TRUSTED_PROXY_COUNT`` reverse proxies (load balancer,
WAF, ...); ``REMOTE_ADDR`` is then the nearest proxy, the same for every person. Each proxy
appends the address it received the request from to ``X-Forwarded-For``, so the client is the
entry ``TRUSTED_PROXY_COUNT`` places from the right. Entries further left were written by the
client itself and are never trusted. With no proxy configured (the default, and ``make run``),
the header is ignored altogether, so nobody can choose their own address by sending it.

Hand-written because it is a dozen lines over Django's request; the libraries that do this
(django-ipware and the like) guess the proxy layout instead of being told it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The address of the person's device (or of the nearest untrusted hop), never empty."""
    remote = request.META.get("REMOTE_ADDR") or "127.0.0.1"
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    hops = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not hops:
        return remote
    candidate = hops[-proxies] if len(hops) >= proxies else hops[0]
    return _valid(candidate) or remote

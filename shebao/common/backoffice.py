"""The back office (Django admin at /admin/): where it is served, and its login.

**Where.** :class:`BackofficeGuardMiddleware` answers 404 for every /admin/ path unless the
request came to a back-office host name (``ADMIN_HOSTS``, env ``BACKOFFICE_HOSTS``) and/or
port (``ADMIN_PORT``, env ``BACKOFFICE_PORT``) -- each one that is set must match, and at least
one must be set -- *and* from an address inside ``ADMIN_ALLOWED_NETWORKS`` (env
``BACKOFFICE_ALLOWED_NETWORKS``, CIDR list; the address is ``shebao.common.client_ip``, so
behind proxies set ``TRUSTED_PROXY_COUNT``). Production has no host and no port by default:
the back office is off until configured (the host must also be in ``ALLOWED_HOSTS``).
Development and tests default to 127.0.0.1 / localhost / testserver from loopback, so
``make run`` still shows /admin/ locally. 404, not 403: the public site does not say that a
back office exists.

**Login.** :class:`StaffAuthenticationForm` (``admin.site.login_form``) counts failures per
username (``STAFF_LOGIN_FAILURE_LIMIT``; the unit is taken before the password is checked,
so concurrent posts cannot overshoot) and per client address
(``STAFF_LOGIN_IP_FAILURE_LIMIT``), refuses while either is exhausted, and audits every
attempt as ``staff.login`` (success or failure; the subject is the staff account when the
username names one -- what was typed is never logged, it may be a password).
"""

from __future__ import annotations

import ipaddress
import math
from functools import lru_cache

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404
from django.http.request import split_domain_port
from django.urls import reverse

from shebao.common import clock, crypto, ratelimit
from shebao.common.actor import Actor, AuthMethod, Door, request_actor
from shebao.common.client_ip import client_ip
from shebao.common.hashers import password_check_slot

LOCKED_MESSAGE = "登录失败次数过多，请{minutes}分钟后再试"


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]):
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def backoffice_allowed(request) -> bool:
    """Whether this request may reach the back office (host/port and address, see above)."""
    hosts = [h.lower() for h in settings.ADMIN_HOSTS]
    port = settings.ADMIN_PORT
    if not hosts and not port:
        return False
    if hosts and split_domain_port(request.get_host())[0].lower() not in hosts:
        return False
    if port and str(request.get_port()) != str(port):
        return False
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.ADMIN_ALLOWED_NETWORKS)))


class BackofficeGuardMiddleware:
    """404 for /admin/ anywhere but the back-office host/port and allowed networks."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._prefix = None

    def __call__(self, request):
        if self._prefix is None:
            self._prefix = reverse("admin:index")
        path = request.path_info
        if (path.startswith(self._prefix) or path == self._prefix.rstrip("/")) and not backoffice_allowed(request):
            raise Http404
        return self.get_response(request)


def _locked(verdicts) -> ValidationError | None:
    wait = max((v.retry_after for v in verdicts if not v.allowed), default=0)
    if not wait:
        return None
    return ValidationError(LOCKED_MESSAGE.format(minutes=max(1, math.ceil(wait / 60))), code="locked")


class StaffAuthenticationForm(AdminAuthenticationForm):
    """Django's admin login form with throttling and an audit event per attempt."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or password is None:  # a field error is already shown
            return super().clean()
        user_key = crypto.blind_index(username.strip().lower(), purpose="staff-login")
        ip = client_ip(self.request) if self.request is not None else "-"
        rules = ((settings.STAFF_LOGIN_FAILURE_LIMIT, "staff-login", user_key), (settings.STAFF_LOGIN_IP_FAILURE_LIMIT, "staff-login-ip", ip))
        with password_check_slot():  # no free argon2 slot: 429 before anything is counted
            refused = _locked([ratelimit.check(*rule) for rule in rules])
            if refused is None:
                refused = _locked([ratelimit.hit(*rules[0])])
            if refused is not None:
                self._audit(username, ok=False)
                raise refused
            try:
                cleaned = super().clean()
            except ValidationError:
                ratelimit.hit(*rules[1])
                self._audit(username, ok=False)
                locked = _locked([ratelimit.check(*rules[0])])
                if locked is not None:
                    raise locked from None
                raise
        ratelimit.clear(*rules[0])
        self._audit(username, ok=True)
        return cleaned

    def _audit(self, username: str, *, ok: bool) -> None:
        from django.contrib.auth import get_user_model

        from shebao.audit.services import audit_record

        now = clock.now()
        user = self.get_user() if ok else None
        target = user or get_user_model().objects.filter(username=username, is_staff=True).only("public_id").first()
        visitor = request_actor(self.request, door=Door.ADMIN) if self.request is not None else Actor.anonymous(door=Door.ADMIN)
        if user is not None:
            visitor = visitor.signed_in_as(user, method=AuthMethod.STAFF_PASSWORD, at=now)
        audit_record(
            actor=visitor, action="staff.login", subject_type="account" if target else "", subject_ref=target.public_id if target else "",
            outcome="success" if ok else "failure", now=now,
        )

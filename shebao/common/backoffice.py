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

**Second factor.** The admin site is :class:`StaffAdminSite` (django-otp's ``OTPAdminSite``,
made the default site by ``shebao.common.apps.StaffAdminConfig``): staff sign in with the
password *and* a TOTP code of a confirmed device (``manage.py staff_totp`` binds one); a
session without a verified device is treated as not staff. A wrong or missing code counts
as a failed attempt like a wrong password.

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
from functools import lru_cache, update_wrapper

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.http.request import split_domain_port
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.admin import OTPAdminSite
from django_otp.forms import OTPAuthenticationFormMixin

from shebao.common import clock, crypto, ratelimit
from shebao.common.actor import Actor, AuthMethod, Door, request_actor
from shebao.common.client_ip import client_ip
from shebao.common.hashers import password_check_slot

LOCKED_MESSAGE = "登录失败次数过多，请{minutes}分钟后再试"
# One answer for a wrong username, password or code, an account without an authenticator and a
# device held back after wrong codes: the page must not tell which of the three was right. The
# cause goes into the audit event only.
CREDENTIALS_MESSAGE = "用户名、密码或动态口令不正确"
TOKEN_REQUIRED_MESSAGE = "请输入身份验证器上的6位动态口令"


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


def _cause(refusal: ValidationError) -> str:
    """Why a login was refused, for the audit event: Django's or django-otp's error code
    (``invalid_login``, ``inactive``, ``invalid_token``, ``n_failed_attempts``, ``device_required`` …)."""
    codes = [error.code for error in refusal.error_list if error.code]
    return codes[0] if codes else "invalid"


class StaffAuthenticationForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """Django's admin login form with the TOTP code (django-otp), throttling and an audit
    event per attempt."""

    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(label="动态口令", required=False, max_length=8, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "placeholder": "身份验证器上的6位数字"}))
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)
    error_messages = dict(AdminAuthenticationForm.error_messages, invalid_login=CREDENTIALS_MESSAGE, inactive=CREDENTIALS_MESSAGE)
    otp_error_messages = dict(
        OTPAuthenticationFormMixin.otp_error_messages,
        token_required=TOKEN_REQUIRED_MESSAGE,
        invalid_token=CREDENTIALS_MESSAGE,
        n_failed_attempts=CREDENTIALS_MESSAGE,
        verification_not_allowed=CREDENTIALS_MESSAGE,
        device_required=CREDENTIALS_MESSAGE,
        not_interactive=CREDENTIALS_MESSAGE,
        challenge_exception="动态口令验证暂不可用，请稍后再试",
        challenge_message="{0}",
    )

    def _second_factor(self) -> None:
        """The code of the staff member's one authenticator (``staff_totp`` keeps one per person)."""
        user = self.get_user()
        device = next(iter(devices_for_user(user, confirmed=True)), None) if user is not None else None
        if device is None:
            raise ValidationError(self.otp_error_messages["device_required"], code="device_required")
        allowed, _ = device.verify_is_allowed()
        if not allowed:  # django-otp raises this one without an error code; the audit wants the cause
            raise ValidationError(CREDENTIALS_MESSAGE, code="n_failed_attempts")
        self.cleaned_data["otp_device"] = device.persistent_id
        self.cleaned_data["otp_challenge"] = ""
        self.clean_otp(user)

    def _update_form(self, user) -> None:
        """django-otp would list the devices and echo the password back into the page; we do neither."""

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
                self._audit(username, ok=False, cause="locked")
                raise refused
            try:
                if not (self.cleaned_data.get("otp_token") or "").strip():
                    # asked before the password is checked, so the answer says nothing about it
                    raise ValidationError(TOKEN_REQUIRED_MESSAGE, code="token_required")
                cleaned = super().clean()
                self._second_factor()
            except ValidationError as refusal:
                ratelimit.hit(*rules[1])
                self._audit(username, ok=False, cause=_cause(refusal))
                locked = _locked([ratelimit.check(*rules[0])])
                if locked is not None:
                    raise locked from None
                raise
        ratelimit.clear(*rules[0])
        self._audit(username, ok=True)
        return cleaned

    def _audit(self, username: str, *, ok: bool, cause: str = "") -> None:
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
            outcome="success" if ok else "failure", changes={"cause": {"old": None, "new": cause}} if cause else None, now=now,
        )


class StaffAdminSite(OTPAdminSite):
    """The back office: django-otp's admin site (only OTP-verified staff) with our login form."""

    site_header = "个人社保费掌上办 · 后台管理"
    site_title = "掌上办后台"
    index_title = "后台管理"
    login_form = StaffAuthenticationForm
    login_template = "admin/staff_login.html"

    def __init__(self, name: str = "admin"):
        super().__init__(name)

    def admin_view(self, view, cacheable=False):
        """Every back-office page: a refusal for want of a role (403) is audited."""
        inner = super().admin_view(view, cacheable)

        def audited(request, *args, **kwargs):
            try:
                return inner(request, *args, **kwargs)
            except PermissionDenied:
                from shebao.audit.services import audit_record

                audit_record(actor=request_actor(request, door=Door.ADMIN), action="staff.denied", subject_type="admin_page",
                             subject_ref=request.path[:64], outcome="failure", now=clock.now())
                raise

        return update_wrapper(audited, inner)

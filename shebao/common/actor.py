"""Who is acting, through which door, and how they proved it: the one argument every service
takes instead of an ``HttpRequest`` or a session (docs/architecture.md "The actor").

A web view, an admin action, a partner API handler, an SSO arrival, a background job or a
test builds an :class:`Actor` and passes it down; services decide on it alone, so a rule
(step-up before money, a person reaches only their own data, what the audit log records)
holds whatever door the call came in by, and a job or a test can call any service without a
Django request. Web views get theirs from :func:`request_actor`, built when the view needs
it (after a login or logout in the same request, build it again).

The actor carries the client address in full only for the rate limits that need it
(``client_address``, left out of ``repr`` and never stored); what is kept (the audit log) is
``masked_ip``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
from enum import StrEnum
from typing import Any

from django.conf import settings


class ActorError(Exception):
    """A service was called with an actor that may not do this (a programming error or a
    door that does not lead there); never shown to a person as is."""


class ActorKind(StrEnum):
    CITIZEN = "citizen"  # a payer, signed in
    STAFF = "staff"  # tax-bureau staff in the back office
    PARTNER = "partner"  # an integrated channel (e-tax bureau, bank, ...) calling the partner API
    SYSTEM = "system"  # a background job or a management command
    ANONYMOUS = "anonymous"  # not signed in (registration, the first login step, public pages)


class Door(StrEnum):
    WEB = "web"  # the H5 pages in WeChat or a browser
    ADMIN = "admin"  # the back office
    API = "api"  # the partner / callback API
    SSO = "sso"  # a single-sign-on arrival from a partner channel
    JOB = "job"  # a background job
    COMMAND = "command"  # a management command run by an operator


class AuthMethod(StrEnum):
    NONE = "none"
    PASSWORD = "password"  # first login step only
    PASSWORD_SMS = "password+sms"  # the two-step login (REQUIREMENTS §1.3)
    STAFF_PASSWORD = "staff_password"
    PARTNER_TICKET = "partner_ticket"  # a signed SSO ticket
    OIDC = "oidc"
    PARTNER_SIGNATURE = "partner_signature"  # a signed API request
    SYSTEM = "system"


def mask_ip(value: str | None) -> str | None:
    """IPv4 with the last octet zeroed, IPv6 kept to its /48; None if not an address."""
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Actor:
    """One acting party. ``account`` is the citizen's or staff member's
    ``accounts.Account`` (None for partners, jobs and anonymous visitors)."""

    kind: ActorKind
    door: Door
    account: Any = None
    partner_channel: str = ""
    job_name: str = ""
    client_address: str | None = dataclasses.field(default=None, repr=False)
    request_id: str = ""
    auth_method: AuthMethod = AuthMethod.NONE
    authenticated_at: dt.datetime | None = None
    step_up_at: dt.datetime | None = None
    session_key: str | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        has_account = self.account is not None
        if has_account != (self.kind in (ActorKind.CITIZEN, ActorKind.STAFF)):
            raise ActorError(f"{self.kind} actor {'with' if has_account else 'without'} an account")
        if has_account and bool(self.account.is_staff) != (self.kind == ActorKind.STAFF):
            raise ActorError("actor kind does not match the account")
        if (self.kind == ActorKind.PARTNER) != bool(self.partner_channel):
            raise ActorError("a partner actor names its channel, and only a partner actor does")
        object.__setattr__(self, "request_id", (self.request_id or "")[:64])

    # ---------------------------------------------------------------- constructors
    @classmethod
    def citizen(cls, account: Any, *, door: Door = Door.WEB, **fields: Any) -> Actor:
        return cls(kind=ActorKind.CITIZEN, door=door, account=account, **fields)

    @classmethod
    def staff(cls, account: Any, *, door: Door = Door.ADMIN, **fields: Any) -> Actor:
        return cls(kind=ActorKind.STAFF, door=door, account=account, **fields)

    @classmethod
    def partner(cls, channel: str, *, door: Door = Door.API, **fields: Any) -> Actor:
        return cls(kind=ActorKind.PARTNER, door=door, partner_channel=channel, auth_method=AuthMethod.PARTNER_SIGNATURE, **fields)

    @classmethod
    def system(cls, job_name: str, *, door: Door = Door.JOB, request_id: str = "") -> Actor:
        return cls(kind=ActorKind.SYSTEM, door=door, job_name=job_name, auth_method=AuthMethod.SYSTEM, request_id=request_id)

    @classmethod
    def anonymous(cls, *, door: Door = Door.WEB, **fields: Any) -> Actor:
        return cls(kind=ActorKind.ANONYMOUS, door=door, **fields)

    def signed_in_as(self, account: Any, *, method: AuthMethod, at: dt.datetime) -> Actor:
        """The same visitor once ``account`` has proved itself by ``method`` (the login steps)."""
        kind = ActorKind.STAFF if account.is_staff else ActorKind.CITIZEN
        return dataclasses.replace(self, kind=kind, account=account, auth_method=method, authenticated_at=at)

    def with_step_up(self, at: dt.datetime) -> Actor:
        return dataclasses.replace(self, step_up_at=at)

    # ---------------------------------------------------------------- what services ask
    @property
    def masked_ip(self) -> str | None:
        return mask_ip(self.client_address)

    @property
    def ref(self) -> str:
        """Who, as state histories record it: an account's opaque id, ``partner:<channel>``,
        ``system`` or ``system:<job>``, ``anonymous``."""
        if self.account is not None:
            return self.account.public_id
        if self.kind == ActorKind.PARTNER:
            return f"partner:{self.partner_channel}"
        if self.kind == ActorKind.SYSTEM:
            return f"system:{self.job_name}" if self.job_name else "system"
        return "anonymous"

    def citizen_account(self) -> Any:
        """The payer acting for themselves; refuses any other kind of actor (a person reaches
        only their own data: the services scope every query to this account)."""
        if self.kind != ActorKind.CITIZEN:
            raise ActorError(f"这项业务只能由缴费人本人办理 ({self.kind})")
        return self.account

    def step_up_fresh(self, now: dt.datetime) -> bool:
        """Whether the actor confirmed with an SMS code within ``STEP_UP_VALID_SECONDS``
        (money operations need it, whatever door they come in by)."""
        if self.step_up_at is None:
            return False
        age = (now - self.step_up_at).total_seconds()
        return 0 <= age <= settings.STEP_UP_VALID_SECONDS


# ---------------------------------------------------------------- from a web request
STEP_UP_SESSION_KEY = "step_up_at"  # epoch seconds of the last SMS confirmation (business clock)
AUTH_METHOD_SESSION_KEY = "_auth_method"  # how the session's login was proved (set by each login door)
LOGIN_AT_SESSION_KEY = "_login_at"  # shebao.common.middleware.LOGIN_AT_KEY


def _epoch(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    return None


def _door(request: Any) -> Door:
    from django.urls import reverse

    return Door.ADMIN if request.path_info.startswith(reverse("admin:index")) else Door.WEB


def request_actor(request: Any, *, door: Door | None = None) -> Actor:
    """The actor of a web request: the signed-in account (citizen or staff) or an anonymous
    visitor, the door (the back office by its URL prefix, else the H5 pages), the client
    address through the trusted proxies, the request id, and from the session how and when
    the login was proved and when the last SMS step-up was."""
    from shebao.common.client_ip import client_ip

    session = getattr(request, "session", None)
    data = session if session is not None else {}
    user = getattr(request, "user", None)
    common = {
        "door": door or _door(request),
        "client_address": client_ip(request) if request.META.get("REMOTE_ADDR") else None,
        "request_id": getattr(request, "request_id", ""),
        "session_key": getattr(session, "session_key", None),
    }
    if user is None or not user.is_authenticated:
        return Actor.anonymous(**common)
    method = data.get(AUTH_METHOD_SESSION_KEY) or (AuthMethod.STAFF_PASSWORD if user.is_staff else AuthMethod.PASSWORD_SMS)
    fields = {"auth_method": AuthMethod(method), "authenticated_at": _epoch(data.get(LOGIN_AT_SESSION_KEY)),
              "step_up_at": _epoch(data.get(STEP_UP_SESSION_KEY)), **common}
    return Actor.staff(user, **fields) if user.is_staff else Actor.citizen(user, **fields)


def remember_step_up(session: Any, at: dt.datetime) -> None:
    """Keep a passed SMS step-up in the session (what :func:`request_actor` reads back)."""
    session[STEP_UP_SESSION_KEY] = int(at.timestamp())


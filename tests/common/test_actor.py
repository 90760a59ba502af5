"""The actor (shebao.common.actor): one typed argument for every door, and no service that
takes an HttpRequest or a session."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
from django.test import RequestFactory

import shebao
from shebao.common.actor import (
    STEP_UP_SESSION_KEY,
    Actor,
    ActorError,
    ActorKind,
    AuthMethod,
    Door,
    remember_step_up,
    request_actor,
)
from tests import actors
from tests.audit.factories import account_create

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _request(path: str = "/fees/", user=None, **meta) -> HttpRequest:
    request = RequestFactory().get(path, **meta)
    request.user = user or AnonymousUser()
    request.session = SessionStore()
    request.request_id = "req-actor-1"
    return request


# ---------------------------------------------------------------- no service takes a request
def _domain_write_and_read_modules():
    for info in pkgutil.walk_packages(shebao.__path__, "shebao."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf in ("services", "selectors") or info.name.endswith(".services") or ".services." in info.name:
            yield importlib.import_module(info.name)


def test_no_service_or_selector_takes_a_request_or_a_session():
    offenders = []
    modules = list(_domain_write_and_read_modules())
    assert {"shebao.accounts.services", "shebao.fees.services", "shebao.audit.services", "shebao.rules.services"} <= {m.__name__ for m in modules}
    for module in modules:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__:
                continue
            for parameter in inspect.signature(function).parameters.values():
                annotation = str(parameter.annotation)
                if parameter.name in ("request", "session") or "HttpRequest" in annotation:
                    offenders.append(f"{module.__name__}.{name}({parameter.name})")
    assert offenders == []


# ---------------------------------------------------------------- from a web request
@pytest.mark.django_db
def test_an_anonymous_visitor_through_one_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = _request(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.77")

    actor = request_actor(request)

    assert (actor.kind, actor.door, actor.account, actor.auth_method) == (ActorKind.ANONYMOUS, Door.WEB, None, AuthMethod.NONE)
    assert (actor.client_address, actor.masked_ip, actor.request_id) == ("203.0.113.77", "203.0.113.0", "req-actor-1")
    assert "203.0.113.77" not in repr(actor)  # the full address is for rate limits, never printed


@pytest.mark.django_db
def test_a_signed_in_citizen_carries_login_time_and_step_up_from_the_session():
    account = account_create()
    request = _request(user=account, REMOTE_ADDR="198.51.100.9")
    request.session["_login_at"] = int(NOW.timestamp()) - 60
    remember_step_up(request.session, NOW)

    actor = request_actor(request)

    assert (actor.kind, actor.account, actor.auth_method, actor.ref) == (ActorKind.CITIZEN, account, AuthMethod.PASSWORD_SMS, account.public_id)
    assert actor.authenticated_at == NOW - dt.timedelta(seconds=60)
    assert actor.step_up_at == NOW and request.session[STEP_UP_SESSION_KEY] == int(NOW.timestamp())
    assert actor.step_up_fresh(NOW + dt.timedelta(seconds=300))
    assert not actor.step_up_fresh(NOW + dt.timedelta(seconds=301))
    assert not actor.step_up_fresh(NOW - dt.timedelta(seconds=1))  # a marker from the future proves nothing


@pytest.mark.django_db
def test_staff_in_the_back_office_come_in_by_the_admin_door():
    staff = account_create(is_staff=True)

    actor = request_actor(_request("/admin/", user=staff, REMOTE_ADDR="127.0.0.1"))

    assert (actor.kind, actor.door, actor.auth_method) == (ActorKind.STAFF, Door.ADMIN, AuthMethod.STAFF_PASSWORD)


# ---------------------------------------------------------------- doors without a request
def test_partner_job_and_anonymous_actors_name_themselves():
    assert Actor.partner("etax-gx").ref == "partner:etax-gx"
    assert Actor.system("reconcile_day").ref == "system:reconcile_day"
    assert Actor.system("reconcile_day").door == Door.JOB
    assert Actor.anonymous(door=Door.SSO).ref == "anonymous"


@pytest.mark.django_db
def test_an_actor_that_contradicts_itself_is_refused():
    citizen, staff = account_create(), account_create(is_staff=True)
    with pytest.raises(ActorError):
        Actor(kind=ActorKind.CITIZEN, door=Door.WEB)  # a citizen without an account
    with pytest.raises(ActorError):
        Actor(kind=ActorKind.SYSTEM, door=Door.JOB, account=citizen)
    with pytest.raises(ActorError):
        Actor.citizen(staff)  # a staff account is not a payer
    with pytest.raises(ActorError):
        Actor(kind=ActorKind.ANONYMOUS, door=Door.API, partner_channel="bank")


@pytest.mark.django_db
def test_citizen_services_refuse_every_actor_but_the_payer_and_change_nothing():
    from shebao.accounts.services import account_update_address

    account = account_create()
    before = account.address
    for actor in (actors.system("sweep"), Actor.partner("etax-gx"), actors.staff(account_create(is_staff=True)), actors.visitor()):
        with pytest.raises(ActorError):
            account_update_address(actor=actor, address="南宁市青秀区民族大道1号", now=NOW)
    account.refresh_from_db()
    assert account.address == before


@pytest.mark.django_db
def test_a_citizen_from_another_door_still_needs_the_step_up_for_money(demo_people):
    """The rule lives in the service: an SSO arrival without an SMS step-up is refused like
    a web session without one; with one, the same service goes on."""
    from shebao.accounts.models import Account
    from shebao.fees import services
    from shebao.fees.models import PaymentOrder

    account = Account.objects.filter(person_type__gt="").first()
    arrival = Actor.citizen(account, door=Door.SSO, auth_method=AuthMethod.PARTNER_TICKET, authenticated_at=NOW)
    with pytest.raises(services.StepUpRequired):
        services.order_for_assessed(actor=arrival, registration_no="none", declaration_nos=["x"], now=NOW)
    with pytest.raises(services.FeeError) as refused:  # past the step-up: the service's own checks
        services.order_for_assessed(actor=arrival.with_step_up(NOW), registration_no="none", declaration_nos=["x"], now=NOW)
    assert not isinstance(refused.value, services.StepUpRequired)
    assert PaymentOrder.objects.count() == 0

"""audit_record (REQUIREMENTS §7: every access to personal data traceable):
actor kind, masked IP, request id, masked changes, chain links, one log line."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.test import RequestFactory

from shebao.archive.integrity import GENESIS_HASH, AppendOnlyError
from shebao.audit.models import AuditEvent, AuditSeal
from shebao.audit.services import AuditError, audit_record, mask_ip
from shebao.common.actor import Actor, request_actor
from shebao.common.logging import JsonFormatter, RequestIdFilter, request_id_var
from tests import actors
from tests.audit.factories import FROZEN_NOW, seal_all

pytestmark = pytest.mark.django_db


def test_events_are_chained_from_seq_1(citizen, staff):
    first = audit_record(actor=actors.citizen(citizen), action="account.register", subject_type="account", subject_ref=citizen.public_id, now=FROZEN_NOW)
    second = audit_record(actor=actors.visitor(), action="account.login.failed", outcome="failure", now=FROZEN_NOW)
    third = audit_record(actor=actors.staff(staff), action="staff.view_personal_data", subject_type="archive_record", subject_ref="arc_1", now=FROZEN_NOW)
    fourth = audit_record(actor=actors.system(), action="batch.deduction.start", now=FROZEN_NOW)
    assert [e.seq for e in (first, second, third, fourth)] == [None] * 4  # an append gives no seq: the sealer does
    seal_all()
    for event in (first, second, third, fourth):
        event.refresh_from_db()

    assert [e.seq for e in (first, second, third, fourth)] == [1, 2, 3, 4]
    assert [e.actor_kind for e in (first, second, third, fourth)] == ["citizen", "anonymous", "staff", "system"]
    assert (first.prev_hash, second.prev_hash, third.prev_hash) == (GENESIS_HASH, first.chain_hash, second.chain_hash)
    assert second.outcome == "failure" and second.actor is None
    assert first.digest_algorithm == "SM3" and len(first.chain_hash) == 64
    seal = AuditSeal.objects.get()
    assert (seal.first_seq, seal.last_seq, seal.chain_hash) == (1, 4, fourth.chain_hash)


def test_ip_is_stored_masked_and_request_id_comes_from_the_request(citizen):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.77")
    request.request_id = "req-0123456789"

    request.user = citizen
    event = audit_record(actor=request_actor(request), action="account.login.sms", now=FROZEN_NOW)

    event.refresh_from_db()
    assert event.ip == "203.0.113.0"
    assert event.request_id == "req-0123456789"


def test_request_id_falls_back_to_the_logging_context(citizen):
    token = request_id_var.set("ctx-request-42")
    try:
        event = audit_record(actor=actors.citizen(citizen, address=None), action="account.step_up", now=FROZEN_NOW)
    finally:
        request_id_var.reset(token)

    assert event.request_id == "ctx-request-42"
    assert event.ip is None
    assert audit_record(actor=actors.citizen(citizen), action="account.step_up", now=FROZEN_NOW).request_id == ""


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("192.168.10.254", "192.168.10.0"), ("2001:db8:abcd:12:34::1", "2001:db8:abcd::"), ("not-an-ip", None), ("", None)])
def test_mask_ip(raw, masked):
    assert mask_ip(raw) == masked


def test_changes_are_stored_as_given_masked_pairs(citizen):
    changes = {"mobile": {"old": "138****5678", "new": "139****0000"}}

    event = audit_record(actor=actors.citizen(citizen), action="account.change_mobile", subject_type="account", subject_ref=citizen.public_id, changes=changes, now=FROZEN_NOW)

    event.refresh_from_db()
    assert event.changes == changes


def test_anonymous_request_user_is_recorded_as_anonymous():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9")
    request.user = AnonymousUser()
    event = audit_record(actor=request_actor(request), action="account.login.failed", outcome="failure", now=FROZEN_NOW)

    assert (event.actor, event.actor_kind, event.actor_ref, event.door) == (None, "anonymous", "anonymous", "web")


def test_partner_and_job_actors_are_named_and_their_door_is_in_the_chain(citizen):
    from shebao.archive.services import seal_pending
    from shebao.audit.verify import verify_audit

    partner = audit_record(actor=Actor.partner("etax-gx", request_id="p-1"), action="sso.arrival", now=FROZEN_NOW)
    job = audit_record(actor=actors.system("close_stale_payments"), action="fees.sweep", now=FROZEN_NOW)
    assert (partner.actor, partner.actor_kind, partner.actor_ref, partner.door) == (None, "partner", "partner:etax-gx", "api")
    assert (job.actor_kind, job.actor_ref, job.door) == ("system", "system:close_stale_payments", "job")
    seal_pending("audit")
    assert verify_audit().ok
    with connection.cursor() as cursor:  # the door is covered by the chain hash
        cursor.execute("UPDATE audit_auditevent SET door = 'web' WHERE id = %s", [partner.pk])
    assert not verify_audit().ok


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": "Login"},
        {"action": "account"},
        {"action": "account.login", "outcome": "maybe"},
        {"action": "account.login", "changes": {"mobile": "139****0000"}},
        {"action": "account.login", "actor": "not-an-actor"},
        {"action": "account.login", "now": dt.datetime(2026, 3, 1, 9, 30)},
    ])
def test_wrong_calls_are_refused_and_write_nothing(kwargs):
    kwargs = {"actor": actors.visitor(), "now": FROZEN_NOW, **kwargs}

    with pytest.raises((AuditError, ValueError)):
        audit_record(**kwargs)

    assert AuditEvent.objects.count() == 0


class _ListHandler(logging.Handler):
    """Formats records the way the console handler does, into a list."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_one_log_line_without_personal_data(citizen):
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9")
    request.request_id = "req-log-000001"
    handler = _ListHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    audit_logger = logging.getLogger("shebao.audit")
    audit_logger.addHandler(handler)
    try:
        request.user = citizen
        audit_record(
            actor=request_actor(request), action="account.change_address", subject_ref=citizen.public_id,
            changes={"address": {"old": "南宁市青秀区****", "new": "南宁市西乡塘区***"}}, now=FROZEN_NOW,
        )
    finally:
        audit_logger.removeHandler(handler)

    (line,) = handler.lines
    payload = json.loads(line)
    assert {k: payload[k] for k in ("logger", "action", "outcome", "subject_ref", "request_id", "audit_id")} == {
        "logger": "shebao.audit", "action": "account.change_address", "outcome": "success",
        "subject_ref": citizen.public_id, "request_id": "req-log-000001", "audit_id": AuditEvent.objects.get().pk,
    }
    assert "南宁" not in line and "198.51.100" not in line


def test_rows_cannot_be_changed_or_deleted_through_the_model(citizen):
    event = audit_record(actor=actors.citizen(citizen), action="account.register", now=FROZEN_NOW)

    event.outcome = "failure"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(outcome="failure")

    assert list(AuditEvent.objects.values_list("outcome", flat=True)) == ["success"]


def test_an_account_with_audit_history_cannot_be_deleted(citizen):
    from django.db.models import ProtectedError

    audit_record(actor=actors.citizen(citizen), action="account.register", now=FROZEN_NOW)

    with pytest.raises(ProtectedError), transaction.atomic():
        citizen.delete()
    assert AuditEvent.objects.filter(actor=citizen).count() == 1


@pytest.mark.django_db(transaction=True)
def test_works_outside_a_transaction_and_rolls_back_with_its_caller(citizen):
    outside = audit_record(actor=actors.citizen(citizen), action="account.login.password", now=FROZEN_NOW)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=actors.citizen(citizen), action="account.change_address", now=FROZEN_NOW)
        raise RuntimeError("the business write failed")
    after = audit_record(actor=actors.citizen(citizen), action="account.logout", now=FROZEN_NOW)
    seal_all()
    outside.refresh_from_db()
    after.refresh_from_db()

    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "action")) == [(1, "account.login.password"), (2, "account.logout")]
    assert after.prev_hash == outside.chain_hash


def test_an_append_is_one_insert_reading_and_locking_nothing(citizen):
    """The hot path: no head row read or locked, no sealer called."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit_record(actor=actors.citizen(citizen), action="account.change_address", now=FROZEN_NOW)

    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO")
    assert AuditSeal.objects.count() == 0

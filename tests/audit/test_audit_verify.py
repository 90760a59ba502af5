"""manage.py verify_audit: the SM3 chain of the audit log passes when intact
and names the seq of a row changed, deleted or inserted with raw SQL."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from shebao.audit.services import audit_record
from tests import actors
from tests.audit.factories import FROZEN_NOW, raw_sql, run_command, seal_all

pytestmark = pytest.mark.django_db


def run_verify() -> tuple[bool, str]:
    return run_command("verify_audit")


raw = raw_sql


@pytest.fixture
def three_events(citizen, staff):
    events = [
        audit_record(actor=actors.citizen(citizen), action="account.register", subject_ref=citizen.public_id, now=FROZEN_NOW),
        audit_record(actor=actors.visitor(), action="account.login.failed", outcome="failure", now=FROZEN_NOW),
        audit_record(actor=actors.staff(staff), action="staff.view_personal_data", subject_ref="arc_1", changes={"mobile": {"old": "138****5678", "new": "139****0000"}}, now=FROZEN_NOW),
    ]
    seal_all()
    for event in events:
        event.refresh_from_db()
    return events


def test_empty_log_passes():
    assert run_verify() == (True, "审计日志校验通过：0 条\n")


def test_intact_log_passes(three_events):
    assert run_verify() == (True, "审计日志校验通过：3 条\n")


def test_changed_outcome_is_named(three_events):
    raw("UPDATE audit_auditevent SET outcome = 'success' WHERE seq = 2")

    ok, output = run_verify()

    assert not ok
    assert "seq 2：链断裂（链哈希重算不符）" in output
    assert "seq 1" not in output and "seq 3" not in output


def test_changed_changes_are_named(three_events):
    raw("UPDATE audit_auditevent SET changes = %s WHERE seq = 3", ['{"mobile": {"old": "138****5678", "new": "137****1111"}}'])

    ok, output = run_verify()

    assert not ok
    assert "seq 3：链断裂（链哈希重算不符）" in output


def test_deleted_middle_row_is_named(three_events):
    raw("DELETE FROM audit_auditevent WHERE seq = 2")

    ok, output = run_verify()

    assert not ok
    assert "seq 2：链断裂（记录缺失）" in output
    assert "seq 3：链断裂（prev_hash 与上一条的链哈希不符）" in output


def test_deleted_tail_is_caught_by_the_head(three_events):
    raw("DELETE FROM audit_auditevent WHERE seq = 3")

    ok, output = run_verify()

    assert not ok
    assert "seq 3：链断裂" in output


def test_row_inserted_behind_the_head_is_named(three_events):
    last = three_events[-1]
    raw(
        "INSERT INTO audit_auditevent (seq, created_at, actor_kind, action, subject_type, subject_ref, outcome, changes, request_id, prev_hash, chain_hash, digest_algorithm)"
        " VALUES (4, %s, 'anonymous', 'account.login.failed', '', '', 'failure', '{}', '', %s, %s, 'SM3')",
        [FROZEN_NOW, last.chain_hash, "e" * 64],
    )

    ok, output = run_verify()

    assert not ok
    assert "seq 4：链断裂（不在任何签名批次内的记录）" in output


def test_unsealed_events_are_reported_as_waiting_and_sealed_by_seal_logs(three_events):
    audit_record(actor=actors.visitor(), action="account.login.failed", outcome="failure", now=FROZEN_NOW)

    assert run_verify() == (True, "等待签名：1 条（已提交，签名任务 seal_logs 将在数秒内处理）\n审计日志校验通过：3 条\n")
    call_command("seal_logs", "--kind", "audit", stdout=StringIO())
    assert run_verify() == (True, "审计日志校验通过：4 条\n")


def test_a_forged_seal_signature_is_named(three_events):
    raw("UPDATE audit_auditseal SET signature = %s", ["sm2:" + "00" * 64])

    ok, output = run_verify()

    assert not ok
    assert "seq 3：签名无效（批次 1–3 签名验证失败）" in output


def test_a_deleted_seal_leaves_its_rows_outside_any_batch(three_events):
    audit_record(actor=actors.visitor(), action="account.login.failed", outcome="failure", now=FROZEN_NOW)
    seal_all()
    raw("DELETE FROM audit_auditseal WHERE first_seq = 1")

    ok, output = run_verify()

    assert not ok
    assert "seq 1：链断裂（签名批次不连续（下一批次从 4 开始））" in output


def test_rewritten_root_and_head_without_the_key_fail_the_signature(three_events):
    raw("UPDATE audit_auditevent SET outcome = 'success' WHERE seq = 2")
    raw("UPDATE audit_auditseal SET merkle_root = %s", ["a" * 64])

    ok, output = run_verify()

    assert not ok
    assert "seq 3：签名无效（批次 1–3 签名验证失败）" in output

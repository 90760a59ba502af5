"""Signed heads kept outside the database (shebao.archive.heads): exported once per change,
fsync'd, and checked by verify_archive / verify_audit -- the newest batches deleted with
their rows, or a seal rewritten, is named by the head it contradicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shebao.archive.heads import heads_path
from shebao.archive.models import ArchiveRecord, ArchiveSeal
from shebao.archive.tasks import export_signed_heads
from shebao.audit.models import AuditEvent, AuditSeal
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor
from tests.archive.factories import archived_business
from tests.audit.factories import FROZEN_NOW, raw_sql, run_command, seal_all

pytestmark = pytest.mark.django_db


run, raw = run_command, raw_sql


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def append_both(first: int, count: int) -> None:
    for n in range(first, first + count):
        archived_business(n)
        audit_record(actor=Actor.system("test"), action="fees.paid", subject_ref=f"pay-{n}", now=FROZEN_NOW)
    seal_all()


@pytest.fixture
def two_batches_exported() -> None:
    """Batches 1–3 and 4–5 of both logs, the head exported after each."""
    append_both(1, 3)
    assert run("export_signed_heads")[0]
    append_both(4, 2)
    assert run("export_signed_heads")[0]


def test_export_writes_the_latest_seal_of_each_log(two_batches_exported):
    for kind, model in (("archive", ArchiveSeal), ("audit", AuditSeal)):
        heads = lines(heads_path(kind))
        assert [(h["first_seq"], h["last_seq"]) for h in heads] == [(1, 3), (4, 5)]
        seal = model.objects.get(last_seq=5)
        assert heads[1] == {
            "log": kind,
            "first_seq": 4,
            "last_seq": 5,
            "merkle_root": seal.merkle_root,
            "chain_hash": seal.chain_hash,
            "sealed_at": "2026-03-01T01:30:15.123456+00:00",
            "digest_algorithm": "SM3",
            "signature": seal.signature,
            "signature_algorithm": "sm2",
            "public_key": crypto.public_key_hex(),
        }


def test_export_twice_unchanged_writes_one_line():
    append_both(1, 2)

    assert run("export_signed_heads") == (True, f"archive：已写入签名头 last_seq=2（{heads_path('archive')}）\n"
                                                f"audit：已写入签名头 last_seq=2（{heads_path('audit')}）\n")
    assert export_signed_heads.call() == {"archive": 0, "audit": 0}

    assert len(lines(heads_path("archive"))) == 1
    assert len(lines(heads_path("audit"))) == 1


def test_nothing_is_exported_before_the_first_seal():
    assert export_signed_heads.call() == {"archive": 0, "audit": 0}
    assert not heads_path("archive").exists() and not heads_path("audit").exists()


def test_untouched_logs_pass_against_their_heads(two_batches_exported):
    assert run("verify_archive") == (True, "归档校验通过：5 条\n")
    assert run("verify_audit") == (True, "审计日志校验通过：5 条\n")


def test_archive_truncated_with_its_newest_seal_is_named_by_the_head(two_batches_exported):
    raw("DELETE FROM archive_archiverecord WHERE seq > 3")
    raw("DELETE FROM archive_archiveseal WHERE last_seq > 3")

    ok, output = run("verify_archive")

    assert not ok
    assert ("seq 5：与外部签名头不符（外部签名头 archive last_seq=5（签名时间 2026-03-01T01:30:15.123456+00:00）："
            "日志被截断，数据库中的日志长度只有 3）") in output
    assert output.endswith("归档校验失败：已检查 3 条，发现 1 处问题")
    assert ArchiveRecord.objects.count() == 3


def test_without_the_exported_heads_the_truncation_is_not_seen(two_batches_exported, tmp_path):
    """Why the heads are needed: the shorter log is consistent and signed on its own."""
    raw("DELETE FROM archive_archiverecord WHERE seq > 3")
    raw("DELETE FROM archive_archiveseal WHERE last_seq > 3")
    empty = tmp_path / "none.jsonl"
    empty.write_text("", encoding="utf-8")

    assert run("verify_archive", "--heads", str(empty)) == (True, "归档校验通过：3 条\n")
    assert not run("verify_archive", "--heads", str(heads_path("archive")))[0]


def test_audit_truncated_with_its_newest_seal_is_named_by_the_head(two_batches_exported):
    raw("DELETE FROM audit_auditevent WHERE seq > 3")
    raw("DELETE FROM audit_auditseal WHERE last_seq > 3")

    ok, output = run("verify_audit")

    assert not ok
    assert "seq 5：与外部签名头不符（外部签名头 audit last_seq=5" in output
    assert "日志被截断，数据库中的日志长度只有 3" in output
    assert AuditEvent.objects.count() == 3


def test_truncated_and_regrown_log_is_named_by_the_head(two_batches_exported):
    """The newest batch deleted and new rows sealed after it: the log is as long again,
    but the seal ending at 5 is not the exported one."""
    raw("DELETE FROM archive_archiverecord WHERE seq > 3")
    raw("DELETE FROM archive_archiveseal WHERE last_seq > 3")
    archived_business(90)
    archived_business(91)
    seal_all()

    ok, output = run("verify_archive")

    assert not ok
    assert "seq 5：与外部签名头不符（外部签名头 archive last_seq=5" in output
    assert "数据库中的签名批次与之不符（merkle_root, chain_hash, signature）" in output


def test_a_rewritten_seal_is_named_by_the_head(two_batches_exported):
    raw("UPDATE archive_archiveseal SET signature = %s WHERE last_seq = 3", ["sm2:" + "00" * 64])

    ok, output = run("verify_archive")

    assert not ok
    assert "seq 3：与外部签名头不符（外部签名头 archive last_seq=3（签名时间 2026-03-01T01:30:15.123456+00:00）：数据库中的签名批次与之不符（signature））" in output
    assert "seq 3：签名无效" in output


def test_a_seal_missing_in_the_middle_is_named_by_the_head(two_batches_exported):
    raw("DELETE FROM archive_archiveseal WHERE last_seq = 3")

    ok, output = run("verify_archive")

    assert not ok
    assert "seq 3：与外部签名头不符（外部签名头 archive last_seq=3（签名时间 2026-03-01T01:30:15.123456+00:00）：数据库中没有以该序号结束的签名批次（批次被改写））" in output


def test_a_heads_file_line_that_is_not_a_head_is_named(two_batches_exported):
    with heads_path("audit").open("a", encoding="utf-8") as handle:
        handle.write("not json\n")

    ok, output = run("verify_audit")

    assert not ok
    assert "seq 0：与外部签名头不符（audit-heads.jsonl 第 3 行不是签名头）" in output


def test_a_heads_file_that_does_not_exist_is_refused(tmp_path):
    ok, output = run("verify_archive", "--heads", str(tmp_path / "missing.jsonl"))

    assert not ok
    assert output == f"签名头文件不存在：{tmp_path / 'missing.jsonl'}"


def test_the_other_logs_heads_file_is_refused(two_batches_exported):
    ok, output = run("verify_archive", "--heads", str(heads_path("audit")))

    assert not ok
    assert "seq 3：与外部签名头不符（audit-heads.jsonl 中有 audit 的签名头，不是 archive 的）" in output
    assert "seq 5：与外部签名头不符（audit-heads.jsonl 中有 audit 的签名头，不是 archive 的）" in output

"""manage.py verify_archive (DESIGN: archived append-only, SM3 hash chain,
verifiable by a command): passes on an intact archive, and names the seq and
the reason for every kind of tampering done with raw SQL behind the model."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from shebao.archive.integrity import canonical_json, link_hash, merkle_root
from shebao.archive.models import ArchiveRecord
from shebao.common import crypto

pytestmark = pytest.mark.django_db

TABLE = "archive_archiverecord"


def run_verify() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("verify_archive", stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def raw_update(seq: int, **values: str) -> None:
    assignments = ", ".join(f"{column} = %s" for column in values)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {assignments} WHERE seq = %s", [*values.values(), seq])


def raw_snapshot(seq: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT snapshot FROM {TABLE} WHERE seq = %s", [seq])
        return cursor.fetchone()[0]


def test_empty_archive_passes():
    assert run_verify() == (True, "归档校验通过：0 条\n")


def test_intact_archive_passes(three_records):
    assert run_verify() == (True, "归档校验通过：3 条\n")


def test_changed_digest_is_named(three_records):
    raw_update(2, digest="0" * 64)

    ok, output = run_verify()

    assert not ok
    assert "seq 2：摘要不符" in output
    assert "seq 1" not in output and "seq 3：摘要不符" not in output


def test_changed_ciphertext_fails_to_decrypt(three_records):
    header, _, b64 = raw_snapshot(2).rpartition(":")
    blob = bytearray(base64.b64decode(b64))
    blob[20] ^= 0x01
    raw_update(2, snapshot=f"{header}:" + base64.b64encode(bytes(blob)).decode())

    ok, output = run_verify()

    assert not ok
    assert "seq 2：解密失败" in output
    assert "seq 1" not in output and "seq 3" not in output


def test_ciphertext_copied_from_another_row_fails_to_decrypt(three_records):
    """The ciphertext is bound to its row's public id: a copy does not even decrypt."""
    raw_update(2, snapshot=raw_snapshot(1))

    ok, output = run_verify()

    assert not ok
    assert "seq 2：解密失败" in output
    assert "seq 1" not in output and "seq 3" not in output


def test_changed_chain_hash_breaks_its_row_and_the_next_link(three_records):
    raw_update(2, chain_hash="f" * 64)

    ok, output = run_verify()

    assert not ok
    assert "seq 2：链断裂（链哈希重算不符）" in output
    assert "seq 1：链断裂（批次 1–3 默克尔根不符）" in output
    assert "seq 3：链断裂（prev_hash 与上一条的链哈希不符）" in output


def test_changed_metadata_breaks_the_chain(three_records):
    raw_update(2, business_ref="pay-forged")

    ok, output = run_verify()

    assert not ok
    assert "seq 2：链断裂（链哈希重算不符）" in output


def test_deleted_middle_row_is_named(three_records):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = 2")

    ok, output = run_verify()

    assert not ok
    assert "seq 2：链断裂（记录缺失）" in output
    assert "seq 3：链断裂（prev_hash 与上一条的链哈希不符）" in output


def test_deleted_last_row_is_caught_by_the_head(three_records):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = 3")

    ok, output = run_verify()

    assert not ok
    assert "seq 3：链断裂" in output


def test_consistent_rewrite_without_the_service_key_has_an_invalid_signature(three_records):
    """Even someone holding the storage key cannot rewrite a row: they cannot sign."""
    last = ArchiveRecord.objects.get(seq=3)
    forged = canonical_json({"name": "李四"})
    digest = crypto.digest(forged.encode())
    chain_hash = link_hash([3, "registration", "reg-3", "acct_public_1", digest, "", last.prev_hash, "2026-03-01T01:30:18.123456+00:00"], algorithm="SM3")
    raw_update(3, snapshot=ArchiveRecord._meta.get_field("snapshot").seal(forged, last.public_id), digest=digest, chain_hash=chain_hash)
    root = merkle_root([three_records[0].chain_hash, three_records[1].chain_hash, chain_hash], algorithm="SM3")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE archive_archiveseal SET merkle_root = %s, chain_hash = %s", [root, chain_hash])

    ok, output = run_verify()

    assert not ok
    assert output.splitlines()[0] == "seq 3：签名无效（批次 1–3 签名验证失败）"
    assert "摘要不符" not in output and "链断裂" not in output

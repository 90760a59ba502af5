"""archive_append (REQUIREMENTS §6): canonical snapshot, SM3 digest and chain,
SM2 service signature, encryption at rest, append-only persistence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction

from shebao.archive.integrity import GENESIS_HASH, AppendOnlyError, canonical_json, link_hash, merkle_root
from shebao.archive.models import ArchiveRecord, ArchiveSeal
from shebao.archive.services import ArchiveError, archive_append
from shebao.common import crypto
from tests.archive.factories import ID_NUMBER, MOBILE, registration_data
from tests.audit.factories import FROZEN_NOW, seal_all

pytestmark = pytest.mark.django_db


def test_canonical_json_is_sorted_compact_utf8_with_decimal_and_dates_as_text():
    value = {"b": Decimal("350.00"), "a": "张三", "at": dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))), "on": dt.date(2026, 3, 1)}

    assert canonical_json(value) == '{"a":"张三","at":"2026-03-01T01:30:00+00:00","b":"350.00","on":"2026-03-01"}'


@pytest.mark.parametrize("bad", [{"x": 1.5}, {"x": dt.datetime(2026, 3, 1)}, {1: "x"}, {"x": {1, 2}}])
def test_canonical_json_refuses_values_without_one_canonical_text(bad):
    with pytest.raises((TypeError, ValueError)):
        canonical_json(bad)


def test_three_appends_form_a_signed_chain_from_seq_1(three_records):
    first, second, third = three_records

    assert [r.seq for r in three_records] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.chain_hash
    assert third.prev_hash == second.chain_hash
    assert second.business_type == "payment"
    assert second.payer_signature == "sm2:" + "ab" * 64
    assert all(r.digest_algorithm == "SM3" for r in three_records)
    assert all(r.service_signature == "" for r in three_records)  # signed per batch, not per row
    seal = ArchiveSeal.objects.get()
    assert (seal.first_seq, seal.last_seq, seal.chain_hash) == (1, 3, third.chain_hash)
    assert seal.merkle_root == merkle_root([r.chain_hash for r in three_records], algorithm="SM3")
    assert crypto.verify(seal.signed_text().encode(), seal.signature) and seal.signature.startswith("sm2:")
    assert '"tree_size":3' in seal.signed_text() and '"timestamp":"2026-03-01T01:30:15.123456+00:00"' in seal.signed_text()


def test_digest_and_chain_hash_are_sm3_of_the_documented_material(append):
    record = append(1)
    assert (record.seq, record.chain_hash) == (None, None)
    seal_all()
    record.refresh_from_db()
    snapshot = canonical_json(registration_data(1))

    assert record.snapshot == snapshot
    assert record.digest == crypto.digest(snapshot.encode("utf-8"))
    parts = [1, "registration", "reg-1", "acct_public_1", record.digest, "", GENESIS_HASH, "2026-03-01T01:30:16.123456+00:00"]
    assert record.chain_hash == link_hash(parts, algorithm="SM3")
    assert len(record.public_id) >= 22 and not record.public_id.isdigit()


def test_snapshot_is_encrypted_in_the_database(append):
    record = append(1)

    with connection.cursor() as cursor:
        cursor.execute("SELECT snapshot FROM archive_archiverecord WHERE id = %s", [record.pk])
        (raw,) = cursor.fetchone()
    assert raw.startswith("v2:k0:sm4gcm:")
    assert ID_NUMBER not in raw and MOBILE not in raw and "张三" not in raw
    stored = ArchiveRecord.objects.get(pk=record.pk)
    assert ID_NUMBER in stored.snapshot and MOBILE in stored.snapshot


def test_update_through_the_model_is_refused_and_nothing_changes(append):
    record = append(1)
    original_ref = record.business_ref

    record.business_ref = "forged"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        ArchiveRecord.objects.filter(pk=record.pk).update(business_ref="forged")
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        ArchiveRecord.objects.all().delete()

    assert ArchiveRecord.objects.get(pk=record.pk).business_ref == original_ref
    assert ArchiveRecord.objects.count() == 1


def test_business_rollback_takes_the_archive_with_it(append):
    append(1)

    with pytest.raises(RuntimeError), transaction.atomic():
        archive_append(business_type="refund", business_ref="rf-1", subject_ref="acct_public_1", data={"a": 1}, now=FROZEN_NOW)
        raise RuntimeError("business write failed after archiving")

    assert ArchiveRecord.objects.count() == 1
    append(2)
    seal_all()
    assert list(ArchiveRecord.objects.values_list("seq", "business_ref")) == [(1, "reg-1"), (2, "reg-2")]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"subject_ref": ID_NUMBER}, ArchiveError),
        ({"subject_ref": MOBILE}, ArchiveError),
        ({"business_ref": ""}, ArchiveError),
        ({"business_type": "lottery"}, ValueError),
        ({"data": {"amount": 350.0}}, TypeError),
        ({"at": dt.datetime(2026, 3, 1, 9, 30)}, ArchiveError),
    ])
def test_wrong_calls_are_refused_and_write_nothing(append, overrides, error):
    with pytest.raises(error):
        append(1, **overrides)

    assert ArchiveRecord.objects.count() == 0
    assert not ArchiveSeal.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused():
    with pytest.raises(ArchiveError, match="transaction.atomic"):
        archive_append(business_type="payment", business_ref="p-1", subject_ref="acct_public_1", data={}, now=FROZEN_NOW)

    assert ArchiveRecord.objects.count() == 0


def test_an_append_is_one_insert_reading_and_locking_nothing():
    """The hot path: no head row read or locked, nothing signed, no sealer called."""
    from django.test.utils import CaptureQueriesContext

    from tests.archive.factories import archived_business

    with CaptureQueriesContext(connection) as queries:
        record = archived_business(1)

    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO")
    assert (record.seq, record.chain_hash, record.service_signature) == (None, None, "")
    assert not ArchiveSeal.objects.exists()


def test_seal_pending_seals_in_id_order_and_a_second_run_adds_a_contiguous_batch(append):
    first, second = append(1), append(2)
    seal_all()
    third = append(3)
    seal_all()

    for record in (first, second, third):
        record.refresh_from_db()
    assert [r.seq for r in (first, second, third)] == [1, 2, 3]
    assert third.prev_hash == second.chain_hash
    assert list(ArchiveSeal.objects.values_list("first_seq", "last_seq")) == [(1, 2), (3, 3)]
    seal_all()  # nothing pending: no empty batch
    assert ArchiveSeal.objects.count() == 2


def test_rows_chained_before_seals_existed_are_adopted_by_the_first_seal(append):
    """Rows written by the head-locking version (seq and chain set, no seal) are
    checked and covered by the first seal, not re-sequenced."""
    from shebao.archive.services import archive_link_parts

    legacy = append(1)
    legacy.seq, legacy.prev_hash = 1, GENESIS_HASH
    legacy.chain_hash = link_hash(archive_link_parts(legacy), algorithm="SM3")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE archive_archiverecord SET seq = 1, prev_hash = %s, chain_hash = %s WHERE id = %s", [GENESIS_HASH, legacy.chain_hash, legacy.pk])
    new = append(2)
    seal_all()

    new.refresh_from_db()
    assert (new.seq, new.prev_hash) == (2, legacy.chain_hash)
    assert list(ArchiveSeal.objects.values_list("first_seq", "last_seq")) == [(1, 2)]
    from shebao.archive.verify import verify_archive

    assert verify_archive().ok


def test_a_broken_legacy_chain_is_not_signed(append):
    from shebao.archive.integrity import SealError
    from shebao.archive.services import seal_pending

    legacy = append(1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE archive_archiverecord SET seq = 1, prev_hash = %s, chain_hash = %s WHERE id = %s", [GENESIS_HASH, "f" * 64, legacy.pk])

    with pytest.raises(SealError, match="seq 1"):
        seal_pending("archive")
    assert not ArchiveSeal.objects.exists()

"""archive_list / archive_get: scoped to one payer, snapshot deferred."""

from __future__ import annotations

import pytest

from shebao.archive.selectors import archive_get, archive_list

pytestmark = pytest.mark.django_db


def test_list_returns_only_that_payers_records_newest_first(append):
    mine_1 = append(1, subject_ref="acct_mine")
    append(2, subject_ref="acct_other")
    mine_3 = append(3, subject_ref="acct_mine")

    records = list(archive_list(subject_ref="acct_mine"))

    assert [r.seq for r in records] == [mine_3.seq, mine_1.seq]
    assert "snapshot" in records[0].get_deferred_fields()


def test_get_is_scoped_to_the_payer(append):
    other = append(1, subject_ref="acct_other")

    assert archive_get(public_id=other.public_id, subject_ref="acct_mine") is None
    assert archive_get(public_id=other.public_id, subject_ref="acct_other") == other
    assert archive_get(public_id=other.public_id, subject_ref=None) == other
    assert archive_get(public_id="no-such-id", subject_ref=None) is None

"""``manage.py bench_notices`` (shebao.bench.notices) with tiny numbers: the windows alternate,
the baseline really leaves the notices out, and the statements on the notice tables are a
constant few. Nothing here checks a timing."""

from __future__ import annotations

import pytest

from shebao.bench import notices
from shebao.notices.selectors import clear_live_cache


@pytest.fixture(autouse=True)
def _fresh_live_notices():
    clear_live_cache()
    yield
    clear_live_cache()


@pytest.mark.django_db
def test_windows_alternate_and_the_statements_are_counted():
    result = notices.run(notices=30, rounds=2, requests=2, other_readers=5)
    assert [(w.kind, w.live) for w in result["windows"]] == [
        ("baseline", 0), ("notices", 0), ("baseline", 0), ("notices", 0),
        ("baseline", 30), ("notices", 30), ("baseline", 30), ("notices", 30),
    ]
    zero, many = result["statements"][0], result["statements"][30]
    assert len(zero["notice_statements"]) == 1  # the version
    assert zero["notices"] == zero["baseline"] + 1
    # the version and the person's own rows (UNION ALL); the dialog is drawn from the live copy
    assert len(many["notice_statements"]) == 2
    assert set(notices.summarise(result)) == {0, 30}
    assert "CPU ratio" in notices.render(result)

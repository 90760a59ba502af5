"""The login-time lookup costs a constant number of statements (issue 12: 1,000 live notices
and 10 million people cost no more than a handful of indexed queries)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shebao.notices.models import NoticeLevel
from shebao.notices.selectors import notices_due
from shebao.notices.services import AudienceSpec
from tests.notices.factories import LIUZHOU, NANNING, NOW, notice_create, person_create, staff_create, viewer_of

pytestmark = pytest.mark.django_db


def statements_at_login(viewer) -> tuple[int, int]:
    """(statements of the first lookup in this process, of a later one), and the due count."""
    with CaptureQueriesContext(connection) as first:
        notices_due(viewer=viewer, now=NOW)
    with CaptureQueriesContext(connection) as later:
        due = notices_due(viewer=viewer, now=NOW)
    return len(first), len(later), len(due)


def test_zero_notices_cost_the_version_read_once_the_copy_is_loaded():
    assert statements_at_login(viewer_of(person_create())) == (2, 1, 0)


def test_fifty_notices_of_every_audience_cost_the_same_statements():
    editor = staff_create()
    person = person_create()
    for i in range(50):
        audience = [[AudienceSpec.everyone()], [AudienceSpec.group(person_type="flexible", city_code=NANNING)],
                    [AudienceSpec.group(city_code=LIUZHOU)], [AudienceSpec.person(person)], [AudienceSpec.person(staff_create())]][i % 5]
        notice_create(editor=editor, title=f"通知{i}", audience=audience, level=NoticeLevel.CRITICAL if i % 7 == 0 else NoticeLevel.NORMAL)
    # the version, the notices and their group rows (only when the version moved), the UNION ALL of own rows
    assert statements_at_login(viewer_of(person, NANNING)) == (4, 2, 30)


@pytest.mark.parametrize("count", [0, 50])
def test_a_page_with_the_popup_reads_the_notice_tables_in_at_most_two_statements(client, count):
    from django.core.cache import cache

    from shebao.notices.viewer import city_cache_key

    editor = staff_create()
    for i in range(count):
        notice_create(editor=editor, title=f"通知{i}", audience=[AudienceSpec.group(city_code=NANNING)] if i % 2 else None)
    person = person_create()
    cache.set(city_cache_key(person), NANNING)
    client.force_login(person)
    client.get("/")  # this process loads its copy of the live notices
    with CaptureQueriesContext(connection) as page:
        body = client.get("/").content.decode()
    on_notice_tables = [q["sql"] for q in page.captured_queries if "notices_" in q["sql"]]
    assert len(on_notice_tables) == (2 if count else 1)
    assert ('id="notice-dialog"' in body) is bool(count)

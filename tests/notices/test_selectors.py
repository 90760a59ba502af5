"""Who is due which notice (REQUIREMENTS §4.1): audience rows, window, read state, frequency."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.notices.models import NoticeAudience, NoticeLevel, NoticeRead, PushFrequency
from shebao.notices.selectors import live_notices, notice_get, notice_list, notices_due
from shebao.notices.services import AudienceSpec, notice_acknowledge, notice_mark_read, notice_withdraw
from tests import actors
from tests.notices.factories import LIUZHOU, NANNING, NOW, notice_create, person_create, staff_create, viewer_of

pytestmark = pytest.mark.django_db


def due_titles(viewer, shown=(), now=NOW) -> list[str]:
    return [n.title for n in notices_due(viewer=viewer, shown=shown, now=now)]


def test_everyone_reaches_every_person_and_the_anonymous_list():
    notice_create(title="全体通知")
    person = person_create(person_type="resident")
    assert due_titles(viewer_of(person, LIUZHOU)) == ["全体通知"]
    assert [n.title for n in notice_list(viewer=None, now=NOW)] == ["全体通知"]


def test_person_type_and_city_reach_only_that_group():
    notice_create(title="南宁灵活就业", audience=[AudienceSpec.group(person_type="flexible", city_code=NANNING)])
    flexible_nanning = person_create(person_type="flexible")
    resident_nanning = person_create(person_type="resident")
    flexible_liuzhou = person_create(person_type="flexible")
    assert due_titles(viewer_of(flexible_nanning, NANNING)) == ["南宁灵活就业"]
    assert due_titles(viewer_of(resident_nanning, NANNING)) == []
    assert due_titles(viewer_of(flexible_liuzhou, LIUZHOU)) == []
    assert list(notice_list(viewer=None, now=NOW)) == []


def test_a_blank_person_type_or_city_means_all_of_them():
    notice_create(title="柳州全体", audience=[AudienceSpec.group(city_code=LIUZHOU)])
    notice_create(title="全区城乡居民", audience=[AudienceSpec.group(person_type="resident")])
    resident = person_create(person_type="resident")
    assert due_titles(viewer_of(resident, LIUZHOU)) == ["全区城乡居民", "柳州全体"]
    assert due_titles(viewer_of(resident, NANNING)) == ["全区城乡居民"]


def test_named_persons_only_and_the_list_never_shows_it_to_others():
    named = person_create()
    other = person_create()
    notice = notice_create(title="致指定人员", audience=[AudienceSpec.person(named)])
    assert due_titles(viewer_of(named)) == ["致指定人员"]
    assert due_titles(viewer_of(other)) == []
    assert [n.title for n in notice_list(viewer=viewer_of(other), now=NOW)] == []
    assert notice_get(public_id=notice.public_id, viewer=viewer_of(other), now=NOW) is None
    assert notice_get(public_id=notice.public_id, viewer=None, now=NOW) is None
    assert notice_get(public_id=notice.public_id, viewer=viewer_of(named), now=NOW).title == "致指定人员"
    assert NoticeAudience.objects.filter(notice=notice).count() == 1  # one row for the one person, nothing per other person


def test_expired_and_not_yet_valid_notices_are_not_due_and_become_due_at_valid_from():
    notice_create(title="已过期", valid_from=NOW - dt.timedelta(days=10), valid_until=NOW - dt.timedelta(seconds=1))
    notice_create(title="明天生效", valid_from=NOW + dt.timedelta(days=1))
    notice_create(title="今天到期", valid_from=NOW - dt.timedelta(days=1), valid_until=NOW + dt.timedelta(hours=1))
    viewer = viewer_of(person_create())
    assert due_titles(viewer) == ["今天到期"]
    assert due_titles(viewer, now=NOW + dt.timedelta(hours=1)) == []  # the window is half-open
    assert due_titles(viewer, now=NOW + dt.timedelta(days=1)) == ["明天生效"]


def test_first_login_notice_stops_once_read_every_login_notice_comes_back_each_login():
    once = notice_create(title="首次", frequency=PushFrequency.FIRST_LOGIN)
    every = notice_create(title="每次", frequency=PushFrequency.EVERY_LOGIN, valid_from=NOW - dt.timedelta(hours=1))
    person = person_create()
    viewer = viewer_of(person)
    assert due_titles(viewer) == ["每次", "首次"]
    notice_mark_read(notice=once, actor=actors.citizen(person), now=NOW)
    notice_mark_read(notice=every, actor=actors.citizen(person), now=NOW)
    assert due_titles(viewer, shown={every.public_id}) == []  # this login: both closed
    assert due_titles(viewer) == ["每次"]  # the next login: only the every-login one


def test_a_critical_first_login_notice_stays_due_until_acknowledged():
    critical = notice_create(title="非常重要", level=NoticeLevel.CRITICAL)
    person = person_create()
    notice_mark_read(notice=critical, actor=actors.citizen(person), now=NOW)
    assert due_titles(viewer_of(person)) == ["非常重要"]
    notice_acknowledge(notice=critical, actor=actors.citizen(person), now=NOW + dt.timedelta(minutes=1))
    assert due_titles(viewer_of(person)) == []
    read = NoticeRead.objects.get(account=person, notice=critical)
    assert (read.read_at, read.acknowledged_at) == (NOW, NOW + dt.timedelta(minutes=1))


def test_most_important_first_then_newest():
    notice_create(title="一般旧", valid_from=NOW - dt.timedelta(days=3))
    notice_create(title="一般新", valid_from=NOW - dt.timedelta(days=1))
    notice_create(title="非常重要", level=NoticeLevel.CRITICAL, valid_from=NOW - dt.timedelta(days=5))
    assert due_titles(viewer_of(person_create())) == ["非常重要", "一般新", "一般旧"]


def test_a_draft_or_withdrawn_notice_is_nobodys():
    notice_create(title="草稿", publish=False)
    withdrawn = notice_create(title="撤回")
    viewer = viewer_of(person_create())
    assert due_titles(viewer) == ["撤回"]
    notice_withdraw(notice=withdrawn, actor=actors.staff(staff_create()), now=NOW)
    assert due_titles(viewer) == []  # the version moved: this process's copy is reloaded


def test_the_list_sorts_by_time_number_level_and_category():
    notice_create(title="A", document_number="桂税发〔2026〕3号", level=NoticeLevel.NORMAL, category_code="policy",
                  valid_from=NOW - dt.timedelta(days=1))
    notice_create(title="B", document_number="桂税发〔2026〕1号", level=NoticeLevel.CRITICAL, category_code="business",
                  valid_from=NOW - dt.timedelta(days=3))
    notice_create(title="C", document_number="桂税发〔2026〕2号", level=NoticeLevel.IMPORTANT, category_code="policy",
                  valid_from=NOW - dt.timedelta(days=2))

    def titles(sort):
        return [n.title for n in notice_list(viewer=None, sort=sort, now=NOW)]

    assert titles("time") == ["A", "C", "B"]
    assert titles("number") == ["B", "C", "A"]
    assert titles("level") == ["B", "C", "A"]
    assert titles("category") == ["A", "C", "B"]  # 政策法规 (10) before 业务通知 (20), newest first within
    assert titles("bogus") == ["A", "C", "B"]


def test_the_live_copy_is_kept_until_the_version_moves(django_assert_num_queries):
    notice_create(title="一")
    live_notices(now=NOW)
    with django_assert_num_queries(1):  # the version only
        assert [n.title for n in live_notices(now=NOW)] == ["一"]
    notice_create(title="二")
    with django_assert_num_queries(3):  # the version, the notices, their audience
        assert sorted(n.title for n in live_notices(now=NOW)) == ["一", "二"]

"""Reads of notices (REQUIREMENTS §4.1; issue 12 "10 million eligible people and 1,000 live
notices cost no more at login than a handful of indexed queries").

**Live notices, per process.** :func:`live_notices` keeps the published, not yet expired
notices with their everyone / person-type-and-city audience in this process, keyed by
:class:`NoticeVersion` (bumped by every write): one primary-key read per call, and two more
when the version moved. The validity window is applied at each call, so a notice becomes due
at its ``valid_from`` with no write.

**Due for a person** (:func:`notices_due`): the live set's everyone and group rows are
matched in memory; what is the person's own -- the notices naming them and their read
rows -- comes in ONE statement, a ``UNION ALL`` over the indexes ``(account, notice)`` of
both tables. So a login costs two statements whatever the number of notices or people."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from shebao.notices.models import (
    AudienceKind,
    Notice,
    NoticeAttachment,
    NoticeAudience,
    NoticeLevel,
    NoticeRead,
    NoticeState,
    NoticeVersion,
    PushFrequency,
)


@dataclasses.dataclass(frozen=True)
class Viewer:
    """Who is looking: the account's pk, its person type and the division code of its city
    ('' when the core has no record); ``None`` instead of a Viewer is an anonymous visitor."""

    account_id: int
    person_type: str
    city_code: str


@dataclasses.dataclass(frozen=True)
class LiveNotice:
    id: int
    public_id: str
    title: str
    document_number: str
    level: int
    push_frequency: str
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    everyone: bool
    groups: frozenset[tuple[str, str]]  # (person type or '', city code or '')
    category: str = ""  # the category's name
    body: str = ""  # as stored (cleaned on save; the popup cleans it again on render)

    def get_level_display(self) -> str:
        return NoticeLevel(self.level).label

    @property
    def is_critical(self) -> bool:
        return self.level == NoticeLevel.CRITICAL

    def in_window(self, now: dt.datetime) -> bool:
        return self.valid_from <= now and (self.valid_until is None or now < self.valid_until)

    def reaches_group(self, viewer: Viewer | None) -> bool:
        if self.everyone:
            return True
        if viewer is None:
            return False
        return any(p in ("", viewer.person_type) and c in ("", viewer.city_code) for p, c in self.groups)


class LiveSet(tuple):
    """The live notices at one moment (a tuple, most important then newest first) with their
    everyone and group audience indexed, so a viewer's notices are a few set look-ups."""

    everyone: frozenset[int]
    groups: dict[tuple[str, str], frozenset[int]]
    position: dict[int, int]

    @classmethod
    def of(cls, notices: Iterable[LiveNotice]) -> LiveSet:
        live = cls(notices)
        live.position = {n.id: i for i, n in enumerate(live)}
        live.everyone = frozenset(i for i, n in enumerate(live) if n.everyone)
        groups: dict[tuple[str, str], set[int]] = {}
        for i, notice in enumerate(live):
            for key in notice.groups:
                groups.setdefault(key, set()).add(i)
        live.groups = {key: frozenset(v) for key, v in groups.items()}
        return live

    def visible(self, viewer: Viewer | None, named: Iterable[int] = ()) -> list[LiveNotice]:
        """What ``viewer`` may see (anonymous: the notices for everyone), in order."""
        found = set(self.everyone)
        if viewer is not None:
            for key in ((viewer.person_type, viewer.city_code), (viewer.person_type, ""), ("", viewer.city_code), ("", "")):
                found |= self.groups.get(key, frozenset())
            found.update(self.position[i] for i in named if i in self.position)
        return [self[i] for i in sorted(found)]


_cache_lock = threading.Lock()
_cache: dict[str, object] = {"version": None, "notices": (), "window": None}


def notice_version() -> int:
    """The version row, by primary key. Plain SQL: it runs on every page a person opens, and
    the ORM's building of the statement costs more than the statement."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {NoticeVersion._meta.db_table} WHERE id = 1")  # noqa: S608 - our table name
        row = cursor.fetchone()
    return row[0] if row else 0


def live_notices(*, now: dt.datetime) -> LiveSet:
    """The published notices in their window at ``now``, most important then newest first.
    The set at a moment is kept too, for as long as no notice's window opens or closes."""
    version = notice_version()
    with _cache_lock:
        current = _cache["version"] == version
        loaded, window = (_cache["notices"], _cache["window"]) if current else (None, None)
    if loaded is None:
        loaded = _load_live(now)
        with _cache_lock:
            _cache.update(version=version, notices=loaded, window=None)
    if window is not None and window[0] <= now and (window[1] is None or now < window[1]):
        return window[2]
    live = LiveSet.of(n for n in loaded if n.in_window(now))  # type: ignore[attr-defined]
    edges = [e for n in loaded for e in (n.valid_from, n.valid_until) if e is not None]  # type: ignore[attr-defined]
    since = max((e for e in edges if e <= now), default=dt.datetime.min.replace(tzinfo=dt.UTC))
    until = min((e for e in edges if e > now), default=None)
    with _cache_lock:
        if _cache["version"] == version:
            _cache["window"] = (since, until, live)
    return live


def clear_live_cache() -> None:
    with _cache_lock:
        _cache.update(version=None, notices=(), window=None)


def _load_live(now: dt.datetime) -> tuple[LiveNotice, ...]:
    rows = list(Notice.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now), state=NoticeState.PUBLISHED)
                .order_by("level", "-valid_from", "-id")
                .values_list("id", "public_id", "title", "document_number", "level", "push_frequency", "valid_from", "valid_until",
                             "category__name", "body"))
    audience: dict[int, list[tuple[str, str, str]]] = {}
    if rows:
        for notice_id, kind, person_type, city_code in (NoticeAudience.objects.filter(notice_id__in=[r[0] for r in rows])
                                                        .exclude(kind=AudienceKind.PERSON)
                                                        .values_list("notice_id", "kind", "person_type", "city_code")):
            audience.setdefault(notice_id, []).append((kind, person_type, city_code))
    return tuple(
        LiveNotice(id=r[0], public_id=r[1], title=r[2], document_number=r[3], level=r[4], push_frequency=r[5], valid_from=r[6],
                   valid_until=r[7], everyone=any(k == AudienceKind.EVERYONE for k, _, _ in audience.get(r[0], ())),
                   groups=frozenset((p, c) for k, p, c in audience.get(r[0], ()) if k == AudienceKind.GROUP),
                   category=r[8], body=r[9])
        for r in rows
    )


@dataclasses.dataclass(frozen=True)
class OwnRows:
    named: frozenset[int]
    read: frozenset[int]
    acknowledged: frozenset[int]


_OWN_ROWS_SQL = (
    "SELECT notice_id, 0, NULL FROM {audience} WHERE account_id = %s AND kind = %s"
    " UNION ALL SELECT notice_id, 1, acknowledged_at FROM {read} WHERE account_id = %s"
)


def _own_rows(account_id: int) -> OwnRows:
    """The notices naming the account and its read rows, in one UNION ALL statement over the
    indexes (account, notice) of both tables. Plain SQL for the reason of ``notice_version``;
    the acknowledgement time is only tested for NULL, so its database type does not matter."""
    sql = _OWN_ROWS_SQL.format(audience=NoticeAudience._meta.db_table, read=NoticeRead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [account_id, AudienceKind.PERSON.value, account_id])
        rows = cursor.fetchall()
    named_ids, read_ids, acknowledged = set(), set(), set()
    for notice_id, is_read, acknowledged_at in rows:
        if is_read:
            read_ids.add(notice_id)
            if acknowledged_at is not None:
                acknowledged.add(notice_id)
        else:
            named_ids.add(notice_id)
    return OwnRows(frozenset(named_ids), frozenset(read_ids), frozenset(acknowledged))


def notices_due(*, viewer: Viewer, shown: Iterable[str] = (), now: dt.datetime, live: LiveSet | None = None,
                limit: int | None = None) -> list[LiveNotice]:
    """The notices to pop up for ``viewer`` now, most important first. 首次登录推送: until
    read (a 非常重要 one: until acknowledged). 每次登录推送: once per login, ``shown`` being
    the public ids already closed in this login (the session's). ``live``: the caller's
    ``live_notices(now=now)``, when it has them already; ``limit``: at most that many (the popup needs one)."""
    live = live_notices(now=now) if live is None else live
    if not live:
        return []
    own = _own_rows(viewer.account_id)
    shown = set(shown)
    due = []
    for notice in live.visible(viewer, own.named):
        if notice.public_id in shown:
            continue
        if notice.push_frequency == PushFrequency.FIRST_LOGIN:
            done = notice.id in (own.acknowledged if notice.is_critical else own.read)
            if done:
                continue
        due.append(notice)
        if limit is not None and len(due) >= limit:
            break
    return due


SORTS = {
    "time": ("-valid_from", "-id"),
    "number": ("document_number", "-valid_from"),
    "level": ("level", "-valid_from"),
    "category": ("category__sort_order", "category__code", "-valid_from"),
}


def notice_list(*, viewer: Viewer | None, sort: str = "time", now: dt.datetime) -> QuerySet[Notice]:
    """The notices ``viewer`` may see now (anonymous visitors: those for everyone), sorted by
    ``sort`` (time, number, level or category; anything else: time)."""
    live = live_notices(now=now)
    own = _own_rows(viewer.account_id) if viewer is not None and live else None
    ids = [n.id for n in live.visible(viewer, own.named if own is not None else ())]
    return (Notice.objects.filter(id__in=ids).select_related("category").defer("body")
            .order_by(*SORTS.get(sort, SORTS["time"])))


def notice_get(*, public_id: str, viewer: Viewer | None, now: dt.datetime) -> Notice | None:
    """One notice ``viewer`` may see now, with its attachments (without their content); else None."""
    live = [n for n in live_notices(now=now) if n.public_id == public_id]
    if not live:
        return None
    notice = live[0]
    if not notice.reaches_group(viewer):
        if viewer is None or not NoticeAudience.objects.filter(notice_id=notice.id, account_id=viewer.account_id,
                                                               kind=AudienceKind.PERSON).exists():
            return None
    attachments = Prefetch("attachments", queryset=NoticeAttachment.objects.defer("data"))
    return Notice.objects.select_related("category").prefetch_related(attachments).filter(id=notice.id).first()


def notice_read_state(*, viewer: Viewer, notice: Notice) -> NoticeRead | None:
    return NoticeRead.objects.filter(account_id=viewer.account_id, notice=notice).first()


def attachment_get(*, notice: Notice, public_id: str) -> NoticeAttachment | None:
    return NoticeAttachment.objects.filter(notice=notice, public_id=public_id).first()


def needs_city(live: Iterable[LiveNotice]) -> bool:
    """Whether any of ``live`` is aimed at a city (else a viewer's city, from the core, is not needed)."""
    return any(city for notice in live for _, city in notice.groups)


def viewer_for(account) -> Viewer:
    """The person as notices see them: person type from the account, city from the core (by the port)."""
    from shebao.adapters.core import get_core

    profile = get_core().payer_profile_by_identity(name=account.name, id_type=account.id_type, id_number=account.id_number)
    return Viewer(account_id=account.pk, person_type=account.person_type, city_code=profile.city_code if profile else "")

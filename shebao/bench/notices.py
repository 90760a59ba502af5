"""The login overhead of notices (issue 12: "10 million eligible people and 1,000 live
notices cost no more at login than a handful of indexed queries"; docs/performance.md
"Notices at login").

A demo person (张伟, 灵活就业, 南宁) opens the page a login lands on (``/accounts/me``) with the
Django test client, in-process, as the first page of a login (no every-login notice closed yet;
the city from the core stays in the cache, as it does across logins). Windows alternate, ``rounds`` times:

* ``baseline`` -- the same page with the notice popup switched off (the page without notices);
* ``notices`` -- the page with the popup's look-up, at 0 live notices, then at ``notices``.

Each window makes ``requests`` requests and measures this process's CPU time and the wall
time per request; the statements of one request are counted apart (CaptureQueriesContext).
With ``other_readers``, that many other accounts each read five notices first, so the
person's own rows are found by index among many. Nothing asserts a timing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
import time
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shebao.common import clock, crypto


@dataclasses.dataclass
class Window:
    kind: str
    live: int
    requests: int
    cpu_ms: float  # per request
    wall_ms: float  # per request


def _person():
    from shebao.accounts.models import Account
    from shebao.common.identity import identity_index
    from shebao.core import demo_data

    row = next(p for p in demo_data.DEMO_PEOPLE if p[0] == "张伟")
    return Account.objects.get(id_index=identity_index(id_type="201", id_number=demo_data.demo_id(row)))


def prepare(*, other_readers: int) -> Any:
    from django.core.management import call_command

    call_command("seed_demo", "--no-history", "--no-notices", stdout=open("/dev/null", "w"))
    return _person()


def add_notices(count: int, *, other_readers: int, now: dt.datetime) -> None:
    """``count`` live notices: 2 in 5 for everyone, 2 in 5 for a person type in a city, 1 in 5
    for a named other person; then ``other_readers`` accounts that read five of them each."""
    from shebao.accounts.models import Account
    from shebao.notices.models import (
        AudienceKind,
        Notice,
        NoticeAudience,
        NoticeCategory,
        NoticeRead,
        NoticeState,
        NoticeVersion,
        PushFrequency,
    )

    category = NoticeCategory.objects.get(code="business")
    stamp = now - dt.timedelta(days=1)
    notices = Notice.objects.bulk_create([
        Notice(public_id=crypto.random_token(12), title=f"压测通知{i}", document_number=f"压测〔2026〕{i}号", level=1 + i % 3,
               category=category, body="<p>压测正文</p>", valid_from=stamp - dt.timedelta(minutes=i), state=NoticeState.PUBLISHED,
               push_frequency=PushFrequency.FIRST_LOGIN if i % 2 else PushFrequency.EVERY_LOGIN, published_at=stamp,
               created_at=stamp, updated_at=stamp)
        for i in range(count)
    ])
    others = Account.objects.bulk_create([
        Account(public_id=crypto.random_token(12), username=f"bench_reader_{n}_{crypto.random_token(3)}", password="!",
                person_type="flexible", created_at=stamp)
        for n in range(max(other_readers, 1))
    ], batch_size=2000)
    cities = ("450100", "450200", "450300", "450400", "451000")
    audience = []
    for i, notice in enumerate(notices):
        if i % 5 in (0, 1):
            audience.append(NoticeAudience(notice=notice, kind=AudienceKind.EVERYONE))
        elif i % 5 in (2, 3):
            audience.append(NoticeAudience(notice=notice, kind=AudienceKind.GROUP, person_type="flexible", city_code=cities[i % 5]))
        else:
            audience.append(NoticeAudience(notice=notice, kind=AudienceKind.PERSON, account=others[i % len(others)]))
    NoticeAudience.objects.bulk_create(audience, batch_size=2000)
    if notices and other_readers:
        NoticeRead.objects.bulk_create([NoticeRead(account=reader, notice=notices[(n * 5 + k) % len(notices)], read_at=stamp)
                                        for n, reader in enumerate(others) for k in range(5)], batch_size=5000)
    NoticeVersion.objects.filter(pk=1).update(value=NoticeVersion.objects.get(pk=1).value + 1)


class _PopupOff:
    """The baseline: the popup's look-up switched off for the window (the template finds no notice)."""

    def __enter__(self):
        from shebao.notices.context_processors import NoticePopup

        self._saved = NoticePopup.__dict__["notice"]
        NoticePopup.notice = None
        return self

    def __exit__(self, *exc):
        from shebao.notices.context_processors import NoticePopup

        NoticePopup.notice = self._saved


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _new_login(client: Client) -> None:
    """As after a fresh login: no popup closed yet (the city stays in the cache, as it does across logins)."""
    from shebao.notices.viewer import SHOWN_KEY

    session = client.session
    if SHOWN_KEY in session:
        session.pop(SHOWN_KEY)
        session.save()


def _window(client: Client, kind: str, live: int, requests: int) -> Window:
    cpu = wall = 0.0
    for _ in range(requests):
        _new_login(client)
        c0, w0 = time.process_time(), time.perf_counter()
        response = client.get("/accounts/me")
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        assert response.status_code == 200, response.status_code
    return Window(kind=kind, live=live, requests=requests, cpu_ms=1000 * cpu / requests, wall_ms=1000 * wall / requests)


def _statements(client: Client) -> tuple[int, list[str]]:
    _new_login(client)
    with CaptureQueriesContext(connection) as captured:
        client.get("/accounts/me")
    return len(captured), [q["sql"] for q in captured.captured_queries]


def _plan(sql: str) -> list[str]:
    """The database's plan of one captured statement (its values inlined by the capture)."""
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return [" ".join(str(c) for c in row) for row in cursor.fetchall()]


def _notice_statements(sqls: list[str]) -> list[str]:
    return [s for s in sqls if "notices_" in s]


def run(*, notices: int, rounds: int, requests: int, other_readers: int) -> dict[str, Any]:
    from shebao.notices.selectors import clear_live_cache

    person = prepare(other_readers=other_readers)
    client = _client(person)
    result: dict[str, Any] = {"windows": [], "statements": {}}
    for live in (0, notices):
        if live:
            add_notices(live, other_readers=other_readers, now=clock.now())
        clear_live_cache()
        _window(client, "warm-up", live, max(3, requests // 10))
        with _PopupOff():
            base_total, _ = _statements(client)
        total, sqls = _statements(client)
        result["statements"][live] = {"baseline": base_total, "notices": total, "notice_statements": _notice_statements(sqls),
                                      "plans": [_plan(sql) for sql in _notice_statements(sqls)]}
        for _ in range(rounds):
            with _PopupOff():
                result["windows"].append(_window(client, "baseline", live, requests))
            result["windows"].append(_window(client, "notices", live, requests))
    return result


def summarise(result: dict[str, Any]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for live in sorted({w.live for w in result["windows"]}):
        base = [w for w in result["windows"] if w.live == live and w.kind == "baseline"]
        ours = [w for w in result["windows"] if w.live == live and w.kind == "notices"]
        out[live] = {
            "baseline_cpu_ms": statistics.median(w.cpu_ms for w in base),
            "notices_cpu_ms": statistics.median(w.cpu_ms for w in ours),
            "cpu_ratio": statistics.median(o.cpu_ms / b.cpu_ms for b, o in zip(base, ours, strict=True)),
            "wall_ratio": statistics.median(o.wall_ms / b.wall_ms for b, o in zip(base, ours, strict=True)),
        }
    return out


def render(result: dict[str, Any]) -> str:
    lines = ["live notices | baseline CPU ms/req | with notices CPU ms/req | CPU ratio | wall ratio | statements (baseline → with notices; notice tables)"]
    for live, s in summarise(result).items():
        st = result["statements"][live]
        lines.append(f"{live:>12} | {s['baseline_cpu_ms']:>19.2f} | {s['notices_cpu_ms']:>23.2f} | {s['cpu_ratio']:>8.3f}× | "
                     f"{s['wall_ratio']:>9.3f}× | {st['baseline']} → {st['notices']}; {len(st['notice_statements'])}")
    summary = summarise(result)
    if len(summary) == 2:
        (none, s0), (live, s1) = sorted(summary.items())
        st0, st1 = result["statements"][none], result["statements"][live]
        lines.append(f"with {live} live notices against {none}: CPU {s1['notices_cpu_ms'] / s0['notices_cpu_ms']:.3f}× "
                     f"(overhead over the baseline {100 * (s0['cpu_ratio'] - 1):+.1f} % → {100 * (s1['cpu_ratio'] - 1):+.1f} %), "
                     f"statements {st0['notices']} → {st1['notices']}")
    for live, st in result["statements"].items():
        lines.append(f"-- statements on the notice tables with {live} live notices:")
        for sql, plan in zip(st["notice_statements"], st["plans"], strict=True):
            lines.append(f"   {sql[:160]}")
            lines += [f"      plan: {row[:150]}" for row in plan]
    return "\n".join(lines)

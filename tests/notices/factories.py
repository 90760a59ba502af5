"""Factories for the notice tests (synthetic data only)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import zipfile

from shebao.accounts.models import Account
from shebao.common import crypto
from shebao.common.identity import identity_index
from shebao.notices.models import Notice, NoticeCategory, NoticeLevel, PushFrequency
from shebao.notices.selectors import Viewer, clear_live_cache
from shebao.notices.services import AudienceSpec, notice_save
from tests import actors

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
"""The clock of these tests: 2026-03-02 10:00 in Shanghai (the shared ``clock`` fixture's)."""
NANNING, LIUZHOU = "450100", "450200"

_n = itertools.count(1)


def person_create(*, person_type: str = "flexible") -> Account:
    n = next(_n)
    id_number = f"45010319880808{n:04d}"
    account = Account(public_id=crypto.random_token(12), username=f"u_notice{n}_{crypto.random_token(4)}", person_type=person_type,
                      name="测试", id_type="201", id_number=id_number, id_index=identity_index(id_type="201", id_number=id_number),
                      created_at=NOW)
    account.save()
    return account


def staff_create(*, superuser: bool = False) -> Account:
    n = next(_n)
    account = Account(public_id=crypto.random_token(12), username=f"editor{n}_{crypto.random_token(4)}", is_staff=True,
                      is_superuser=superuser, created_at=NOW)
    account.set_password("correct horse battery staple")
    account.save()
    return account


def viewer_of(account: Account, city_code: str = NANNING) -> Viewer:
    return Viewer(account_id=account.pk, person_type=account.person_type, city_code=city_code)


def category(code: str = "business") -> NoticeCategory:
    return NoticeCategory.objects.get(code=code)


def notice_create(*, editor: Account | None = None, audience: list[AudienceSpec] | None = None, publish: bool = True,
                  title: str = "关于2026年度缴费的通知", level: int = NoticeLevel.NORMAL,
                  frequency: str = PushFrequency.FIRST_LOGIN, valid_from: dt.datetime | None = None,
                  valid_until: dt.datetime | None = None, body: str = "<p>请按时缴费。</p>", document_number: str = "桂税函〔2026〕1号",
                  category_code: str = "business", attachments: list[tuple[str, bytes]] = (), now: dt.datetime = NOW) -> Notice:
    editor = editor or staff_create()
    notice = Notice(title=title, document_number=document_number, level=level, category=category(category_code), body=body,
                    valid_from=valid_from or NOW - dt.timedelta(days=1), valid_until=valid_until, push_frequency=frequency)
    saved = notice_save(notice=notice, audience=audience if audience is not None else [AudienceSpec.everyone()],
                        actor=actors.staff(editor), now=now, new_attachments=attachments, publish=publish)
    return saved


def fresh_cache() -> None:
    clear_live_cache()


# -- files --------------------------------------------------------------------
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" + b"\x00" * 16
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
HTML = b"<html><body><script>alert(1)</script></body></html>"


def ooxml(main_part: str) -> bytes:
    """A minimal Office Open XML zip (``word/document.xml``, ``xl/workbook.xml`` …)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(main_part, "<x/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()

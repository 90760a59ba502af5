"""The only writers of notices (REQUIREMENTS §4.1; issue 12). Staff write through
``notice_save`` / ``notice_publish`` / ``notice_withdraw``: each is one transaction that
sanitises the title and body (nh3), checks the validity window and every attachment by
content, replaces the audience rows, bumps :class:`NoticeVersion` and writes the audit
event (``notice.*``; the named audience is audited as a count, never as the list). A person
writes only their own read state (``notice_mark_read``, ``notice_acknowledge``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor
from shebao.common.states import transition
from shebao.notices.attachments import attachment_check
from shebao.notices.models import AudienceKind, Notice, NoticeAttachment, NoticeAudience, NoticeRead, NoticeState, NoticeVersion
from shebao.notices.sanitize import clean_body, clean_title

WINDOW_MESSAGE = "失效时间必须晚于生效时间"
NO_AUDIENCE_MESSAGE = "请至少选择一类推送对象"
AUDITED_FIELDS = ("title", "document_number", "level", "category_id", "valid_from", "valid_until", "push_frequency")


@dataclasses.dataclass(frozen=True)
class AudienceSpec:
    """One audience row to be: everyone; a person type ('' both) in a city ('' every city); a named account."""

    kind: str
    person_type: str = ""
    city_code: str = ""
    account: Any = None

    @classmethod
    def everyone(cls) -> AudienceSpec:
        return cls(kind=AudienceKind.EVERYONE)

    @classmethod
    def group(cls, *, person_type: str = "", city_code: str = "") -> AudienceSpec:
        return cls(kind=AudienceKind.GROUP, person_type=person_type, city_code=city_code)

    @classmethod
    def person(cls, account: Any) -> AudienceSpec:
        return cls(kind=AudienceKind.PERSON, account=account)


def notice_validate(*, notice: Notice, audience: Sequence[AudienceSpec] | None = None) -> None:
    """Sanitise ``notice`` in place and raise a ValidationError (Chinese, by field) unless it may be saved."""
    notice.title = clean_title(notice.title)
    notice.body = clean_body(notice.body)
    errors: dict[str, list[str]] = {}
    if not notice.title:
        errors["title"] = ["标题不能为空（已清除其中的脚本和标签）"]
    if not notice.body:
        errors["body"] = ["正文不能为空（已清除其中的脚本和事件属性）"]
    if notice.valid_from and notice.valid_until and notice.valid_until <= notice.valid_from:
        errors["valid_until"] = [WINDOW_MESSAGE]
    if audience is not None and not audience:
        errors["__all__"] = [NO_AUDIENCE_MESSAGE]
    if errors:
        raise ValidationError(errors)


def _bump_version() -> None:
    if not NoticeVersion.objects.filter(pk=1).update(value=F("value") + 1):
        NoticeVersion.objects.get_or_create(pk=1, defaults={"value": 1})


def _audience_replace(notice: Notice, audience: Sequence[AudienceSpec]) -> None:
    NoticeAudience.objects.filter(notice=notice).delete()
    seen: set[tuple] = set()
    rows = []
    for spec in audience:
        key = (spec.kind, spec.person_type, spec.city_code, getattr(spec.account, "pk", None))
        if key in seen:
            continue
        seen.add(key)
        rows.append(NoticeAudience(notice=notice, kind=spec.kind, person_type=spec.person_type, city_code=spec.city_code,
                                   account=spec.account))
    NoticeAudience.objects.bulk_create(rows)


def _audience_summary(notice_id: int | None) -> dict[str, Any]:
    rows = NoticeAudience.objects.filter(notice_id=notice_id) if notice_id else NoticeAudience.objects.none()
    kinds = list(rows.values_list("kind", "person_type", "city_code"))
    return {
        "everyone": any(k == AudienceKind.EVERYONE for k, _, _ in kinds),
        "groups": sorted(f"{p or '*'}@{c or '*'}" for k, p, c in kinds if k == AudienceKind.GROUP),
        "named_count": sum(1 for k, _, _ in kinds if k == AudienceKind.PERSON),
    }


@transaction.atomic
def notice_save(
    *,
    notice: Notice,
    audience: Sequence[AudienceSpec] | None,
    actor: Actor,
    now: dt.datetime,
    new_attachments: Sequence[tuple[str, bytes]] = (),
    remove_attachments: Sequence[str] = (),
    publish: bool = False,
) -> Notice:
    """Add (``notice.pk`` None) or change a notice; ``audience`` None keeps the rows it has.
    Attachments are checked before anything is written: one refused stores nothing."""
    notice_validate(notice=notice, audience=audience)
    checked = [attachment_check(file_name=name, data=data) for name, data in new_attachments]
    adding = notice.pk is None
    before = {} if adding else dict(Notice.objects.filter(pk=notice.pk).values(*AUDITED_FIELDS, "body").get())
    audience_before = _audience_summary(notice.pk)
    if adding:
        notice.public_id = crypto.random_token(12)
        notice.created_at = now
        notice.created_by = actor.account
    notice.updated_at = now
    notice.save()
    if audience is not None:
        _audience_replace(notice, audience)
    for item in checked:
        NoticeAttachment.objects.create(notice=notice, public_id=crypto.random_token(12), file_name=item.file_name,
                                        content_type=item.content_type, size=len(item.data),
                                        sha256=hashlib.sha256(item.data).hexdigest(), data=item.data, created_at=now)
    removed = NoticeAttachment.objects.filter(notice=notice, public_id__in=list(remove_attachments)).delete()[0] if remove_attachments else 0
    after = dict(Notice.objects.filter(pk=notice.pk).values(*AUDITED_FIELDS).get())
    changes = {name: {"old": _plain(before.get(name)), "new": _plain(after[name])} for name in AUDITED_FIELDS
               if adding or before.get(name) != after[name]}
    if not adding and before["body"] != notice.body:
        changes["body"] = {"old": f"{len(before['body'])}字", "new": f"{len(notice.body)}字"}
    audience_after = _audience_summary(notice.pk)
    if audience_after != audience_before:
        changes["audience"] = {"old": audience_before if not adding else None, "new": audience_after}
    if checked or removed:
        changes["attachments"] = {"old": None, "new": {"added": [c.file_name for c in checked], "removed": removed}}
    _bump_version()
    audit_record(actor=actor, action="notice.create" if adding else "notice.change", subject_type="notice",
                 subject_ref=notice.public_id, changes=changes, now=now)
    if publish and notice.state != NoticeState.PUBLISHED:
        notice = notice_publish(notice=notice, actor=actor, now=now)
    return notice


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


@transaction.atomic
def notice_publish(*, notice: Notice, actor: Actor, now: dt.datetime) -> Notice:
    """Draft or withdrawn → published (``notice.publish``); people see it from its ``valid_from``."""
    return _move(notice, NoticeState.PUBLISHED, action="notice.publish", actor=actor, now=now,
                 extra={"published_at": now, "updated_at": now})


@transaction.atomic
def notice_withdraw(*, notice: Notice, actor: Actor, now: dt.datetime) -> Notice:
    """Published → withdrawn (``notice.withdraw``): gone from the list and the popups at once."""
    return _move(notice, NoticeState.WITHDRAWN, action="notice.withdraw", actor=actor, now=now, extra={"updated_at": now})


def _move(notice: Notice, to_state: str, *, action: str, actor: Actor, now: dt.datetime, extra: dict) -> Notice:
    old = notice.state
    row = transition(notice, to_state, actor_ref=actor.ref, reason=action, now=now, extra=extra)
    _bump_version()
    audit_record(actor=actor, action=action, subject_type="notice", subject_ref=row.public_id,
                 changes={"state": {"old": old, "new": to_state}}, now=now)
    return row


@transaction.atomic
def notice_mark_read(*, notice: Notice, actor: Actor, now: dt.datetime) -> NoticeRead:
    """The person read ``notice`` (opened it, or closed its popup): the first time is kept."""
    account = actor.citizen_account()
    row, _ = NoticeRead.objects.get_or_create(account=account, notice=notice, defaults={"read_at": now})
    return row


@transaction.atomic
def notice_acknowledge(*, notice: Notice, actor: Actor, now: dt.datetime) -> NoticeRead:
    """我已阅读并知晓: read and acknowledged (the first acknowledgement is kept)."""
    account = actor.citizen_account()
    row, _ = NoticeRead.objects.select_for_update().get_or_create(account=account, notice=notice,
                                                                  defaults={"read_at": now, "acknowledged_at": now})
    if row.acknowledged_at is None:
        row.acknowledged_at = now
        row.save(update_fields=["acknowledged_at"])
    return row


@transaction.atomic
def category_save(*, category: Any, actor: Actor, now: dt.datetime) -> Any:
    """Add or rename a notice category (``notice.category_save``)."""
    adding = category.pk is None
    before = None if adding else type(category).objects.filter(pk=category.pk).values("code", "name", "sort_order").get()
    category.full_clean()
    category.save()
    after = {"code": category.code, "name": category.name, "sort_order": category.sort_order}
    changes = {k: {"old": None if before is None else before[k], "new": v} for k, v in after.items() if before is None or before[k] != v}
    _bump_version()
    audit_record(actor=actor, action="notice.category_save", subject_type="notice_category", subject_ref=category.code,
                 changes=changes, now=now)
    return category

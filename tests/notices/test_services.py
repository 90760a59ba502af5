"""Writing notices: sanitising, the window, attachments by content, audit, version, read state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from shebao.audit.models import AuditEvent
from shebao.notices.models import Notice, NoticeAttachment, NoticeAudience, NoticeRead, NoticeState, NoticeVersion
from shebao.notices.sanitize import clean_body, clean_title
from shebao.notices.services import AudienceSpec, notice_acknowledge, notice_mark_read, notice_publish, notice_save
from tests import actors
from tests.notices.factories import NOW, PDF, PNG, category, notice_create, person_create, staff_create

pytestmark = pytest.mark.django_db

XSS_BODY = ('<p onclick="steal()">请<a href="javascript:alert(1)">点击</a>'
            '<a href="https://www.gxtax.gov.cn/" onmouseover="x()">官网</a></p>'
            '<script>alert(1)</script><img src=x onerror=alert(1)><iframe src="https://evil.example"></iframe>'
            '<a href="JaVaScRiPt:alert(2)">二</a><style>p{color:red}</style>')


def test_body_keeps_the_safe_subset_only():
    assert clean_body(XSS_BODY) == (
        '<p>请<a rel="noopener noreferrer nofollow">点击</a>'
        '<a href="https://www.gxtax.gov.cn/" rel="noopener noreferrer nofollow">官网</a></p>'
        '<a rel="noopener noreferrer nofollow">二</a>'
    )


def test_title_is_plain_text_without_script_handlers_or_javascript_urls():
    assert clean_title('<img src=x onerror=alert(1)>关于<b>调整</b>缴费&amp;基数<script>alert(1)</script> javascript:go()') == (
        "关于调整缴费&基数 go()"
    )


def test_save_sanitises_title_and_body_and_audits_the_staff_write():
    editor = staff_create()
    notice = notice_create(editor=editor, title="<script>x()</script>通知<b onclick=y()>一</b>", body=XSS_BODY)
    stored = Notice.objects.get(pk=notice.pk)
    assert stored.title == "通知一"
    assert stored.body == clean_body(XSS_BODY)
    assert "script" not in stored.body and "onclick" not in stored.body and "javascript" not in stored.body
    assert stored.state == NoticeState.PUBLISHED and stored.created_by == editor
    events = list(AuditEvent.objects.filter(subject_ref=notice.public_id).order_by("id").values_list("action", "actor_id"))
    assert events == [("notice.create", editor.pk), ("notice.publish", editor.pk)]
    assert NoticeVersion.objects.get(pk=1).value == 2


def test_a_window_ending_before_it_starts_is_refused_and_nothing_is_stored():
    editor = staff_create()
    notice = Notice(title="倒序", body="<p>正文</p>", category=category(), valid_from=NOW, valid_until=NOW - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as refused:
        notice_save(notice=notice, audience=[AudienceSpec.everyone()], actor=actors.staff(editor), now=NOW)
    assert refused.value.message_dict == {"valid_until": ["失效时间必须晚于生效时间"]}
    assert (Notice.objects.count(), AuditEvent.objects.filter(action__startswith="notice.").count()) == (0, 0)
    assert NoticeVersion.objects.get(pk=1).value == 0


def test_a_notice_needs_an_audience():
    notice = Notice(title="无对象", body="<p>正文</p>", category=category(), valid_from=NOW)
    with pytest.raises(ValidationError) as refused:
        notice_save(notice=notice, audience=[], actor=actors.staff(staff_create()), now=NOW)
    assert refused.value.message_dict == {"__all__": ["请至少选择一类推送对象"]}
    assert Notice.objects.count() == 0


def test_a_script_only_title_is_refused():
    notice = Notice(title="<script>alert(1)</script>", body="<p>正文</p>", category=category(), valid_from=NOW)
    with pytest.raises(ValidationError) as refused:
        notice_save(notice=notice, audience=[AudienceSpec.everyone()], actor=actors.staff(staff_create()), now=NOW)
    assert refused.value.message_dict == {"title": ["标题不能为空（已清除其中的脚本和标签）"]}


def test_attachments_are_stored_with_their_checked_type_and_a_refused_one_stores_nothing():
    notice = notice_create(attachments=[("../../政策解读.pdf", PDF), ("示意图.png", PNG)])
    rows = list(NoticeAttachment.objects.filter(notice=notice).values_list("file_name", "content_type", "size"))
    assert rows == [("政策解读.pdf", "application/pdf", len(PDF)), ("示意图.png", "image/png", len(PNG))]
    editor = staff_create()
    before = Notice.objects.get(pk=notice.pk)
    before.title = "改了标题"
    with pytest.raises(ValidationError) as refused:
        notice_save(notice=before, audience=None, actor=actors.staff(editor), now=NOW,
                    new_attachments=[("好的.pdf", PDF), ("伪装.pdf", b"<html><script>alert(1)</script></html>")])
    assert refused.value.messages == ["附件“伪装.pdf”的内容与文件类型不符，只能上传PDF、图片（JPG、PNG、GIF）或 Office 文件（Word、Excel、PowerPoint）"]
    assert NoticeAttachment.objects.filter(notice=notice).count() == 2
    assert Notice.objects.get(pk=notice.pk).title == "关于2026年度缴费的通知"
    assert not AuditEvent.objects.filter(actor=editor).exists()


def test_the_named_audience_is_audited_as_a_count_never_the_list():
    named = [person_create(), person_create()]
    notice = notice_create(audience=[AudienceSpec.person(p) for p in named] + [AudienceSpec.group(city_code="450100")])
    event = AuditEvent.objects.get(subject_ref=notice.public_id, action="notice.create")
    assert event.changes["audience"] == {"old": None, "new": {"everyone": False, "groups": ["*@450100"], "named_count": 2}}
    assert all(p.public_id not in str(event.changes) for p in named)
    assert NoticeAudience.objects.filter(notice=notice).count() == 3


def test_a_change_replaces_the_audience_rows_and_records_what_changed():
    editor = staff_create()
    notice = notice_create(editor=editor)
    notice.title = "新标题"
    notice_save(notice=notice, audience=[AudienceSpec.group(person_type="resident")], actor=actors.staff(editor), now=NOW)
    assert list(NoticeAudience.objects.filter(notice=notice).values_list("kind", "person_type", "city_code")) == [
        ("group", "resident", "")]
    change = AuditEvent.objects.get(subject_ref=notice.public_id, action="notice.change").changes
    assert change["title"] == {"old": "关于2026年度缴费的通知", "new": "新标题"}
    assert change["audience"] == {"old": {"everyone": True, "groups": [], "named_count": 0},
                                  "new": {"everyone": False, "groups": ["resident@*"], "named_count": 0}}


def test_publishing_twice_is_refused():
    from shebao.common.states import TransitionError

    notice = notice_create()
    with pytest.raises(TransitionError):
        notice_publish(notice=notice, actor=actors.staff(staff_create()), now=NOW)


def test_read_and_acknowledge_keep_the_first_times_and_only_the_persons_own_row():
    notice = notice_create()
    person = person_create()
    notice_mark_read(notice=notice, actor=actors.citizen(person), now=NOW)
    notice_mark_read(notice=notice, actor=actors.citizen(person), now=NOW + dt.timedelta(hours=1))
    notice_acknowledge(notice=notice, actor=actors.citizen(person), now=NOW + dt.timedelta(hours=2))
    notice_acknowledge(notice=notice, actor=actors.citizen(person), now=NOW + dt.timedelta(hours=3))
    assert list(NoticeRead.objects.values_list("account_id", "read_at", "acknowledged_at")) == [
        (person.pk, NOW, NOW + dt.timedelta(hours=2))]


def test_staff_cannot_mark_a_notice_read():
    from shebao.common.actor import ActorError

    with pytest.raises(ActorError):
        notice_mark_read(notice=notice_create(), actor=actors.staff(staff_create()), now=NOW)
    assert NoticeRead.objects.count() == 0

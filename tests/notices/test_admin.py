"""Back office: the 公告编辑 role writes, publishes and withdraws notices; every write is audited;
bad input is refused in Chinese with nothing stored; others get 403 (audited)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from shebao.audit.models import AuditEvent
from shebao.common.roles import ensure_roles
from shebao.notices.models import Notice, NoticeAttachment, NoticeAudience, NoticeCategory, NoticeState
from shebao.reference.models import City
from tests.notices.factories import HTML, NANNING, PDF, notice_create, person_create, staff_create
from tests.staff import verified_client

pytestmark = pytest.mark.django_db
ADD = "/admin/notices/notice/add/"


@pytest.fixture
def editor(reference_data):
    ensure_roles()
    user = staff_create()
    user.groups.add(Group.objects.get(name="公告编辑"))
    return user


def form(**overrides):
    data = {
        "title": "关于<script>alert(1)</script>2026年度灵活就业人员缴费基数的通知", "document_number": "桂税发〔2026〕8号",
        "level": "1", "category": str(NoticeCategory.objects.get(code="policy").pk), "body": '<p onclick="x()">正文</p>',
        "valid_from_0": "2026-03-01", "valid_from_1": "08:00:00", "valid_until_0": "2026-12-31", "valid_until_1": "23:59:59",
        "push_frequency": "first_login", "audience_cities": [str(City.objects.get(division_code=NANNING).pk)],
        "audience_person_types": ["flexible"], "publish_now": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_role_has_the_real_permissions_of_the_notice_models(editor):
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="公告编辑").permissions.all()}
    assert granted == {"notices.add_notice", "notices.change_notice", "notices.view_notice", "notices.add_noticecategory",
                       "notices.change_noticecategory", "notices.view_noticecategory"}


def test_an_editor_publishes_a_notice_to_one_city_with_an_attachment(editor):
    client = verified_client(editor)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, {**form(), "new_attachment": SimpleUploadedFile("基数表.pdf", PDF, content_type="text/html")})
    assert response.status_code == 302, response.content.decode()[:3000]
    notice = Notice.objects.get()
    assert (notice.title, notice.body, notice.state) == ("关于2026年度灵活就业人员缴费基数的通知", "<p>正文</p>", NoticeState.PUBLISHED)
    assert list(NoticeAudience.objects.values_list("kind", "person_type", "city_code")) == [("group", "flexible", NANNING)]
    assert list(NoticeAttachment.objects.values_list("file_name", "content_type")) == [("基数表.pdf", "application/pdf")]
    actions = list(AuditEvent.objects.filter(subject_ref=notice.public_id).order_by("id").values_list("action", "actor_id", "door"))
    assert actions == [("notice.create", editor.pk, "admin"), ("notice.publish", editor.pk, "admin")]


def test_a_disguised_attachment_is_refused_in_chinese_and_nothing_is_stored(editor):
    client = verified_client(editor)
    response = client.post(ADD, {**form(), "new_attachment": SimpleUploadedFile("通知.pdf", HTML, content_type="application/pdf")})
    assert response.status_code == 200
    assert "附件“通知.pdf”的内容与文件类型不符" in response.content.decode()
    assert (Notice.objects.count(), NoticeAttachment.objects.count()) == (0, 0)
    assert not AuditEvent.objects.filter(action__startswith="notice.").exists()


def test_an_oversize_attachment_is_refused(editor, settings):
    settings.NOTICE_ATTACHMENT_MAX_BYTES = 1024 * 1024
    client = verified_client(editor)
    big = SimpleUploadedFile("大.pdf", PDF + b"0" * (1024 * 1024), content_type="application/pdf")
    response = client.post(ADD, {**form(), "new_attachment": big})
    assert "附件“大.pdf”超过大小上限 1 MB" in response.content.decode()
    assert Notice.objects.count() == 0


def test_a_window_ending_before_it_starts_is_refused(editor):
    response = verified_client(editor).post(ADD, form(valid_until_0="2026-02-01"))
    assert response.status_code == 200 and "失效时间必须晚于生效时间" in response.content.decode()
    assert Notice.objects.count() == 0


def test_named_persons_by_id_number_unknown_ones_refused_masked(editor):
    person = person_create()
    client = verified_client(editor)
    refused = client.post(ADD, form(audience_cities=None, audience_person_types=None, audience_id_numbers="450103199001011234"))
    assert "以下证件号码没有已注册的用户：4501**********1234" in refused.content.decode()
    assert Notice.objects.count() == 0
    done = client.post(ADD, form(audience_cities=None, audience_person_types=None, audience_id_numbers=person.id_number))
    assert done.status_code == 302
    assert list(NoticeAudience.objects.values_list("kind", "account_id")) == [("person", person.pk)]
    page = client.get(f"/admin/notices/notice/{Notice.objects.get().pk}/change/").content.decode()
    assert "现指定 1 人" in page and person.id_number not in page


def test_withdraw_and_publish_again_from_the_list(editor):
    notice = notice_create()
    client = verified_client(editor)
    client.post("/admin/notices/notice/", {"action": "withdraw", "_selected_action": [notice.pk]})
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.WITHDRAWN
    client.post("/admin/notices/notice/", {"action": "publish", "_selected_action": [notice.pk]})
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.PUBLISHED
    assert list(AuditEvent.objects.filter(actor=editor).order_by("id").values_list("action", flat=True)) == [
        "notice.withdraw", "notice.publish"]


def test_no_delete_even_for_the_editor(editor):
    notice = notice_create()
    assert verified_client(editor).get(f"/admin/notices/notice/{notice.pk}/delete/").status_code == 403
    assert Notice.objects.filter(pk=notice.pk).exists()


def test_staff_without_the_role_get_403_and_an_audit_entry(reference_data):
    ensure_roles()
    auditor = staff_create()
    auditor.groups.add(Group.objects.get(name="审计员"))
    client = verified_client(auditor)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, form()).status_code == 403
    assert Notice.objects.count() == 0
    assert AuditEvent.objects.filter(action="staff.denied", actor=auditor, subject_ref=ADD).count() == 2


def test_a_new_category_is_audited(editor):
    client = verified_client(editor)
    response = client.post("/admin/notices/noticecategory/add/", {"code": "tips", "name": "办税提醒", "sort_order": "30"})
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="notice.category_save").changes["name"] == {"old": None, "new": "办税提醒"}

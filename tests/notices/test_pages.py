"""The person's pages: list, detail, download, popup (REQUIREMENTS §4.1)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from shebao.notices.models import Notice, NoticeLevel, NoticeRead, PushFrequency
from shebao.notices.services import AudienceSpec
from shebao.notices.viewer import city_cache_key
from tests.notices.factories import LIUZHOU, NANNING, PDF, notice_create, person_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(clock):
    return clock


def signed_in(account, *, city: str = NANNING, client: Client | None = None) -> Client:
    """A person's browser after login; their city as the core told it (kept in the cache)."""
    client = client or Client()
    client.force_login(account)
    cache.set(city_cache_key(account), city)
    return client


def popup_title(response) -> str | None:
    match = re.search(r'id="notice-dialog-title">([^<]*)<', response.content.decode())
    return match.group(1) if match else None


def test_the_list_is_open_to_everyone_and_sorts(client):
    notice_create(title="甲", document_number="桂税发〔2026〕2号")
    notice_create(title="乙", document_number="桂税发〔2026〕1号", audience=[AudienceSpec.group(city_code=LIUZHOU)])
    page = client.get("/notices/?sort=number")
    assert page.status_code == 200
    body = page.content.decode()
    assert "甲" in body and "乙" not in body  # 乙 is for 柳州 only
    assert 'aria-current="true">发文字号<' in body


def test_home_functions_link_the_list(client):
    assert 'href="/notices/"' in client.get("/m/public").content.decode()


def test_a_notice_for_named_persons_is_404_for_everyone_else(client):
    named = person_create()
    notice = notice_create(title="致本人", audience=[AudienceSpec.person(named)])
    assert client.get(f"/notices/{notice.public_id}").status_code == 404
    assert signed_in(person_create()).get(f"/notices/{notice.public_id}").status_code == 404
    assert "致本人" not in signed_in(person_create()).get("/notices/").content.decode()
    mine = signed_in(named)
    assert mine.get(f"/notices/{notice.public_id}").status_code == 200
    assert "致本人" in mine.get("/notices/").content.decode()


def test_detail_renders_the_body_cleaned_again_and_records_the_read(client):
    person = person_create()
    notice = notice_create(title="正文", body="<p>安全</p>")
    Notice.objects.filter(pk=notice.pk).update(body='<p onclick="x()">安全</p><script>alert(1)</script>')  # behind the service
    page = signed_in(person).get(f"/notices/{notice.public_id}")
    body = page.content.decode()
    assert '<div class="nt-body"><p>安全</p></div>' in body and "alert(1)" not in body
    assert NoticeRead.objects.filter(account=person, notice=notice).count() == 1
    client.get(f"/notices/{notice.public_id}")  # a visitor's read is not recorded
    assert NoticeRead.objects.count() == 1


def test_attachment_downloads_with_a_safe_file_name_and_its_checked_type(client):
    notice = notice_create(attachments=[('政策"解读;x.pdf', PDF)])
    file_id = notice.attachments.get().public_id
    response = client.get(f"/notices/{notice.public_id}/files/{file_id}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E6%94%BF%E7%AD%96_%E8%A7%A3%E8%AF%BB_x.pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == PDF
    assert client.get(f"/notices/{notice.public_id}/files/nope").status_code == 404


def test_first_login_popup_shows_until_closed_and_not_again():
    person = person_create()
    notice = notice_create(title="首次登录通知")
    browser = signed_in(person)
    page = browser.get("/accounts/me")
    assert popup_title(page) == "首次登录通知"
    assert 'role="dialog" aria-modal="true" aria-labelledby="notice-dialog-title"' in page.content.decode()
    closed = browser.post(f"/notices/{notice.public_id}/close", {"next": "/accounts/me"})
    assert closed.status_code == 302 and closed["Location"] == "/accounts/me"
    assert popup_title(browser.get("/accounts/me")) is None
    assert popup_title(signed_in(person).get("/m/fees")) is None  # the next login: read, so not again


def test_every_login_popup_comes_back_at_the_next_login_only():
    person = person_create()
    notice = notice_create(title="每次登录通知", frequency=PushFrequency.EVERY_LOGIN)
    browser = signed_in(person)
    browser.post(f"/notices/{notice.public_id}/close", {"next": "/"})
    assert popup_title(browser.get("/m/fees")) is None  # opening another function in the same login
    assert popup_title(signed_in(person).get("/m/fees")) == "每次登录通知"


def test_a_critical_notice_closes_only_when_acknowledged():
    person = person_create()
    notice = notice_create(title="非常重要通知", level=NoticeLevel.CRITICAL)
    browser = signed_in(person)
    page = browser.get("/").content.decode()
    assert "我已阅读并知晓" in page and "data-notice-close" not in page and 'data-critical="1"' in page
    browser.post(f"/notices/{notice.public_id}/close", {"next": "/"})
    assert popup_title(browser.get("/")) == "非常重要通知"
    assert not NoticeRead.objects.filter(account=person).exists()
    browser.post(f"/notices/{notice.public_id}/acknowledge", {"next": "//evil.example/"})
    assert popup_title(browser.get("/")) is None
    assert NoticeRead.objects.get(account=person, notice=notice).acknowledged_at is not None
    assert popup_title(signed_in(person).get("/")) is None


def test_the_popup_follows_the_persons_city():
    notice_create(title="南宁通知", audience=[AudienceSpec.group(city_code=NANNING)])
    assert popup_title(signed_in(person_create(), city=NANNING).get("/")) == "南宁通知"
    assert popup_title(signed_in(person_create(), city=LIUZHOU).get("/")) is None


def test_visitors_and_staff_get_no_popup(client):
    from tests.notices.factories import staff_create

    notice_create(title="全体")
    assert popup_title(client.get("/")) is None
    staff = Client()
    staff.force_login(staff_create())
    assert popup_title(staff.get("/")) is None


def test_the_popup_dialog_works_in_elderly_mode():
    notice_create(title="大字版通知")
    browser = signed_in(person_create())
    browser.cookies["elderly"] = "1"
    page = browser.get("/")
    assert popup_title(page) == "大字版通知"
    assert '<body class="elderly"' in page.content.decode()


def test_the_city_comes_from_the_core_once_per_login():
    from django.core.management import call_command

    from shebao.accounts.models import Account
    from shebao.common.identity import identity_index
    from shebao.core import demo_data

    def account_of(name: str) -> Account:
        person = next(p for p in demo_data.DEMO_PEOPLE if p[0] == name)
        return Account.objects.get(id_index=identity_index(id_type="201", id_number=demo_data.demo_id(person)))

    call_command("seed_demo", "--no-history", "--no-notices", stdout=open("/dev/null", "w"))
    notice_create(title="南宁灵活就业通知", audience=[AudienceSpec.group(person_type="flexible", city_code=NANNING)])
    zhang = Client()
    zhang.force_login(account_of("张伟"))  # flexible, 南宁
    assert popup_title(zhang.get("/")) == "南宁灵活就业通知"
    assert cache.get(city_cache_key(account_of("张伟"))) == NANNING
    li = Client()
    li.force_login(account_of("李秀兰"))  # resident, 桂林
    assert popup_title(li.get("/")) is None


def test_seed_demo_publishes_the_demo_notices_once():
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    rows = list(Notice.objects.order_by("document_number").values_list("level", "state"))
    assert rows == [(NoticeLevel.CRITICAL, "published"), (NoticeLevel.IMPORTANT, "published"), (NoticeLevel.NORMAL, "published")]


def test_no_core_look_up_while_no_live_notice_is_aimed_at_a_city():
    person = person_create()
    notice_create(title="全体")
    browser = Client()
    browser.force_login(person)
    assert popup_title(browser.get("/")) == "全体"
    assert cache.get(city_cache_key(person)) is None  # the city was not needed, so not asked for

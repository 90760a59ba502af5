"""通知公告 end to end (issue 12): a 公告编辑 staff member signs in to the back office with
password and TOTP, publishes a 非常重要 first-login notice to the residents of 百色; 韦玉梅
(城乡居民, 百色), in 大字版, logs in and gets it as a modal dialog that Esc does not close,
acknowledges it (我已阅读并知晓), and it does not pop up again on opening another function;
陈静 (no city at the core, so not in 百色) logs in and gets no popup. The notice is withdrawn
at the end, so the people of the later tests see none."""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from shebao.core.demo_data import DEMO_PEOPLE
from tests.browser.conftest import ROOT, VENV_BIN, _run_manage
from tests.browser.flows import login_demo, submit_password

pytestmark = pytest.mark.browser

EDITOR = "notice_editor"
EDITOR_PASSWORD = "Editor@2026-notices"
NUMBER = "桂税浏览器〔2026〕1号"
TITLE = "关于百色市城乡居民缴费档次调整的通知"
CREATE_EDITOR = f"""
from django.contrib.auth.models import Group
from shebao.accounts.models import Account
from shebao.common import clock, crypto
user = Account.objects.filter(username={EDITOR!r}).first() or Account(public_id=crypto.random_token(12), username={EDITOR!r},
                                                                  is_staff=True, created_at=clock.now())
user.set_password({EDITOR_PASSWORD!r})
user.save()
user.groups.set([Group.objects.get(name="公告编辑")])
"""
WITHDRAW = f"""
from shebao.common import clock
from shebao.common.actor import Actor
from shebao.notices.models import Notice
from shebao.notices.services import notice_withdraw
for notice in Notice.objects.filter(document_number={NUMBER!r}, state="published"):
    notice_withdraw(notice=notice, actor=Actor.system("browser-test"), now=clock.now())
"""


def _demo(name: str):
    return next(p for p in DEMO_PEOPLE if p[0] == name)


def _totp_secret(server) -> bytes:
    """Bind an authenticator to the editor (``manage.py staff_totp``) and read its secret from the otpauth address."""
    done = subprocess.run([str(VENV_BIN / "python"), "manage.py", "staff_totp", EDITOR, "--no-qr"], cwd=ROOT, env=server.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    uri = re.search(r"otpauth://\S+", done.stdout).group(0)
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _login_to_popup(phone, outbox, person) -> None:
    """``flows.login_demo`` up to the SMS code; the page behind the popup is inert, so its heading is not looked for."""
    from shebao.core.demo_data import DEMO_PASSWORD, demo_id

    outbox.wait_until_free(person[4])
    phone.goto("/accounts/login")
    mark = outbox.mark(person[4])
    submit_password(phone, demo_id(person), DEMO_PASSWORD)
    expect(phone.page.get_by_role("heading", name="短信验证")).to_be_visible()
    phone.page.get_by_label("短信验证码", exact=True).fill(outbox.code(person[4], after=mark))
    phone.page.get_by_role("button", name="登录", exact=True).click()


def _code(key: bytes) -> str:
    from django_otp.oath import totp

    return f"{totp(key, step=30, t0=0, digits=6):06d}"


def _publish(staff, server) -> None:
    page = staff.page
    key = _totp_secret(server)
    staff.goto("/admin/login/?next=/admin/notices/notice/add/")
    page.locator("#id_username").fill(EDITOR)
    page.locator("#id_password").fill(EDITOR_PASSWORD)
    page.get_by_label("动态口令").fill(_code(key))
    staff.shot("staff-login")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="增加 通知公告")).to_be_visible()
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("发文字号").fill(NUMBER)
    page.get_by_label("重要程度").select_option(label="非常重要")
    page.get_by_label("类别").select_option(label="业务通知")
    page.get_by_label("正文").fill('<p>2027年度百色市城乡居民养老保险缴费档次有调整，请在扣款前确认。</p><script>alert("x")</script>')
    yesterday = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8) - dt.timedelta(days=1)).date()
    page.locator("#id_valid_from_0").fill(yesterday.isoformat())
    page.locator("#id_valid_from_1").fill("08:00:00")
    page.get_by_label("推送频率").select_option(label="首次登录推送")
    page.get_by_label("推送给所有人").uncheck()
    page.get_by_label("城乡居民", exact=True).check()
    page.get_by_label("百色市", exact=True).check()
    page.get_by_label("保存后立即发布").check()
    staff.shot("notice-form")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text(f"成功添加了 通知公告“{TITLE}”")
    expect(page.locator("#result_list")).to_contain_text("已发布")
    staff.shot("notice-published")


def test_staff_publish_a_notice_to_one_city_a_resident_there_acknowledges_it_once(phone_factory, outbox, server):
    _run_manage(server.env, "shell", "-c", CREATE_EDITOR)
    staff = phone_factory("notices-staff")
    staff.audit = None  # the back office is a desktop page: the phone's numbers do not apply
    try:
        _publish(staff, server)

        resident = phone_factory("notices-resident-baise", elderly=True)
        _login_to_popup(resident, outbox, _demo("韦玉梅"))
        page = resident.page
        dialog = page.get_by_role("dialog", name=TITLE)
        expect(dialog).to_be_visible()
        assert resident.elderly()  # 大字版 (its switch sits behind the dialog, inert)
        expect(dialog).to_be_focused()
        expect(dialog).not_to_contain_text('alert("x")')
        resident.shot("notice-popup", manual="notice-popup")
        page.keyboard.press("Escape")  # 非常重要: Esc does not close it, focus goes to the button
        expect(dialog).to_be_visible()
        ack = dialog.get_by_role("button", name="我已阅读并知晓")
        expect(ack).to_be_focused()
        page.keyboard.press("Tab")  # focus stays in the dialog
        assert page.evaluate("document.activeElement.closest('#notice-dialog') !== null")
        ack.click()
        expect(page.get_by_role("dialog")).to_have_count(0)
        expect(page.get_by_role("heading", name="信息查看")).to_be_visible()
        resident.shot("notice-acknowledged")
        resident.goto("/m/fees")
        expect(page.get_by_role("heading", name="涉费业务")).to_be_visible()
        expect(page.get_by_role("dialog")).to_have_count(0)
        resident.goto("/notices/")
        page.get_by_role("link", name=re.compile(TITLE)).click()
        expect(page.get_by_text("您已于")).to_be_visible()
        resident.shot("notice-detail")
        assert not resident.findings, "\n".join(resident.findings)

        elsewhere = phone_factory("notices-elsewhere")
        login_demo(elsewhere, outbox, _demo("陈静"), shot_prefix="notice-login")
        expect(elsewhere.page.get_by_role("heading", name="信息查看")).to_be_visible()
        expect(elsewhere.page.get_by_role("dialog")).to_have_count(0)
        elsewhere.goto("/notices/")
        expect(elsewhere.page.get_by_text(TITLE)).to_have_count(0)
        elsewhere.shot("notice-list-elsewhere")
        assert not elsewhere.findings, "\n".join(elsewhere.findings)
    finally:
        _run_manage(server.env, "shell", "-c", WITHDRAW)



"""The simulator's outbox: read_outbox, the "模拟手机" page, its JSON, the control switch
and the ``manage.py outbox`` command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import httpx
from django.core.management import call_command

from shebao.adapters.sms.simulator import latest_code, read_outbox

A, B = "13800138000", "13900139000"


def _send_three(gateway, sim_clock):
    gateway.send_code(mobile=A, code="111111", request_id="r1")
    sim_clock.advance(minutes=2)
    gateway.send_code(mobile=B, code="222222", request_id="r2")
    sim_clock.advance(minutes=2)
    gateway.send_code(mobile=A, code="333333", request_id="r3")


def test_read_outbox_is_newest_first_filters_by_phone_and_limits(gateway, sms_sim, sim_clock):
    _send_three(gateway, sim_clock)

    assert [m["out_id"] for m in read_outbox(sms_sim.state_path)] == ["r3", "r2", "r1"]
    assert [m["out_id"] for m in read_outbox(sms_sim.state_path, phone=A)] == ["r3", "r1"]
    assert [m["out_id"] for m in read_outbox(sms_sim.state_path, limit=1)] == ["r3"]
    assert latest_code(sms_sim.state_path, A) == "333333"
    assert latest_code(sms_sim.state_path, "13700137000") is None


def test_read_outbox_without_a_state_file_is_empty_and_creates_nothing(tmp_path):
    assert read_outbox(tmp_path / "absent.sqlite3") == []
    assert not (tmp_path / "absent.sqlite3").exists()


def test_outbox_page_lists_messages_in_shanghai_time_without_inline_script(gateway, sms_sim, sim_clock):
    _send_three(gateway, sim_clock)

    response = httpx.get(sms_sim.url + "/outbox", params={"phone": A}, timeout=5)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"].startswith("default-src 'none'; style-src 'self'")
    page = response.text
    assert "<title>模拟手机 · 短信收件箱</title>" in page
    assert '<link rel="stylesheet" href="/sim/sms/outbox.css">' in page
    assert page.index("您的验证码为333333") < page.index("您的验证码为111111")
    assert "2025-03-03 08:04:00 · 13800138000" in page
    assert "222222" not in page
    assert "<script" not in page and "style=" not in page
    assert httpx.get(sms_sim.url + "/", timeout=5).text.count("<li>") == 3
    css = httpx.get(sms_sim.url + "/outbox.css", timeout=5)
    assert (css.status_code, css.headers["content-type"]) == (200, "text/css; charset=utf-8")


def test_outbox_page_escapes_what_it_shows(sms_sim):
    response = httpx.get(sms_sim.url + "/outbox", params={"phone": '"><script>x</script>'}, timeout=5)

    assert response.status_code == 200
    assert "<script>" not in response.text
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in response.text
    assert '<li class="empty">暂无短信</li>' in response.text


def test_outbox_json(gateway, sms_sim, sim_clock):
    _send_three(gateway, sim_clock)

    body = httpx.get(sms_sim.url + "/outbox.json", params={"phone": B}, timeout=5).json()

    assert body == {
        "messages": [
            {
                "biz_id": read_outbox(sms_sim.state_path, phone=B)[0]["biz_id"],
                "phone": B,
                "sign_name": "广西税务",
                "template_code": "SMS_000001",
                "params": {"code": "222222"},
                "text": "【广西税务】您的验证码为222222，5分钟内有效，请勿泄露给他人。",
                "out_id": "r2",
                "sent_at": "2025-03-03T00:02:00+00:00",
            }
        ]
    }


def test_control_rejects_unknown_modes_and_keeps_the_current_one(gateway, sms_sim):
    response = httpx.post(sms_sim.url + "/_control", json={"mode": "explode"}, timeout=5)

    assert response.status_code == 400
    gateway.send_code(mobile=A, code="123456", request_id="r1")
    assert latest_code(sms_sim.state_path, A) == "123456"


def test_unknown_path_is_404(sms_sim):
    assert httpx.get(sms_sim.url + "/nothing-here", timeout=5).status_code == 404


def test_outbox_command_prints_newest_first_in_shanghai_time(gateway, sms_sim, sim_clock, settings):
    settings.SIM_STATE_DIR = sms_sim.state_path.parent
    _send_three(gateway, sim_clock)
    out = StringIO()

    call_command("outbox", "--phone", A, "--limit", "5", stdout=out)

    assert out.getvalue().splitlines() == [
        "2025-03-03 08:04:00  13800138000  【广西税务】您的验证码为333333，5分钟内有效，请勿泄露给他人。",
        "2025-03-03 08:00:00  13800138000  【广西税务】您的验证码为111111，5分钟内有效，请勿泄露给他人。",
    ]


def test_outbox_command_says_when_empty(tmp_path, settings):
    settings.SIM_STATE_DIR = tmp_path
    out = StringIO()

    call_command("outbox", stdout=out)

    assert out.getvalue() == "（收件箱为空）\n"


def test_sent_at_is_the_simulator_clock(gateway, sms_sim, sim_clock):
    sim_clock.now = dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)
    gateway.send_code(mobile=A, code="123456", request_id="r1")

    assert read_outbox(sms_sim.state_path)[0]["sent_at"] == dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)

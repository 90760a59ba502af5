"""get_sms_gateway(): the configured client from settings.SMS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from shebao.adapters.sms import get_sms_gateway
from shebao.adapters.sms.aliyun import AliyunSmsGateway


def test_builds_the_aliyun_client_from_settings(settings):
    settings.SMS = {**settings.SMS, "ENDPOINT": "http://127.0.0.1:1/sim/sms/", "SIGN_NAME": "广西税务", "TIMEOUT_SECONDS": 3.0}

    gateway = get_sms_gateway()

    assert isinstance(gateway, AliyunSmsGateway)
    assert (gateway.endpoint, gateway.access_key_id, gateway.sign_name, gateway.template_code) == (
        "http://127.0.0.1:1/sim/sms/",
        settings.SMS["ACCESS_KEY_ID"],
        "广西税务",
        settings.SMS["TEMPLATE_CODE"],
    )
    assert gateway._http.timeout == 3.0
    assert get_sms_gateway() is gateway  # one client (connection pool) per configuration


def test_unknown_provider_is_improperly_configured(settings):
    settings.SMS = {**settings.SMS, "PROVIDER": "carrier-pigeon"}

    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        get_sms_gateway()


def test_missing_secret_is_improperly_configured(settings):
    settings.SMS = {**settings.SMS, "ACCESS_KEY_SECRET": ""}

    with pytest.raises(ImproperlyConfigured, match="ACCESS_KEY_SECRET"):
        get_sms_gateway()


def test_importing_the_package_does_not_load_the_http_client():
    code = "import sys, shebao.adapters.sms; print('httpx' in sys.modules, 'shebao.adapters.sms.aliyun' in sys.modules)"
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout

    assert out == "False False\n"


def test_configured_client_and_simulator_with_default_settings_work_together(settings, tmp_path):
    from shebao.adapters.loopback import LoopbackServer
    from shebao.adapters.sms.simulator import latest_code, make_sms_simulator

    server = LoopbackServer(make_sms_simulator(tmp_path / "sms.sqlite3")).start()  # credentials from settings.SMS
    try:
        settings.SMS = {**settings.SMS, "ENDPOINT": server.url + "/"}
        result = get_sms_gateway().send_code(mobile="13800138000", code="246810", request_id="req-e2e")
    finally:
        server.stop()

    assert result.provider_ref.endswith("^0")
    assert latest_code(tmp_path / "sms.sqlite3", "13800138000") == "246810"


def test_the_configured_client_takes_its_timestamp_from_the_service_clock(settings, monkeypatch):
    import datetime as dt

    from shebao.common import clock as clock_module

    monkeypatch.setattr(clock_module, "now", lambda: dt.datetime(2026, 3, 2, 10, 0, 7, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    settings.SMS = {**settings.SMS, "ENDPOINT": "http://127.0.0.1:1/clock-check/"}

    headers, _ = get_sms_gateway().signed_request("SendSms", {"PhoneNumbers": "13800138000"})

    assert headers["x-acs-date"] == "2026-03-02T02:00:07Z"

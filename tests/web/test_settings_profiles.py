"""Fail-safe configuration: config.settings imported in a fresh interpreter (no pytest in
it, so no automatic test profile) with a chosen environment. An unset SHEBAO_ENV is
production, which refuses to start without its secrets, with debug or with simulators."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import json, config.settings as s; "
    "print(json.dumps({'env': s.ENV, 'debug': s.DEBUG, 'simulators': s.SIMULATORS_ENABLED, "
    "'sms_endpoint': s.SMS['ENDPOINT'], 'secure_cookies': s.SECURE_COOKIES}))"
)

# Variables that decide the outcome: removed from the inherited environment first.
_CONTROLLED = ("SHEBAO_ENV", "DJANGO_DEBUG", "SIMULATORS_ENABLED", "DJANGO_SETTINGS_MODULE", "SMS_ENDPOINT")


def production_env() -> dict[str, str]:
    """Every variable production requires, with well-formed dummy values."""
    from django.conf import settings

    values = {name: f"dummy-{name.lower()}" for name in settings.PRODUCTION_REQUIRED}
    values.update(ALLOWED_HOSTS="12366.example.cn", SHEBAO_SELF_URL="https://12366.example.cn")
    return values


def import_settings(tmp_path, *, prelude: str = "", **env: str) -> subprocess.CompletedProcess:
    from django.conf import settings

    base = {k: v for k, v in os.environ.items() if k not in _CONTROLLED and k not in settings.PRODUCTION_REQUIRED}
    base.update(SHEBAO_VAR_DIR=str(tmp_path / "var"), SIM_STATE_DIR=str(tmp_path / "sim"), **env)
    return subprocess.run([sys.executable, "-c", prelude + PROBE], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)


def loaded(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr, result.stderr[-2000:]
    return result.stderr.strip().splitlines()[-1]


def test_unset_profile_is_production_and_refuses_to_start_without_secrets(tmp_path):
    message = refused(import_settings(tmp_path))
    assert "production (the default when unset)" in message
    for name in ("SECRET_KEY", "SHEBAO_PII_KEY", "SMS_ACCESS_KEY_SECRET", "WECHATPAY_APIV3_KEY", "ALLOWED_HOSTS"):
        assert name in message
    assert not (tmp_path / "var" / "dev-secrets.json").exists()  # no development secrets generated either


def test_unset_profile_with_every_secret_is_production(tmp_path):
    settings = loaded(import_settings(tmp_path, **production_env()))
    assert settings == {
        "env": "production", "debug": False, "simulators": False,
        "sms_endpoint": "https://dysmsapi.aliyuncs.com/", "secure_cookies": True,
    }


def test_explicit_production_names_only_what_is_missing(tmp_path):
    env = production_env()
    del env["SHEBAO_PII_KEY"], env["WECHAT_SECRET"]
    message = refused(import_settings(tmp_path, SHEBAO_ENV="production", **env))
    assert message.endswith(
        "these environment variables are missing: SHEBAO_PII_KEY, WECHAT_SECRET. "
        "Set them, or run with SHEBAO_ENV=development on a developer machine (make run does)."
    )


def test_unknown_profile_is_refused(tmp_path):
    message = refused(import_settings(tmp_path, SHEBAO_ENV="prod"))
    assert "SHEBAO_ENV='prod' is not a profile; use one of: development, test, production" in message


@pytest.mark.parametrize("switch", ["DJANGO_DEBUG", "SIMULATORS_ENABLED"])
@pytest.mark.parametrize("profile", [None, "production"])
def test_production_refuses_debug_and_simulators(tmp_path, switch, profile):
    env = {**production_env(), switch: "1", **({"SHEBAO_ENV": profile} if profile else {})}
    message = refused(import_settings(tmp_path, **env))
    assert f"{switch} may not be on in production" in message


def test_development_must_be_asked_for_and_keeps_its_simulators(tmp_path):
    settings = loaded(import_settings(tmp_path, SHEBAO_ENV="development", DJANGO_DEBUG="1"))
    assert (settings["env"], settings["debug"], settings["simulators"]) == ("development", True, True)
    assert settings["sms_endpoint"].endswith("/sim/sms/")
    assert (tmp_path / "var" / "dev-secrets.json").exists()


def test_pytest_without_a_profile_still_gets_test(tmp_path):
    """pytest run directly (no make test, no root conftest) keeps the test profile."""
    assert loaded(import_settings(tmp_path, prelude="import pytest; "))["env"] == "test"

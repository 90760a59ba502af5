"""get_identity_check() from settings.IDENTITY_CHECK; the simulator as mounted in
development (/sim/identity via SimulatorDispatcher) and its test switches."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from shebao.adapters.identity import get_identity_check
from shebao.adapters.identity.aliyun import AliyunMobile3MetaCheck
from shebao.adapters.identity.simulator import read_calls
from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.simulators import SimulatorDispatcher
from shebao.core.demo_data import DEMO_PEOPLE, demo_id


def test_builds_the_aliyun_client_from_settings(settings):
    settings.IDENTITY_CHECK = {**settings.IDENTITY_CHECK, "ENDPOINT": "http://127.0.0.1:1/sim/identity/", "TIMEOUT_SECONDS": 3.0}

    check = get_identity_check()

    assert isinstance(check, AliyunMobile3MetaCheck)
    assert (check.endpoint, check.access_key_id, check.param_type) == ("http://127.0.0.1:1/sim/identity/", settings.IDENTITY_CHECK["ACCESS_KEY_ID"], "md5")
    assert check._http.timeout == 3.0
    assert get_identity_check() is check  # one client (connection pool) per configuration


@pytest.mark.parametrize(
    ("change", "match"),
    [({"PROVIDER": "tencent"}, "tencent"), ({"ACCESS_KEY_SECRET": ""}, "ACCESS_KEY_SECRET"), ({"PARAM_TYPE": "sm2"}, "PARAM_TYPE")])
def test_bad_configuration_is_improperly_configured(settings, change, match):
    settings.IDENTITY_CHECK = {**settings.IDENTITY_CHECK, **change}
    with pytest.raises(ImproperlyConfigured, match=match):
        get_identity_check()


def _not_ours(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b""]


@pytest.fixture
def dev_server(tmp_path, settings):
    """The development mount: every simulator under /sim/, ours at /sim/identity."""
    server = LoopbackServer(SimulatorDispatcher(_not_ours, state_dir=tmp_path / "sim")).start()
    settings.IDENTITY_CHECK = {**settings.IDENTITY_CHECK, "ENDPOINT": f"{server.url}/sim/identity/"}
    try:
        yield server
    finally:
        server.stop()


def test_dispatcher_mounts_the_simulator_with_the_demo_people_on_file(dev_server, tmp_path):
    check = get_identity_check()
    people = [p for p in DEMO_PEOPLE if p[4]]
    assert people
    for person in people:
        assert check.check_mobile(name=person[0], id_type="201", id_number=demo_id(person), mobile=person[4]).consistent
    zhang = people[0]
    wrong = check.check_mobile(name="张三", id_type="201", id_number=demo_id(zhang), mobile=zhang[4])
    assert (wrong.outcome, wrong.mismatch) == ("inconsistent", "name")
    assert len(read_calls(tmp_path / "sim" / "identity.sqlite3")) == len(people) + 1


@pytest.mark.parametrize(
    "body",
    [{"mode": "broken"}, {"unknown": "maybe"}, {"mode": "slow", "delay_seconds": 600}, []])
def test_control_refuses_unknown_switches(dev_server, body):
    import httpx

    response = httpx.post(f"{dev_server.url}/sim/identity/_control", json=body, timeout=5)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [{"mobile": "1390000", "name": "甲", "id_number": "x"}, {"mobile": "13900001111", "name": ""}, {"name": "甲"}, {"mobile": "13900001111", "no_record": "yes"}])
def test_subscribers_refuses_incomplete_records(dev_server, body):
    import httpx

    response = httpx.post(f"{dev_server.url}/sim/identity/_subscribers", json=body, timeout=5)
    assert response.status_code == 400

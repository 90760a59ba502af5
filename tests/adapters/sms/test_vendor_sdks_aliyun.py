"""The Aliyun SMS simulator as Alibaba Cloud's own SDKs see it (pinned in requirements-dev.in):

* the current one, ``alibabacloud_dysmsapi20170525`` (Darabonba / tea-openapi), which signs
  with ACS3-HMAC-SHA256 (signature v3, ``Authorization`` header) by default;
* the legacy one, ``aliyun-python-sdk-core`` + ``aliyun-python-sdk-dysmsapi``, which signs
  RPC signature v1 (HMAC-SHA1 over the parameters).

Both take an endpoint *host*, so the simulator is served here at the root of its own
loopback port, as dysmsapi.aliyuncs.com would be; its clock is the real one (the SDKs
stamp requests with the wall clock). A wrong AccessKey secret must come back the way
Aliyun answers it (HTTP 400, ``SignatureDoesNotMatch``) and surface as each SDK's own
exception — the legacy SDK reads the server's string-to-sign out of the message after
``:`` and, when it equals its own, reports ``InvalidAccessKeySecret``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.sms.simulator import make_sms_simulator, read_outbox
from tests.adapters.sms.conftest import ACCESS_KEY_ID, SECRET, SIGN_NAME, TEMPLATE_CODE


@dataclass
class RootSim:
    host: str  # "127.0.0.1:PORT", what the SDKs take as endpoint
    state_path: Path


@pytest.fixture
def root_sim(tmp_path) -> Iterator[RootSim]:
    state_path = tmp_path / "sms.sqlite3"
    app = make_sms_simulator(state_path, access_key_id=ACCESS_KEY_ID, secret=SECRET,
                             templates={TEMPLATE_CODE: "您的验证码为${code}，5分钟内有效，请勿泄露给他人。"})
    server = LoopbackServer(app).start()
    try:
        yield RootSim(host=server.url.removeprefix("http://"), state_path=state_path)
    finally:
        server.stop()


# --- alibabacloud_dysmsapi20170525 (signature v3) ---------------------------------------

def _new_client(sim: RootSim, secret: str):
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi import models as open_api_models

    config = open_api_models.Config(access_key_id=ACCESS_KEY_ID, access_key_secret=secret, endpoint=sim.host, protocol="http")
    return Client(config)


def _new_request(mobile: str, code: str):
    from alibabacloud_dysmsapi20170525 import models

    return models.SendSmsRequest(phone_numbers=mobile, sign_name=SIGN_NAME, template_code=TEMPLATE_CODE,
                                 template_param=json.dumps({"code": code}), out_id="req-1")


def test_current_sdk_sends_with_signature_v3(root_sim):
    from alibabacloud_tea_util.models import RuntimeOptions

    response = _new_client(root_sim, SECRET).send_sms_with_options(_new_request("13800138001", "246810"), RuntimeOptions(autoretry=False))

    assert response.status_code == 200
    assert (response.body.code, response.body.message) == ("OK", "OK")
    assert response.body.biz_id and response.body.request_id
    [message] = read_outbox(root_sim.state_path, phone="13800138001")
    assert message["text"] == "【广西税务】您的验证码为246810，5分钟内有效，请勿泄露给他人。"
    assert message["biz_id"] == response.body.biz_id


def test_current_sdk_with_a_wrong_secret_gets_signature_does_not_match(root_sim):
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_util.models import RuntimeOptions

    with pytest.raises(ClientException) as caught:
        _new_client(root_sim, "wrong-secret").send_sms_with_options(_new_request("13800138002", "135790"), RuntimeOptions(autoretry=False))

    error = caught.value
    assert (error.status_code, error.code) == (400, "SignatureDoesNotMatch")
    assert error.data["Message"].startswith("Specified signature does not match our calculation.")
    assert error.data["RequestId"] and error.data["HostId"] == root_sim.host
    assert error.data["Recommend"].endswith(f"requestId={error.data['RequestId']}")
    assert read_outbox(root_sim.state_path) == []


# --- aliyun-python-sdk-core + aliyun-python-sdk-dysmsapi (signature v1) -------------------

def _legacy_send(sim: RootSim, secret: str, mobile: str, code: str) -> dict:
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkdysmsapi.request.v20170525.SendSmsRequest import SendSmsRequest

    client = AcsClient(ACCESS_KEY_ID, secret, "cn-hangzhou", auto_retry=False)
    request = SendSmsRequest()
    request.set_endpoint(sim.host)
    request.set_protocol_type("http")
    request.set_PhoneNumbers(mobile)
    request.set_SignName(SIGN_NAME)
    request.set_TemplateCode(TEMPLATE_CODE)
    request.set_TemplateParam(json.dumps({"code": code}))
    return json.loads(client.do_action_with_exception(request))


def test_legacy_sdk_sends_with_signature_v1(root_sim):
    answer = _legacy_send(root_sim, SECRET, "13800138003", "864200")

    assert (answer["Code"], answer["Message"]) == ("OK", "OK") and answer["BizId"]
    [message] = read_outbox(root_sim.state_path, phone="13800138003")
    assert message["text"] == "【广西税务】您的验证码为864200，5分钟内有效，请勿泄露给他人。"


def test_legacy_sdk_with_a_wrong_secret_gets_its_signature_exception(root_sim):
    """Aliyun puts its string-to-sign after the ':' of the message; the legacy SDK compares it
    with its own (same here: only the secret differs) and says ``InvalidAccessKeySecret``."""
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    with pytest.raises(ServerException) as caught:
        _legacy_send(root_sim, "wrong-secret", "13800138004", "975310")

    error = caught.value
    assert (error.get_http_status(), error.get_error_code()) == (400, "InvalidAccessKeySecret")
    assert error.get_request_id()
    assert read_outbox(root_sim.state_path) == []

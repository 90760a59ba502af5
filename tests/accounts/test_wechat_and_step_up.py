"""Arrival from WeChat: snsapi_base openid bound for notices; money operations need a fresh SMS code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client, RequestFactory

from shebao.accounts.models import WechatBinding
from shebao.archive.models import ArchiveRecord
from shebao.common import clock as clock_module
from shebao.common.actor import request_actor
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db
ZHANG, LI = DEMO_PEOPLE[0], DEMO_PEOPLE[1]


def _authorise(client: Client, persona: str = "jia") -> str:
    """Follow the real redirect flow through the WeChat simulator; return our callback URL."""
    start = client.post("/accounts/wechat/bind")
    assert start.status_code == 302
    authorize_url = start["Location"]
    assert "#wechat_redirect" in authorize_url and "scope=snsapi_base" in authorize_url
    page = httpx.get(authorize_url.split("#")[0], timeout=5)
    assert page.status_code == 200
    query = parse_qs(urlsplit(authorize_url).query)
    choose = httpx.post(
        authorize_url.split("?")[0] + "/choose",
        data={"persona": persona, **{k: v[0] for k, v in query.items()}},
        timeout=5,
    )
    assert choose.status_code == 302, choose.text[:300]
    callback = choose.headers["location"]
    parts = urlsplit(callback)
    return f"{parts.path}?{parts.query}"


def test_bind_wechat_openid(sims, demo_people):
    client = Client()
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    response = client.get(_authorise(client))
    assert response.status_code == 302
    binding = WechatBinding.objects.get()
    assert binding.openid.startswith("o")
    assert ArchiveRecord.objects.filter(business_type="wechat_binding").count() == 1
    assert "已绑定" in client.get("/accounts/me").content.decode()


def test_same_openid_cannot_bind_two_accounts(sims, demo_people):
    zhang, li = Client(), Client()
    login(zhang, sims, demo_id(ZHANG), DEMO_PASSWORD)
    zhang.get(_authorise(zhang))
    login(li, sims, demo_id(LI), DEMO_PASSWORD)
    response = li.get(_authorise(li), follow=True)
    assert "该微信已绑定其他账号" in response.content.decode()
    assert WechatBinding.objects.count() == 1


def test_forged_state_refused(sims, demo_people):
    client = Client()
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    callback = _authorise(client)
    forged = callback.replace("state=", "state=x")
    response = client.get(forged, follow=True)
    assert "微信授权已失效" in response.content.decode()
    assert WechatBinding.objects.count() == 0


def test_denied_authorisation_binds_nothing(sims, demo_people):
    client = Client()
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    response = client.get(_authorise(client, persona="deny"), follow=True)
    assert "您未同意微信授权" in response.content.decode()
    assert WechatBinding.objects.count() == 0


def step_up_is_fresh(client) -> bool:
    """What the money services decide on: the actor the web door builds from this session."""
    from shebao.accounts.models import Account

    request = RequestFactory().get("/")
    request.session, request.user = client.session, Account.objects.get(pk=client.session["_auth_user_id"])
    return request_actor(request).step_up_fresh(clock_module.now())


def test_step_up_code_is_fresh_for_five_minutes(sims, demo_people, clock):
    client = Client()
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    assert step_up_is_fresh(client)  # the login's SMS code counts
    clock.advance(seconds=301)
    assert not step_up_is_fresh(client)
    client.post("/accounts/step-up", {"action": "send_code"})
    response = client.post("/accounts/step-up", {"action": "verify", "sms_code": sims.last_code(ZHANG[4]), "next": "/accounts/me"})
    assert response.status_code == 302 and response["Location"] == "/accounts/me"
    assert step_up_is_fresh(client)
    clock.advance(seconds=301)
    assert not step_up_is_fresh(client)


def test_step_up_wrong_code_refused(sims, demo_people, clock):
    client = Client()
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    clock.advance(seconds=301)  # past the login's own step-up
    client.post("/accounts/step-up", {"action": "send_code"})
    real = sims.last_code(ZHANG[4])
    response = client.post("/accounts/step-up", {"action": "verify", "sms_code": "000000" if real != "000000" else "111111"})
    assert response.status_code == 400
    assert not step_up_is_fresh(client)

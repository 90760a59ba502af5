"""Drive the user-centre pages with Django's test client (no browser)."""

from __future__ import annotations

import datetime as dt
import itertools

from shebao.common.idgen import make_resident_id

_seq = itertools.count(301, 2)
_mobile = itertools.count(13912340000)


def new_person(**overrides) -> dict[str, str]:
    """A fresh synthetic person with a valid resident ID and an unused mobile."""
    person = {
        "person_type": "flexible",
        "name": "测试用户",
        "id_type": "201",
        "id_number": make_resident_id(division_code="450103", birth=dt.date(1988, 8, 8), seq=next(_seq) % 1000),
        "mobile": str(next(_mobile)),
        "password": "Test@2026x",
    }
    person.update(overrides)
    return person


def register_code_form(person: dict[str, str]) -> dict[str, str]:
    """What 获取验证码 posts: the identity and the mobile (checked before a code is sent)."""
    fields = ("person_type", "name", "id_type", "id_number", "mobile")
    return {"action": "send_code", "idem": "idem-0001", **{k: person[k] for k in fields}}


def send_register_code(client, sims, person: dict[str, str]) -> str:
    response = client.post("/accounts/register", register_code_form(person))
    assert response.status_code == 200, response.content.decode()[:500]
    mobile = person["mobile"]
    code = sims.last_code(mobile)
    assert code is not None and len(code) == 6
    return code


def register(client, sims, person: dict[str, str], *, idem: str = "idem-0001", code: str | None = None):
    code = code or send_register_code(client, sims, person)
    data = {
        **person,
        "password2": person["password"],
        "sms_code": code,
        "agree": "on",
        "idem": idem,
        "action": "register",
    }
    return client.post("/accounts/register", data)


def login(client, sims, identifier: str, password: str):
    response = client.post("/accounts/login", {"identifier": identifier, "password": password})
    if response.status_code != 302:
        return response
    mobile_hint = None  # the code goes to the account's own mobile; the test reads the newest message
    messages = sims.messages()
    assert messages, "a login code was sent"
    mobile_hint = messages[0]["phone"]
    return client.post("/accounts/login/verify", {"action": "verify", "sms_code": sims.last_code(mobile_hint)})

"""Issue 8 "password fields are cleared after any form error": kept when the error is
elsewhere, cleared when the password itself was wrong (weak, mismatched, refused)."""

from __future__ import annotations

import re

import pytest

from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login, new_person, register, send_register_code

pytestmark = pytest.mark.django_db
ZHANG = DEMO_PEOPLE[0]


def _value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input type="password" name="{name}"[^>]*>', page).group(0)
    found = re.search(r'value="([^"]*)"', tag)
    return found.group(1) if found else None


def test_registration_keeps_both_passwords_when_the_error_is_elsewhere(client, sims, reference_data):
    person = new_person()
    code = send_register_code(client, sims, person)
    wrong = "000000" if code != "000000" else "111111"
    page = register(client, sims, person, code=wrong).content.decode()  # refused by the service: wrong code
    assert "验证码" in page
    assert _value(page, "password") == _value(page, "password2") == person["password"]
    page = register(client, sims, {**person, "id_number": "450103198808080000"}, code=code).content.decode()  # a form error
    assert _value(page, "password") == _value(page, "password2") == person["password"]


@pytest.mark.parametrize("change", [{"password": "abcdefgh"}, {"password2": "Other@2026x"}])
def test_registration_clears_both_passwords_when_a_password_is_wrong(client, sims, reference_data, change):
    person = new_person()
    code = send_register_code(client, sims, person)
    data = {**person, "password2": person["password"], "sms_code": code, "agree": "on", "idem": "k", "action": "register", **change}
    page = client.post("/accounts/register", data).content.decode()
    assert _value(page, "password") is None and _value(page, "password2") is None


def test_login_keeps_the_password_on_a_form_error_and_clears_it_when_refused(client, sims, demo_people):
    page = client.post("/accounts/login", {"identifier": "", "password": DEMO_PASSWORD}).content.decode()
    assert _value(page, "password") == DEMO_PASSWORD
    page = client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": "Wrong@2026"}).content.decode()
    assert "密码" in page and _value(page, "password") is None


def test_change_mobile_keeps_the_password_unless_it_was_wrong(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    new = "13700004444"
    client.post("/accounts/me/mobile", {"action": "send_code", "mobile": new})
    real = sims.last_code(new)
    wrong = "000000" if real != "000000" else "111111"
    page = client.post("/accounts/me/mobile", {"action": "save", "mobile": new, "sms_code": "12", "password": DEMO_PASSWORD}).content.decode()
    assert _value(page, "password") == DEMO_PASSWORD  # the code's format was wrong
    page = client.post("/accounts/me/mobile", {"action": "save", "mobile": new, "sms_code": wrong, "password": DEMO_PASSWORD}).content.decode()
    assert "验证码不正确" in page and _value(page, "password") == DEMO_PASSWORD
    page = client.post("/accounts/me/mobile", {"action": "save", "mobile": new, "sms_code": real, "password": "Wrong@2026"}).content.decode()
    assert "登录密码不正确" in page and _value(page, "password") is None

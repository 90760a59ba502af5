"""用户实名注册: accepted when valid; bad input changes nothing; one account per document."""

from __future__ import annotations

import pytest

from shebao.accounts.models import Account
from shebao.archive.models import ArchiveRecord
from shebao.audit.models import AuditEvent
from tests.accounts.helpers import new_person, register, send_register_code

pytestmark = pytest.mark.django_db


def test_register_creates_one_verified_account_archived_and_audited(client, sims, reference_data):
    person = new_person(person_type="resident", name="韦小宝")
    response = register(client, sims, person)
    assert response.status_code == 200
    assert "注册成功" in response.content.decode()
    account = Account.objects.get()
    assert (account.name, account.person_type, account.id_number, account.mobile) == ("韦小宝", "resident", person["id_number"], person["mobile"])
    assert account.real_name_verified is True
    assert account.check_password(person["password"])
    record = ArchiveRecord.objects.get(business_type="registration")
    assert record.subject_ref == account.public_id
    assert AuditEvent.objects.filter(action="account.register", outcome="success", subject_ref=account.public_id).count() == 1


def test_register_twice_with_same_form_creates_one_account(client, sims, reference_data):
    person = new_person()
    code = send_register_code(client, sims, person)
    first = register(client, sims, person, idem="same-key", code=code)
    second = register(client, sims, person, idem="same-key", code=code)
    assert first.status_code == second.status_code == 200
    assert "注册成功" in second.content.decode()
    assert Account.objects.count() == 1
    assert ArchiveRecord.objects.filter(business_type="registration").count() == 1


def test_register_existing_document_refused_without_revealing_owner(client, sims, reference_data):
    person = new_person(name="张三")
    assert register(client, sims, person, idem="k1").status_code == 200
    stranger = new_person(name="李四", id_number=person["id_number"])
    response = register(client, sims, stranger, idem="k2")
    body = response.content.decode()
    assert response.status_code == 400
    assert "该证件号码已注册" in body
    assert "张" not in body.replace("张三", "")  # no trace of the owner's name
    assert person["mobile"][-4:] not in body
    assert Account.objects.count() == 1


@pytest.mark.parametrize("name", ["阿卜杜热合曼·买买提艾力·阿不都克里木·吐尔逊江·艾合买提江·努尔麦麦提·阿布都热西提", "李〇", "Jean-Pierre O'Brien"])
def test_register_takes_long_names_hyphen_apostrophe_and_ling(client, sims, reference_data, name):
    """Issue 8: names over 30 characters, with "-", "'" or "〇" were refused."""
    response = register(client, sims, new_person(name=name))
    assert response.status_code == 200, response.content.decode()[:800]
    assert Account.objects.get().name == name


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "450103198808080000", "校验位"),
        ("id_number", "45010319880808001", "18位"),
        ("name", "张3", "姓名只能包含汉字"),
        ("password", "abcdefgh", "至少两种"),
        ("mobile", "12345678901", "手机号码格式不正确"),
    ])
def test_register_bad_input_gets_chinese_message_and_changes_nothing(client, sims, reference_data, field, value, message):
    person = new_person()
    code = send_register_code(client, sims, person)
    person[field] = value
    response = register(client, sims, person, code=code)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Account.objects.count() == 0
    assert ArchiveRecord.objects.count() == 0


def test_register_wrong_code_refused_and_counted(client, sims, reference_data):
    person = new_person()
    code = send_register_code(client, sims, person)
    wrong = "000000" if code != "000000" else "111111"
    response = register(client, sims, person, code=wrong)
    assert response.status_code == 400
    assert "验证码不正确，还可尝试4次" in response.content.decode()
    assert Account.objects.count() == 0
    assert register(client, sims, person, code=code).status_code == 200
    assert Account.objects.count() == 1


def test_password_containing_id_number_refused(client, sims, reference_data):
    person = new_person()
    person["password"] = "A" + person["id_number"]
    response = register(client, sims, person)
    assert response.status_code == 400
    assert "证件号码" in response.content.decode()
    assert Account.objects.count() == 0

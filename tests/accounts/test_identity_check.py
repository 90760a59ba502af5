"""实名核验 in registration and in the change of mobile: the carrier three-element check
(identity simulator at /sim/identity) and, for registration, the core's name for the
document. Only a consistent check lets a person in; nothing is stored otherwise."""

from __future__ import annotations

import pytest

from shebao.accounts.models import Account, SmsChallenge
from shebao.archive.models import ArchiveRecord
from shebao.common.models import IdempotencyKey
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login, new_person, register, send_register_code

pytestmark = pytest.mark.django_db

MISMATCH = "姓名、证件号码与手机号码的实名登记信息不一致，请核对"
NO_RECORD = "未查询到该手机号码的实名登记信息"
UNAVAILABLE = "实名核验服务暂不可用，请稍后再试"
CORE_MISMATCH = "姓名与该证件号码的社保登记信息不一致，请核对"
ZHANG = DEMO_PEOPLE[0]
WANG = next(p for p in DEMO_PEOPLE if p[0] == "王芳")  # in the core, no account yet


def _on_file(sims, person: dict[str, str]) -> dict[str, str]:
    sims.carrier_record(person["mobile"], person["name"], person["id_number"])
    return person


def _nothing_stored() -> None:
    assert Account.objects.count() == 0
    assert ArchiveRecord.objects.filter(business_type="registration").count() == 0
    assert IdempotencyKey.objects.filter(scope="account_register").count() == 0


def test_consistent_person_registers_and_the_outcome_and_time_are_kept(client, sims, reference_data, clock):
    person = _on_file(sims, new_person(name="覃美玲"))

    response = register(client, sims, person)

    assert response.status_code == 200 and "注册成功" in response.content.decode()
    account = Account.objects.get()
    (call,) = sims.identity_calls()
    assert (call["biz_code"], call["sub_code"]) == ("1", "101")
    assert (account.real_name_verified, account.identity_check_result, account.identity_verified_at) == (True, "consistent", clock())
    assert account.identity_check_ref == call["request_id"]  # the vendor's request id, nothing else of its answer
    snapshot = ArchiveRecord.objects.get(business_type="registration").snapshot
    assert '"consistent"' in snapshot and "BizCode" not in snapshot and "IspName" not in snapshot


def test_another_persons_id_with_ones_own_phone_is_refused_and_the_owner_is_not_locked_out(client, sims, reference_data):
    """The attack of the issue: someone registers the owner's ID and name with their own phone."""
    owner = _on_file(sims, new_person(name="黄丽娟"))
    attacker = _on_file(sims, new_person(name="莫小军"))
    posing = {**attacker, "name": owner["name"], "id_number": owner["id_number"]}

    response = register(client, sims, posing, idem="k-attacker")

    body = response.content.decode()
    assert response.status_code == 400 and MISMATCH in body
    assert "已注册" not in body
    _nothing_stored()
    assert [c["sub_code"] for c in sims.identity_calls()] == ["201"]  # neither name nor ID is the phone's owner
    # the owner registers with their own phone afterwards
    assert "注册成功" in register(client, sims, owner, idem="k-owner").content.decode()
    assert Account.objects.get().mobile == owner["mobile"]


@pytest.mark.parametrize(("field", "value"), [("name", "黄丽华"), ("id_number", None)])
def test_one_element_wrong_is_refused(client, sims, reference_data, field, value):
    person = _on_file(sims, new_person(name="黄丽娟"))
    wrong = {**person, field: value or new_person()["id_number"]}

    response = register(client, sims, wrong)

    assert response.status_code == 400 and MISMATCH in response.content.decode()
    _nothing_stored()


def test_a_refused_check_spends_the_sms_code(client, sims, reference_data):
    """Each guess at whose phone it is needs a new code (1 a minute, 10 a day)."""
    owner = _on_file(sims, new_person(name="黄丽娟"))
    code = send_register_code(client, sims, owner)
    assert MISMATCH in register(client, sims, {**owner, "name": "黄丽华"}, code=code).content.decode()

    again = register(client, sims, owner, code=code)

    assert again.status_code == 400 and "验证码已失效或未获取" in again.content.decode()
    assert len(sims.identity_calls()) == 1
    _nothing_stored()


def test_number_without_real_name_record_is_refused(client, sims, reference_data):
    person = new_person(name="陆晓燕")
    sims.carrier_record(person["mobile"], no_record=True)

    response = register(client, sims, person)

    assert response.status_code == 400 and NO_RECORD in response.content.decode()
    _nothing_stored()


@pytest.mark.parametrize("mode", ["unavailable", "throttled", "not_activated"])
def test_check_unavailable_stores_nothing_and_the_code_stays_usable(client, sims, reference_data, mode):
    person = _on_file(sims, new_person(name="覃美玲"))
    code = send_register_code(client, sims, person)
    sims.control("identity", mode=mode)

    response = register(client, sims, person, code=code)

    assert response.status_code == 400 and UNAVAILABLE in response.content.decode()
    _nothing_stored()
    assert SmsChallenge.objects.get().used_at is None  # rolled back with everything else
    sims.control("identity", mode="ok")
    assert "注册成功" in register(client, sims, person, code=code).content.decode()
    assert Account.objects.get().identity_check_result == "consistent"


def test_check_slower_than_the_timeout_is_unavailable(client, sims, reference_data, settings):
    settings.IDENTITY_CHECK = {**settings.IDENTITY_CHECK, "TIMEOUT_SECONDS": 0.3}
    person = _on_file(sims, new_person())
    code = send_register_code(client, sims, person)
    sims.control("identity", mode="slow", delay_seconds=1.5)

    response = register(client, sims, person, code=code)

    assert response.status_code == 400 and UNAVAILABLE in response.content.decode()
    _nothing_stored()


def test_wrong_sms_code_makes_no_billed_check(client, sims, reference_data):
    person = _on_file(sims, new_person())
    code = send_register_code(client, sims, person)
    response = register(client, sims, person, code="000000" if code != "000000" else "111111")
    assert response.status_code == 400 and "验证码不正确" in response.content.decode()
    assert sims.identity_calls() == []


def test_name_other_than_the_cores_for_the_document_is_refused(client, sims, demo_people):
    """The core holds 王芳's registration: another name with her ID is refused, even where
    the carrier would agree (the phone is on file under that other name and ID)."""
    impostor = _on_file(sims, new_person(person_type="resident", name="王小芳", id_number=demo_id(WANG)))
    before = Account.objects.count()

    response = register(client, sims, impostor)

    assert response.status_code == 400 and CORE_MISMATCH in response.content.decode()
    assert Account.objects.count() == before
    assert sims.identity_calls() == []  # refused before the billed call


def test_the_cores_person_with_their_own_phone_registers_and_sees_their_insured_data(client, sims, demo_people, clock):
    wang = _on_file(sims, new_person(person_type="resident", name="王芳", id_number=demo_id(WANG)))

    assert "注册成功" in register(client, sims, wang).content.decode()

    clock.advance(seconds=61)  # one SMS code per number per minute
    login(client, sims, wang["id_number"], wang["password"])
    assert "城乡居民基本养老保险" in client.get("/accounts/me").content.decode()


def test_documents_the_carriers_cannot_check_are_refused_before_the_code_is_spent(client, sims, reference_data):
    person = new_person(id_type="227", id_number="E12345678")
    code = send_register_code(client, sims, person)

    response = register(client, sims, person, code=code)

    assert response.status_code == 400 and "该证件类型暂不支持线上实名核验" in response.content.decode()
    assert SmsChallenge.objects.get().used_at is None
    assert sims.identity_calls() == []
    _nothing_stored()


# ---------------------------------------------------------------- change of mobile
def _change_mobile(client, sims, new: str):
    assert client.post("/accounts/me/mobile", {"action": "send_code", "mobile": new}).status_code == 200
    code = sims.last_code(new)
    return client.post("/accounts/me/mobile", {"action": "save", "mobile": new, "sms_code": code, "password": DEMO_PASSWORD})


def _zhang() -> Account:
    return next(a for a in Account.objects.all() if a.name == "张伟")


def test_change_to_own_number_passes_and_the_check_is_kept(client, sims, demo_people, clock):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    new = "13700005555"
    sims.carrier_record(new, "张伟", demo_id(ZHANG))

    assert _change_mobile(client, sims, new).status_code == 302

    account = _zhang()
    (call,) = sims.identity_calls()
    assert (account.mobile, account.identity_check_result, account.identity_check_ref) == (new, "consistent", call["request_id"])
    assert account.identity_verified_at == clock()


def test_change_to_someone_elses_number_is_refused(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    new = "13700006666"
    sims.carrier_record(new, "覃大力", new_person()["id_number"])

    response = _change_mobile(client, sims, new)

    assert response.status_code == 400 and MISMATCH in response.content.decode()
    account = _zhang()
    assert (account.mobile, account.identity_verified_at) == (ZHANG[4], None)
    assert ArchiveRecord.objects.filter(business_type="info_update").count() == 0


def test_change_while_the_check_is_unavailable_changes_nothing(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    new = "13700007777"
    sims.control("identity", mode="unavailable")

    response = _change_mobile(client, sims, new)

    assert response.status_code == 400 and UNAVAILABLE in response.content.decode()
    assert _zhang().mobile == ZHANG[4]
    assert SmsChallenge.objects.filter(purpose="change_mobile").get().used_at is None
    assert ArchiveRecord.objects.filter(business_type="info_update").count() == 0


def test_the_pages_tell_the_person_about_the_check(client, sims, demo_people):
    """PIPL art. 23: the person is told who gets their data for the check, and what is kept."""
    page = client.get("/accounts/register").content.decode()
    assert "请使用本人实名登记的手机号码" in page
    assert "阿里云身份核验服务" in page and "只保存核验结论、核验流水号和核验时间" in page
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    assert "新手机号码须为本人实名登记的号码" in client.get("/accounts/me/mobile").content.decode()

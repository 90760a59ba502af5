"""The virtual-account mode, the special refund pages (by receipt, by assessment sheet), the
decision letter and its public check, and the virtual-account results query, as people use
them: exact prompts, a clear Chinese message for each bad input with nothing stored, and
no page showing another person's refunds or another resident's virtual-account lines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from shebao.refunds.models import RefundApplication
from shebao.refunds.services import refunds_follow_up
from tests.fees.helpers import step_up
from tests.receipts.readback import ARTIFACTS, Rendered
from tests.refunds.helpers import account_named, card_number

pytestmark = pytest.mark.django_db
VA = "XN451002000000000001"
PROMPT = "未查询到申请退费缴费人是税票信息，请确认是否为城乡居民由虚拟户征收场景，如果是，请勾选虚拟户模式并录入虚拟户识别号"


def _client(name: str, sims=None, next_url: str = "/refunds/") -> Client:
    client = Client()
    client.force_login(account_named(name))
    if sims is not None:
        step_up(client, sims, next_url=next_url)
    return client


def _account_fields(name: str, **changes) -> dict:
    return {"bank_code": "102", "account_number": card_number(), "holder_name": name, "idem": "page-1", **changes}


def _sheet(**changes) -> dict:
    fields = {"sheet_no": "HD45010020251201", "agency": "南宁市社会保险事业局", "insurance_type_code": "10210-FLEX", "period": "2025-12",
              "paid_amount": "1000.00", "amount": "300.00", "reason": "缴费基数调整多缴退费", "assessed_on": "2026-01-15", "handler": "覃明"}
    return {**fields, **_account_fields("覃丽华"), **changes}


def test_without_a_receipt_the_exact_prompt_and_with_the_box_the_accounts_lines(refund_demo, clock):
    client = _client("农秀英")
    assert PROMPT in client.get("/refunds/normal").content.decode()
    page = client.get("/refunds/normal", {"va": "1", "va_id": VA}).content.decode()
    assert PROMPT not in page and "百色市右江区龙景街道东增社区居民委员会" in page
    assert "2026年度" in page and "400.00元" in page and page.count('name="item"') == 1  # only her line, not 罗桂兰's


@pytest.mark.parametrize(("va_id", "words"), [
    ("", "请录入虚拟户识别号"), ("XN12", "XN”加18位数字"), ("AB451002000000000001", "XN”加18位数字"),
    ("XN999999999999999999", "未查询到该虚拟户识别号"),
])
def test_a_bad_virtual_account_identifier_is_explained(refund_demo, clock, va_id, words):
    page = _client("农秀英").get("/refunds/normal", {"va": "1", "va_id": va_id}).content.decode()
    assert words in page and 'name="item"' not in page


def test_the_fuzzy_search_lists_matches_and_refuses_short_words(refund_demo, clock):
    client = _client("农秀英")
    page = client.get("/refunds/normal", {"va": "1", "q": "东增社区"}).content.decode()
    assert f"va_id={VA}" in page
    assert "请至少输入2个字" in client.get("/refunds/normal", {"va": "1", "q": "村"}).content.decode()
    assert "未找到名称含" in client.get("/refunds/normal", {"va": "1", "q": "%_"}).content.decode()


def test_the_resident_applies_for_the_virtual_accounts_line(refund_demo, clock, sims):
    client = _client("农秀英", sims, "/refunds/normal")
    response = client.post("/refunds/normal", {"item": "10212-RES:202601", "va_id": VA, **_account_fields("农秀英")})
    application = RefundApplication.objects.get()
    assert response.status_code == 302 and application.virtual_account_id == VA
    assert "东增社区" in client.get(f"/refunds/{application.public_id}").content.decode()


def test_the_special_page_refunds_special_fees_by_receipt(refund_demo, clock, sims):
    client = _client("莫振华", sims, "/refunds/special")
    page = client.get("/refunds/special").content.decode()
    assert "是否录入核定退费单" in page and 'id="sheet-button"' in page and "特殊缴费申报" in page
    response = client.post("/refunds/special", {"item": "10210-FLEX:202512", **_account_fields("莫振华")})
    assert response.status_code == 302 and RefundApplication.objects.get().kind == "special"


def test_the_sheet_form_applies_the_assessed_part(refund_demo, clock, sims):
    client = _client("覃丽华", sims, "/refunds/special/sheet")
    response = client.post("/refunds/special/sheet", _sheet())
    application = RefundApplication.objects.get()
    assert response.status_code == 302 and (str(application.amount), application.sheet_no) == ("300.00", "HD45010020251201")
    again = client.post("/refunds/special/sheet", _sheet(idem="page-2"))
    assert again.status_code == 400 and "已申请过退费" in again.content.decode()


@pytest.mark.parametrize(("changes", "words"), [
    ({"amount": "300.001"}, "最多保留两位小数"), ({"amount": "-5"}, "须大于0"), ({"amount": "0"}, "须大于0"),
    ({"amount": "abc"}, "请填写数字"), ({"amount": "1000.01"}, "不能超过已缴金额"),
    ({"assessed_on": "2025-11-30"}, "不能早于费款所属期"), ({"assessed_on": "2099-01-01"}, "不能晚于今天"),
    ({"sheet_no": "HD123"}, "14位数字"), ({"period": "2025-13"}, "费款所属期格式不正确"),
    ({"handler": "别人"}, "不一致：经办人"), ({"account_number": "6217000000000001"}, "校验未通过"),
    ({"holder_name": "王五"}, "账户名称须与缴费人姓名一致"),
])
def test_each_bad_sheet_input_is_explained_and_nothing_stored(refund_demo, clock, sims, changes, words):
    client = _client("覃丽华", sims, "/refunds/special/sheet")
    response = client.post("/refunds/special/sheet", _sheet(**changes))
    assert response.status_code == 400 and words in response.content.decode()
    assert not RefundApplication.objects.exists()


def test_the_decision_letter_downloads_once_decided_and_verifies(refund_demo, clock, sims):
    client = _client("覃丽华", sims, "/refunds/special/sheet")
    client.post("/refunds/special/sheet", _sheet())
    application = RefundApplication.objects.get()
    assert client.get(f"/refunds/{application.public_id}/decision.pdf").status_code == 404  # not decided yet
    assert Client().get(f"/refunds/verify/{application.verify_code}").status_code == 404
    refunds_follow_up(now=application.next_expected_at + dt.timedelta(minutes=1))
    pdf = client.get(f"/refunds/{application.public_id}/decision.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    rendered = Rendered(pdf.content, ARTIFACTS / "refund-decision.pdf")
    rendered.path.parent.mkdir(parents=True, exist_ok=True)
    rendered.path.write_bytes(pdf.content)
    text = rendered.compact_text()
    rendered.png()  # kept to look at, as the receipts are
    for words in ("社会保险费退费决定书", "同意退费", "300.00", application.verify_code, "HD45010020251201"):
        assert words in text, words
    assert card_number() not in text
    check = Client().get(f"/refunds/verify/{application.verify_code}").content.decode()
    assert "验证通过" in check and "同意退费" in check and "覃丽华" not in check
    assert Client().get("/refunds/verify/NOTAREALCODE0000").status_code == 404
    other = _client("莫振华")
    assert other.get(f"/refunds/{application.public_id}/decision.pdf").status_code == 404


def test_the_virtual_results_query_shows_only_the_residents_own_lines(refund_demo, clock):
    page = _client("农秀英").get("/query/virtual").content.decode()
    assert "东增社区" in page and "400.00元" in page and "那况村" not in page  # 那况村 declared only for 罗桂兰
    assert "暂无虚拟户为您申报的记录" in _client("覃丽华").get("/query/virtual").content.decode()


def test_a_failed_refund_gets_a_letter_of_refusal_with_the_reason_archived(refund_demo, clock, sims, settings):
    from shebao.archive.models import ArchiveRecord

    client = _client("覃丽华", sims, "/refunds/special/sheet")
    client.post("/refunds/special/sheet", _sheet())
    application = RefundApplication.objects.get()
    settings.CORE_EMBEDDED = {"REFUND_FAILURE": "收款账户已销户"}
    refunds_follow_up(now=application.next_expected_at + dt.timedelta(minutes=1))
    detail = client.get(f"/refunds/{application.public_id}").content.decode()
    assert "退库失败：收款账户已销户" in detail and "下载退费决定书（不予退费）" in detail
    pdf = client.get(f"/refunds/{application.public_id}/decision.pdf")
    rendered = Rendered(pdf.content, ARTIFACTS / "refund-decision-refused.pdf")
    rendered.path.write_bytes(pdf.content)
    text = rendered.compact_text()
    assert "决定：不予退费" in text and "收款账户已销户" in text
    kinds = set(ArchiveRecord.objects.filter(business_ref=application.application_no).values_list("business_type", flat=True))
    assert kinds == {"refund", "refund_decision"}


def test_with_nothing_selectable_the_page_asks_for_no_bank_account(refund_demo, clock):
    page = _client("覃丽华").get("/refunds/special").content.decode()  # her items are ordinary fees
    assert "以上费款暂不能在此申请退费" in page and 'name="account_number"' not in page
    assert 'name="account_number"' in _client("莫振华").get("/refunds/special").content.decode()

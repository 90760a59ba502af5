"""Back office for refunds: applications and refund sheets read-only, the bank account and
the payer never shown in full; virtual accounts kept by staff."""

import pytest
from django.test import Client

from shebao.accounts.models import Account
from shebao.refunds.models import RefundApplication
from tests import actors
from tests.refunds.helpers import account_named, card_number, demo_sheet_entry, registration_of
from tests.staff import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db):
    staff = Account.objects.create_superuser("staff01", "Staff@2026x", created_at="2026-11-20T02:00:00Z")
    client = Client()
    verified_client(staff, client)
    return client


@pytest.mark.parametrize("model", ["refunds/refundapplication", "core/refundsheet"])
def test_refund_records_are_read_only(staff_client, refund_demo, model):
    assert staff_client.get(f"/admin/{model}/").status_code == 200
    assert staff_client.get(f"/admin/{model}/add/").status_code == 403


def test_staff_see_the_application_masked(staff_client, refund_demo, clock):
    from shebao.refunds import services

    account = account_named("覃丽华")
    services.refund_apply_special(actor=actors.citizen(account, step_up_at=clock.now), registration_no=registration_of(account),
                                  to=services.RefundAccount("102", card_number(), account.name), idempotency_key="k",
                                  now=clock.now, sheet=demo_sheet_entry())
    application = RefundApplication.objects.get()
    listing = staff_client.get("/admin/refunds/refundapplication/").content.decode()
    assert application.application_no in listing and application.account_masked in listing
    from shebao.audit.models import AuditEvent

    assert not AuditEvent.objects.filter(action="staff.view_personal_data").exists()  # the list shows masked values only
    page = staff_client.get(f"/admin/refunds/refundapplication/{application.pk}/change/").content.decode()
    assert card_number() not in page and "覃丽华" not in page
    (viewed,) = AuditEvent.objects.filter(action="staff.view_personal_data")
    assert (viewed.subject_type, viewed.subject_ref, viewed.outcome) == ("refund_application", application.public_id, "success")


def test_virtual_accounts_are_listed_and_searched(staff_client, refund_demo):
    page = staff_client.get("/admin/core/virtualaccount/", {"q": "东增"}).content.decode()
    assert "XN451002000000000001" in page and "那况村" not in page

"""Back office: staff read bills and receipts; nobody edits them there."""

import pytest
from django.test import Client

from shebao.accounts.models import Account
from tests.staff import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db):
    staff = Account.objects.create_superuser("staff01", "Staff@2026x", created_at="2026-11-20T02:00:00Z")
    client = Client()
    verified_client(staff, client)
    return client


@pytest.mark.parametrize("model", ["fees/paymentorder", "fees/paymentattempt", "fees/paymentnotification", "core/taxreceipt"])
def test_money_records_are_read_only(staff_client, model):
    assert staff_client.get(f"/admin/{model}/").status_code == 200
    assert staff_client.get(f"/admin/{model}/add/").status_code == 403


def test_reference_data_is_listed(staff_client, reference_data):
    page = staff_client.get("/admin/reference/city/").content.decode()
    assert "南宁市" in page and "450100" in page

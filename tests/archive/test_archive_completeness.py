"""manage.py check_archive_completeness (REQUIREMENTS §6): every completed
registration, information upkeep and payment has exactly one archive record;
a business without its record, a record archived twice and a record without
a business are each named."""

from __future__ import annotations

import time
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client

from shebao.archive.models import ArchiveRecord
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from shebao.fees.models import PaymentOrder
from tests import actors
from tests.accounts.helpers import new_person, register
from tests.audit.factories import FROZEN_NOW, account_create
from tests.fees.helpers import cashier, declare, identify_wechat, logged_in, order_id_from, start_payment


def run_check() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("check_archive_completeness", stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_registration_upkeep_and_payment_through_the_pages_each_have_one_record(client, sims, clock, demo_people):
    newcomer = Client()
    assert "注册成功" in register(newcomer, sims, new_person()).content.decode()
    logged_in(client, sims, clock, demo_id(DEMO_PEOPLE[0]), DEMO_PASSWORD)
    client.post("/accounts/me/address", {"address": "南宁市青秀区民族大道100号"})
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-01", period_to="2026-01", base="4371.00"))
    identify_wechat(client, order_id)
    back = urlsplit(cashier(start_payment(client, order_id), "pay"))
    client.get(back.path, dict(p.split("=", 1) for p in back.query.split("&") if "=" in p))
    assert _wait_for(lambda: PaymentOrder.objects.filter(public_id=order_id, state="paid").exists())

    assert sorted(ArchiveRecord.objects.values_list("business_type", flat=True)) == ["info_update", "payment", "registration"]
    assert run_check() == (True, "归档完整性核对通过：用户实名注册、信息维护、缴费、重复缴费原路退款\n")


@pytest.mark.django_db
def test_each_kind_of_gap_is_named():
    registered, upkept = account_create(), account_create()
    with transaction.atomic():  # a registration audited but never archived
        audit_record(actor=actors.citizen(registered), action="account.register", subject_ref=registered.public_id, now=FROZEN_NOW)
    for _ in range(2):  # one address change, archived twice
        with transaction.atomic():
            archive_append(business_type="info_update", business_ref=f"{upkept.public_id}:address:1", subject_ref=upkept.public_id,
                           data={"field": "address"}, now=FROZEN_NOW)
    audit_record(actor=actors.citizen(upkept), action="account.change_address", subject_ref=upkept.public_id, now=FROZEN_NOW)
    with transaction.atomic():  # a payment record whose order was never paid
        archive_append(business_type="payment", business_ref="order_never_paid", subject_ref=upkept.public_id, data={}, now=FROZEN_NOW)

    ok, output = run_check()

    assert not ok
    assert f"用户实名注册 {registered.public_id}：缺少归档记录" in output
    assert f"信息维护 {upkept.public_id}：应有 1 条归档记录，实有 2 条" in output
    assert "缴费 order_never_paid：有 1 条归档记录，但没有对应的已完成业务" in output
    assert "归档完整性核对失败：3 笔业务的归档记录不符" in output


@pytest.mark.django_db
def test_a_paid_order_whose_record_was_removed_is_named():
    account = account_create()
    order = PaymentOrder.objects.create(public_id="order_paid_1", account=account, registration_no="1014501030000001",
                                        description="养老保险", amount="874.20", state="paid", created_at=FROZEN_NOW)
    with transaction.atomic():
        archive_append(business_type="payment", business_ref=order.public_id, subject_ref=account.public_id, data={}, now=FROZEN_NOW)
    assert run_check()[0]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM archive_archiverecord WHERE business_ref = %s", [order.public_id])

    ok, output = run_check()

    assert not ok
    assert "缴费 order_paid_1：缺少归档记录" in output

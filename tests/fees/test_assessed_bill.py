"""A bill for assessed declarations (社保核定): one open bill per set of declarations even under
concurrent taps (PostgreSQL), and never without a recent step-up (service and page)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shebao.accounts.models import Account
from shebao.adapters.core import get_core
from shebao.common.identity import identity_index
from shebao.core.models import Declaration
from shebao.fees import services
from shebao.fees.models import PaymentAttempt, PaymentOrder
from tests import actors
from tests.fees.helpers import FEE_NOW, identify_wechat, logged_in, order_id_from, step_up

pytestmark = pytest.mark.django_db(transaction=True)
HUANG_ID = "450403196601201353"
THREADS = 8
STEPPED_UP = int(FEE_NOW.timestamp())


def _huang():
    account = Account.objects.get(id_index=identity_index(id_type="201", id_number=HUANG_ID))
    registration_no = get_core().registration_find(name=account.name, id_type="201", id_number=account.id_number)
    return account, registration_no


@pytest.mark.postgres_only
def test_concurrent_taps_on_an_assessed_declaration_make_exactly_one_bill(demo_people):
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL concurrency; the database here is {connection.vendor}")
    account, registration_no = _huang()
    nos = [Declaration.objects.get(mode="assessed").declaration_no]
    barrier = threading.Barrier(THREADS)
    bills: list[str] = []
    errors: list[BaseException] = []

    def tap() -> None:
        try:
            barrier.wait(timeout=30)
            order = services.order_for_assessed(actor=actors.citizen(account, step_up_at=STEPPED_UP), registration_no=registration_no, declaration_nos=nos, now=FEE_NOW)
            bills.append(order.public_id)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert PaymentOrder.objects.count() == 1
    assert bills == [PaymentOrder.objects.get().public_id] * THREADS  # every tap is shown the same bill


def test_money_services_refuse_without_a_recent_step_up(demo_people):
    account, registration_no = _huang()
    nos = [Declaration.objects.get(mode="assessed").declaration_no]
    for stale in (None, STEPPED_UP - 301):  # never confirmed; confirmed more than STEP_UP_VALID_SECONDS ago
        with pytest.raises(services.StepUpRequired):
            services.order_for_assessed(actor=actors.citizen(account, step_up_at=stale), registration_no=registration_no, declaration_nos=nos, now=FEE_NOW)
    assert PaymentOrder.objects.count() == 0
    order = services.order_for_assessed(actor=actors.citizen(account, step_up_at=STEPPED_UP), registration_no=registration_no, declaration_nos=nos, now=FEE_NOW)
    with pytest.raises(services.StepUpRequired):
        services.payment_start(actor=actors.citizen(account, step_up_at=None), order=order, openid="oTestOpenid", now=FEE_NOW)
    assert PaymentAttempt.objects.count() == 0


def test_paying_an_assessed_bill_without_step_up_is_sent_to_the_step_up(client, sims, clock, demo_people):
    logged_in(client, sims, clock, HUANG_ID, "Demo@2026")
    clock.advance(seconds=301)  # past the login's SMS code, which counts as the step-up for 5 minutes
    assessed = Declaration.objects.get(mode="assessed")
    tapped = client.post("/fees/assessed", {"declaration": [assessed.declaration_no]})
    assert tapped.status_code == 302 and tapped["Location"].startswith("/accounts/step-up?next=")
    assert PaymentOrder.objects.count() == 0
    step_up(client, sims)
    order_id = order_id_from(client.post("/fees/assessed", {"declaration": [assessed.declaration_no]}))
    identify_wechat(client, order_id)
    clock.advance(seconds=301)  # the confirmation has expired before 去支付
    paying = client.post(f"/fees/orders/{order_id}", {"action": "pay"})
    assert paying.status_code == 302 and paying["Location"] == f"/accounts/step-up?next=%2Ffees%2Forders%2F{order_id}"
    assert PaymentAttempt.objects.count() == 0

"""Back office of the batch deduction: a 批扣操作员 launches a task with the Chinese add form
(audited, its list built by a job), bad input refused with nothing stored, the
reconciliation report per task (counts and sums by outcome); items read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django_tasks_db.models import DBTaskResult

from shebao.agreements import batch_exec, batch_services
from shebao.agreements.batch_models import BatchDeductionTask
from shebao.agreements.batch_tasks import build_batch
from shebao.audit.models import AuditEvent
from tests.agreements.batch_helpers import PENSION, launched, on_batch
from tests.audit.factories import account_create
from tests.jobs.inline import run_ready_jobs
from tests.staff import verified_client

pytestmark = pytest.mark.django_db
ADD = "/admin/agreements/batchdeductiontask/add/"


@pytest.fixture
def operator_client(db, demo_people):
    user = account_create(is_staff=True)
    user.groups.add(Group.objects.get(name="批扣操作员"))
    client = verified_client(user)
    client.user = user
    return client


def test_an_operator_launches_a_task_and_the_job_builds_its_list(operator_client, clock, sims, django_capture_on_commit_callbacks):
    _, profile, grade = on_batch(clock.now)
    form = operator_client.get(ADD).content.decode()
    assert all(label in form for label in ("险种", "缴费年度", "地市", "扣款日期", "城乡居民基本养老保险"))

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(ADD, {"insurance_type_code": PENSION, "contribution_year": "2026",
                                              "city_code": profile.city_code, "deduction_on": "2026-03-10"})
    assert response.status_code == 302
    assert DBTaskResult.objects.filter(task_path=build_batch.module_path, status="READY").count() == 1
    run_ready_jobs(task=build_batch)

    task = BatchDeductionTask.objects.get()
    assert (task.state, task.item_count, task.total_amount, task.created_by) == ("built", 1, grade, operator_client.user)
    assert AuditEvent.objects.filter(action="batch.task.create", subject_ref=task.public_id).count() == 1


def test_a_deduction_date_not_after_today_is_refused_and_nothing_stored(operator_client, clock):
    response = operator_client.post(ADD, {"insurance_type_code": PENSION, "contribution_year": "2026", "city_code": "450300",
                                          "deduction_on": "2026-03-02"})
    assert response.status_code == 200 and "扣款日期应晚于今天" in response.content.decode()
    assert (BatchDeductionTask.objects.count(), AuditEvent.objects.filter(action="batch.task.create").count()) == (0, 0)


def test_the_task_page_shows_the_reconciliation_report(operator_client, clock, sims):
    _, profile, grade = on_batch(clock.now)
    task = batch_services.batch_task_start(task=launched(clock.now, profile), now=clock.now)
    batch_exec.batch_task_execute(task_id=task.pk, job_ref="j", now=lambda: clock.now)

    page = operator_client.get(f"/admin/agreements/batchdeductiontask/{task.pk}/change/").content.decode()

    assert "对账报告" in page
    assert f"<tr><td>扣款成功</td><td>1</td><td>{grade:.2f}</td></tr>" in page
    assert f"<tr><td>合计</td><td>1</td><td>{grade:.2f}</td></tr>" in page
    assert batch_services.batch_report(task)[-1] == ("合计", 1, grade)
    assert batch_services.batch_report(task)[1] == ("已作废", 0, Decimal("0.00"))


def test_items_are_read_only(operator_client):
    assert operator_client.get("/admin/agreements/batchdeductionitem/").status_code == 200
    assert operator_client.get("/admin/agreements/batchdeductionitem/add/").status_code == 403

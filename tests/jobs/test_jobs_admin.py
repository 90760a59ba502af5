"""Back office: queue depth, the oldest waiting job's age, failed jobs and their retry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shebao.accounts.models import Account
from shebao.jobs import tasks
from tests.staff import verified_client

pytestmark = pytest.mark.django_db
URL = "/admin/django_tasks_database/dbtaskresult/"


@pytest.fixture
def staff_client(db):
    staff = Account.objects.create_superuser("staff01", "Staff@2026x", created_at="2026-11-20T02:00:00Z")
    client = Client()
    verified_client(staff, client)
    return client


def _failed_job() -> DBTaskResult:
    job = DBTaskResult.objects.get(pk=tasks.purge_expired.enqueue().id)
    job.claim("w1")
    job.set_failed(RuntimeError("渠道不可用"))
    return job


def test_queue_health_is_shown(staff_client):
    waiting = tasks.purge_expired.enqueue().id
    DBTaskResult.objects.filter(pk=waiting).update(enqueued_at=timezone.now() - dt.timedelta(minutes=10))
    tasks.close_stale_payments.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue()
    _failed_job()

    page = staff_client.get(URL).content.decode()
    assert '<td id="queue-waiting">1</td>' in page
    assert '<td id="queue-deferred">1</td>' in page
    assert '<td id="queue-failed">1</td>' in page
    oldest = int(page.split('<td id="queue-oldest">')[1].split(" 秒")[0])
    assert 600 <= oldest < 3600


def test_empty_queue_shows_no_oldest_age(staff_client):
    page = staff_client.get(URL).content.decode()
    assert '<td id="queue-waiting">0</td>' in page and '<td id="queue-oldest">—</td>' in page


def test_failed_jobs_can_be_run_again_and_only_they(staff_client):
    failed = _failed_job()
    waiting = DBTaskResult.objects.get(pk=tasks.purge_expired.enqueue().id)
    done = DBTaskResult.objects.get(pk=tasks.purge_expired.enqueue().id)
    done.claim("w1")
    done.set_successful({"x": 1})

    response = staff_client.post(URL, {"action": "retry_failed", "_selected_action": [failed.pk, waiting.pk, done.pk]}, follow=True)
    assert response.status_code == 200
    assert "已重新排队 1 个失败任务，2 个非失败任务未处理" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "READY" and failed.finished_at is None
    assert DBTaskResult.objects.ready().filter(pk=failed.pk).exists()
    done.refresh_from_db()
    assert done.status == "SUCCESSFUL"


def test_staff_without_the_change_permission_cannot_retry(db):
    from django.contrib.auth.models import Permission

    staff = Account.objects.create_superuser("staff02", "Staff@2026x", created_at="2026-11-20T02:00:00Z")
    Account.objects.filter(pk=staff.pk).update(is_superuser=False)  # staff with the view permission only
    staff.refresh_from_db()
    staff.user_permissions.add(Permission.objects.get(codename="view_dbtaskresult"))
    client = Client()
    verified_client(staff, client)
    failed = _failed_job()

    assert client.get(URL).status_code == 200
    client.post(URL, {"action": "retry_failed", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == "FAILED"

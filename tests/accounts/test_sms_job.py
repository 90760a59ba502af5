"""SMS codes go out by a job (issue 9, part 1): queued with the challenge in one transaction,
the number and the code never in the job's arguments, sent once however often the job
runs, retryable gateway errors retried with backoff, final ones shown to the person."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from shebao.accounts.models import SmsChallenge, SmsPurpose
from shebao.accounts.otp import otp_send, otp_verify
from shebao.accounts.tasks import send_sms_code
from tests.accounts.helpers import new_person, register_code_form
from tests.jobs.inline import run_ready_jobs, send_queued_sms

pytestmark = pytest.mark.django_db
MOBILE = "13912345670"


def _jobs():
    return DBTaskResult.objects.filter(task_path=send_sms_code.module_path)


def _raw(column: str, public_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM accounts_smschallenge WHERE public_id = %s", [public_id])
        return cursor.fetchone()[0]


def test_the_job_carries_neither_number_nor_code_and_the_row_keeps_them_encrypted(sims, clock):
    challenge = otp_send(mobile=MOBILE, purpose=SmsPurpose.LOGIN, now=clock.now)
    job = _jobs().get()
    assert job.args_kwargs == {"args": [], "kwargs": {"challenge_id": challenge.public_id, "request_id": ""}}
    stored_mobile, stored_code = _raw("mobile", challenge.public_id), _raw("code_sealed", challenge.public_id)
    assert stored_mobile.startswith("v2:") and MOBILE not in stored_mobile and stored_code.startswith("v2:")
    assert SmsChallenge.objects.get().send_state == "queued"
    from shebao.adapters.sms.simulator import read_outbox

    assert read_outbox(sims.state_dir / "sms.sqlite3", phone=MOBILE) == []  # nothing sent by the request itself
    code = sims.last_code(MOBILE)
    assert code is not None and code not in json.dumps(job.args_kwargs)
    assert (_raw("mobile", challenge.public_id), _raw("code_sealed", challenge.public_id)) == ("", "")  # erased once sent
    sent = SmsChallenge.objects.get()
    assert sent.send_state == "sent" and sent.sent_at == clock.now and sent.provider_ref
    otp_verify(mobile=MOBILE, purpose=SmsPurpose.LOGIN, code=code, now=clock.now)  # the hash still checks


def test_a_rolled_back_request_queues_no_code(sims, clock):
    with pytest.raises(RuntimeError), transaction.atomic():
        otp_send(mobile=MOBILE, purpose=SmsPurpose.LOGIN, now=clock.now)
        raise RuntimeError("the business write failed")
    assert not SmsChallenge.objects.exists() and not _jobs().exists()
    assert run_ready_jobs() == 0


def test_running_the_job_again_sends_nothing_twice(sims, clock):
    otp_send(mobile=MOBILE, purpose=SmsPurpose.LOGIN, now=clock.now)
    assert run_ready_jobs(task=send_sms_code) == 1
    job = _jobs().get()
    assert job.status == "SUCCESSFUL" and job.return_value == "sent"
    _jobs().update(status="READY", finished_at=None)  # as the recovery of a lost worker would
    assert run_ready_jobs(task=send_sms_code) == 1
    assert len(sims.messages(MOBILE)) == 1 and _jobs().get().return_value == "sent"


def test_a_retryable_gateway_error_runs_the_job_again_later(sims, clock, settings):
    settings.JOBS_MAX_ATTEMPTS = 3
    sims.control("sms", mode="system_error")
    challenge = otp_send(mobile=MOBILE, purpose=SmsPurpose.LOGIN, now=clock.now)
    assert run_ready_jobs(task=send_sms_code) == 1
    job = _jobs().get()
    assert job.status == "READY" and job.run_after > job.enqueued_at  # backed off, not given up
    assert SmsChallenge.objects.get().send_state == "queued"
    sims.control("sms", mode="ok")
    _jobs().update(run_after=dt.datetime.now(dt.UTC))  # the backoff has passed
    assert run_ready_jobs(task=send_sms_code) == 1
    assert SmsChallenge.objects.get(public_id=challenge.public_id).send_state == "sent"
    assert sims.last_code(MOBILE) is not None and len(_jobs().get().worker_ids) == 2


def test_a_code_superseded_or_expired_before_its_job_is_not_sent(sims, clock):
    first = otp_send(mobile=MOBILE, purpose=SmsPurpose.LOGIN, now=clock.now)
    clock.advance(seconds=301)  # the worker was away longer than the code lives
    second = otp_send(mobile=MOBILE, purpose=SmsPurpose.LOGIN, now=clock.now)
    send_queued_sms()
    assert SmsChallenge.objects.get(public_id=first.public_id).send_state == "failed"
    assert SmsChallenge.objects.get(public_id=second.public_id).send_state == "sent"
    assert len(sims.messages(MOBILE)) == 1


def test_the_page_polls_until_sent_and_then_says_so(client, sims, settings):
    settings.SMS_SEND_RATE_PER_IP = settings.SMS_SEND_RATE_PER_SESSION = settings.SMS_SEND_RATE_OVERALL = ""
    person = new_person()
    page = client.post("/accounts/register", register_code_form(person)).content.decode()
    masked = f"{person['mobile'][:3]}****{person['mobile'][-4:]}"
    assert f"验证码正在发送至 {masked}，5分钟内有效" in page and 'hx-get="/accounts/sms/status"' in page
    waiting = client.get("/accounts/sms/status").content.decode()
    assert "正在发送" in waiting and 'hx-trigger="load delay:1s"' in waiting
    send_queued_sms()
    done = client.get("/accounts/sms/status").content.decode()
    assert f"验证码已发送至 {masked}，5分钟内有效" in done and "hx-get" not in done and 'role="status"' in done


def test_status_is_only_this_browsers(client, sims):
    assert client.get("/accounts/sms/status").status_code == 204

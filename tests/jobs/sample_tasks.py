"""A job for the kill -9 test: two steps, each committed on its own and skipped when done
(as the real jobs are written); between them it waits for the test's go-ahead file."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.db import transaction

from shebao.adapters.payment.port import PaymentError
from shebao.common import clock
from shebao.common.models import IdempotencyKey
from shebao.jobs.retry import retry_retryable
from shebao.jobs.tasks import task

SCOPE = "jobs-test"


def _step(name: str) -> None:
    with transaction.atomic():
        if IdempotencyKey.objects.filter(scope=SCOPE, key=name).exists():
            return  # done by an earlier run
        # A second create of the same key would fail the job (unique scope+key).
        IdempotencyKey.objects.create(scope=SCOPE, key=name, request_hash=str(os.getpid()), created_at=clock.now())


@task()
def two_steps(gate_dir: str) -> str:
    gate = Path(gate_dir)
    _step("step-1")
    (gate / f"between-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not (gate / "go").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no go-ahead")
        time.sleep(0.05)
    _step("step-2")
    return "done"


@task()
@retry_retryable
def pay_call(code: str, retryable: bool) -> str:
    """Fails with a payment-channel error while a marker row of ``code`` is missing… then succeeds."""
    if not IdempotencyKey.objects.filter(scope=SCOPE, key=f"ok-{code}").exists():
        raise PaymentError("渠道繁忙", code=code, retryable=retryable)
    return "paid"

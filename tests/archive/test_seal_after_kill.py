"""A process killed with SIGKILL between its commit and any seal loses nothing:
its archive record and audit event are committed without a seq (verify reports
them as waiting), and the next ``seal_logs`` -- in another process, after the
"restart" -- seals them and the logs verify."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from shebao.archive.models import ArchiveRecord
from shebao.archive.verify import verify_archive
from shebao.audit.models import AuditEvent
from shebao.audit.verify import verify_audit
from tests.concurrency import database_url

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import os, sys
import django
django.setup()
from django.db import transaction
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import clock
from tests import actors
with transaction.atomic():
    archive_append(business_type="payment", business_ref="pay-killed", subject_ref="acct_killed", data={"amount": "874.20"}, now=clock.now())
    audit_record(actor=actors.system(), action="fees.paid", subject_ref="pay-killed", now=clock.now())
from django.db import connection
backend = connection.cursor().connection.info.backend_pid if connection.vendor == "postgresql" else 0
print("committed", backend, flush=True)
sys.stdin.read()  # wait here, before any seal, until killed
"""


def _session_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_entries_committed_by_a_killed_process_are_sealed_after_restart():
    env = {**os.environ, "SHEBAO_ENV": "test", "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": database_url()}
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # blocks until the child committed (or died)
        assert line.startswith("committed "), child.stderr.read() if child.poll() is not None else line
        backend = int(line.split()[1])
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)

    if backend:  # PostgreSQL ends the dead client's session by itself; wait for it (else the test database cannot be dropped)
        assert _wait_for(lambda: not _session_alive(backend)), f"backend {backend} still there"

    record = ArchiveRecord.objects.get(business_ref="pay-killed")
    event = AuditEvent.objects.get(subject_ref="pay-killed")
    assert (record.seq, event.seq) == (None, None)
    assert (verify_archive().pending, verify_audit().pending) == (1, 1)

    out = StringIO()
    call_command("seal_logs", stdout=out)

    assert out.getvalue() == "archive：本次签名 1 条\naudit：本次签名 1 条\n"
    record.refresh_from_db()
    event.refresh_from_db()
    assert (record.seq, event.seq) == (1, 1)
    for result in (verify_archive(), verify_audit()):
        assert (result.ok, result.checked, result.pending) == (True, 1, 0)

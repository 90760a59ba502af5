"""`make run`'s pair (Procfile under honcho): the web server and a jobs worker start with
one command, a job enqueued is run by the worker, and stopping honcho stops both."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition, what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _started_by_this_test(var_dir: Path) -> list[int]:
    """PIDs of the processes honcho started for this test (gunicorn master and workers, the
    jobs worker): honcho puts each in a session of its own, outside honcho's process group,
    so they are found by the SHEBAO_VAR_DIR this test gave them."""
    marker = f"SHEBAO_VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _job_status(db: Path, job_id: str) -> str | None:
    from django_tasks_db.models import DBTaskResult

    table = DBTaskResult._meta.db_table
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute(f"select status from {table} where replace(id, '-', '') = ?", [job_id.replace("-", "")]).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _web_up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_web_and_worker_start_together_run_a_job_and_stop_together(tmp_path, stop_signal):
    db = tmp_path / "db.sqlite3"
    port = _free_port()
    env = {**os.environ, "SHEBAO_ENV": "test", "SHEBAO_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{db}",
           "SHEBAO_WEB_PORT": str(port)}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)

    honcho = subprocess.Popen([str(Path(sys.executable).parent / "honcho"), "--no-colour", "start", "-f", "Procfile"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    pgid = honcho.pid
    try:
        _wait_for(lambda: _web_up(port), "the web server's /healthz")
        assert len(_started_by_this_test(tmp_path)) >= 3  # honcho, gunicorn's master (and workers), the jobs worker
        job_id = subprocess.run(
            [*manage, "shell", "-v0", "-c", "from shebao.jobs.tasks import purge_expired; print(purge_expired.enqueue().id)"],
            cwd=ROOT, env=env, check=True, timeout=60, capture_output=True, text=True).stdout.strip()
        status = _wait_for(lambda: _job_status(db, job_id) in ("SUCCESSFUL", "FAILED") and _job_status(db, job_id),
                           "the worker to run the job")
        assert status == "SUCCESSFUL"

        os.kill(honcho.pid, stop_signal)
        honcho.wait(timeout=DEADLINE)
        _wait_for(lambda: not _group_alive(pgid), "honcho to exit")
        _wait_for(lambda: not _started_by_this_test(tmp_path), "gunicorn and the worker to exit")
        assert not _web_up(port)
    finally:
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
        for pid in _started_by_this_test(tmp_path):  # a failed run leaves no server behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if honcho.poll() is None:
            honcho.kill()
        output = honcho.stdout.read().decode(errors="replace")
        honcho.stdout.close()
    assert "web.1" in output and "worker.1" in output, output

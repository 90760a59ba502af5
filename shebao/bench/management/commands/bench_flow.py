"""``manage.py bench_flow``: the declare-and-pay flow under concurrent simulated payers,
measured beside a one-query Django endpoint in the same run (docs/performance.md).

What it does, all on loopback and bounded in time:

1. creates a fresh PostgreSQL database ``<name>_<random>`` from ``--database-url`` (only a
   loopback server is accepted) and a temporary directory (secrets, simulator state, logs);
2. ``bench_prepare`` in the benchmark's environment: migrate, ``seed_demo``, synthetic
   payers (``shebao.bench.people``), static-files manifest;
3. starts the simulators (``shebao.bench.sim_wsgi``) and the service (``config.wsgi`` with
   ``shebao.bench.settings``: the service's settings plus ``/bench/one-query``), each under
   its own gunicorn, sharing one dev-secrets.json; the service gets SIMULATORS_ENABLED=0 and
   reaches the simulators by URL, persistent database connections (DB_CONN_MAX_AGE); beside
   it one jobs worker (``manage.py jobs_worker``, as under ``make run``: SMS codes go out
   through it), whose CPU is counted as the service's;
4. runs the load generator (``python -m shebao.bench.load``) as a third process;
5. prints the report (``shebao.bench.report``), stops the servers and the worker by their PIDs and drops
   the database.

Targets are printed as PASS/FAIL; nothing here asserts a timing."""

from __future__ import annotations

import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shebao.bench import report

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shebao_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ACCESS_LOG_FORMAT = "%(m)s %(U)s %(s)s %(D)s"
SIM_THREADS = 16
# Upper bound of one user's flow loops per second, to size the payers: a loop is 7 service
# requests plus the cashier; the whole flow stays far below 150 loops/s on 2 CPUs.
MAX_LOOPS_PER_SECOND_PER_USER = 25.0
MAX_LOOPS_PER_SECOND_TOTAL = 150.0
_DROPPED_ENV = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "REFERENCE_CACHE_SECONDS", "PORT", "SIMULATORS_ENABLED", "SIM_STATE_DIR", "DJANGO_DEBUG",
                "ALLOWED_HOSTS", "DB_CONN_MAX_AGE", "OTP_MIN_INTERVAL_SECONDS")
_DROPPED_PREFIXES = ("SHEBAO_", "SMS_", "WECHAT_", "WECHATPAY_", "PYTEST_")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _psycopg_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


class Command(BaseCommand):
    help = "压力测试：并发模拟缴费人走完“登录、计算、申报、缴费、通知、回单”，与单查询基线交替测量（docs/performance.md）"

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=32, help="concurrent simulated users (default 32)")
        parser.add_argument("--duration", type=float, default=20.0,
                            help="seconds of the baseline and flow windows of a round together: half each; the signed-in "
                                 "window lasts as long as each of them (default 20)")
        parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
        parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                            help="PostgreSQL on loopback; a fresh database <name>_<random> is created there and dropped "
                                 f"at the end (default {DEFAULT_DATABASE_URL})")
        parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                            help="Redis on loopback for the service's cache and sessions, as production runs "
                                 f"(default {DEFAULT_REDIS_URL}; 'none': sessions in the database only). Keys get a "
                                 "prefix of their own and are deleted at the end")
        parser.add_argument("--worker-class", choices=("sync", "gthread"), default="gthread",
                            help="gunicorn worker class (default gthread, as `make run`)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the service (default 2)")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker with --worker-class gthread (default 4)")
        parser.add_argument("--conn-max-age", type=int, default=600, help="DB_CONN_MAX_AGE of the service (default 600)")
        parser.add_argument("--crypto-suite", choices=("sm", "intl"), default="sm",
                            help="SHEBAO_CRYPTO_SUITE of the service (default sm; intl only to see what SM2 costs)")
        parser.add_argument("--think-ms", type=float, default=0.0,
                            help="mean pause of a user between two requests (exponential, cut at 4× the mean); default 0: "
                                 "a closed loop that saturates the service. With a pause the throughput is set by the users, "
                                 "so the cost is compared by CPU per request")
        parser.add_argument("--no-signed-in", dest="signed_in", action="store_false",
                            help="leave out the signed-in floor window (/bench/signed-in) of each round")
        parser.add_argument("--json", dest="json_path", help="also write the figures to this JSON file")
        parser.add_argument("--keep-files", action="store_true", help="keep the temporary directory (logs) for inspection")
        parser.add_argument("--profile", metavar="DIR",
                            help="profile the service's requests with cProfile into DIR (python -m shebao.bench.profiling DIR); "
                                 "the figures of such a run are not comparable")
        parser.add_argument("--profile-mode", choices=("cprofile", "counts"), default="cprofile",
                            help="with --profile: cProfile stats, or one JSON line per request (statements, CPU ms)")

    # ------------------------------------------------------------------ main
    def handle(self, *args, **opts):
        users, rounds, duration = opts["users"], opts["rounds"], opts["duration"]
        if not (1 <= users <= 256 and 1 <= rounds <= 20 and 1 <= duration <= 480 and 0 <= opts["think_ms"] <= 10000):
            raise CommandError("1 ≤ --users ≤ 256, 1 ≤ --rounds ≤ 20, 1 ≤ --duration ≤ 480, 0 ≤ --think-ms ≤ 10000")
        url = opts["database_url"]
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql") or (parts.hostname or "127.0.0.1") not in LOOPBACK:
            raise CommandError("--database-url must be PostgreSQL on loopback (postgres://user@127.0.0.1:5432/name)")
        base_name = parts.path.lstrip("/") or "shebao_bench"
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", base_name):
            raise CommandError("the database name in --database-url: lower-case letters, digits and _, at most 40")
        database = f"{base_name}_{secrets.token_hex(4)}"
        redis_url = "" if opts["redis_url"] == "none" else opts["redis_url"]
        if redis_url and (urlsplit(redis_url).scheme != "redis" or (urlsplit(redis_url).hostname or "") not in LOOPBACK):
            raise CommandError("--redis-url must be Redis on loopback (redis://127.0.0.1:6379/0) or 'none'")
        opts["redis_url"], opts["cache_prefix"] = redis_url, database
        tmp = Path(tempfile.mkdtemp(prefix="shebao-bench-"))
        self.procs: list[subprocess.Popen] = []
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143)) if main_thread else None  # run the clean-up below
        created = False
        self.keep = opts["keep_files"]
        try:
            self._admin(url, f'CREATE DATABASE "{database}"')
            created = True
            summary = self._run(opts, url, database, tmp)
        except BaseException:
            self.keep = True  # the logs say why
            raise
        finally:
            for proc in reversed(self.procs):
                self._stop(proc)
            if opts["redis_url"]:
                self._redis_cleanup(opts["redis_url"], opts["cache_prefix"])
            if created:
                try:
                    self._admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                except Exception as exc:  # noqa: BLE001 - say so, do not hide the run's own error
                    self.stderr.write(f"could not drop database {database}: {exc}")
            if self.keep:
                self.stderr.write(f"files kept in {tmp} (service.log, sim.log, access.log, result.json)")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
            if main_thread:
                signal.signal(signal.SIGTERM, previous)
        self.stdout.write(report.render(summary))
        if opts["json_path"]:
            Path(opts["json_path"]).write_text(json.dumps(summary, ensure_ascii=False, indent=1))

    def _run(self, opts, url: str, database: str, tmp: Path) -> dict:
        users, rounds, duration = opts["users"], opts["rounds"], opts["duration"]
        phase_seconds = duration / 2
        warmup_seconds = max(1.0, min(5.0, phase_seconds))
        # The pool of payers (12 months, one flow loop each): enough for the fastest plausible
        # pace; the load generator logs them in only as its users need them.
        per_user_rate = min(MAX_LOOPS_PER_SECOND_PER_USER, MAX_LOOPS_PER_SECOND_TOTAL / users)
        pool_per_user = math.ceil(per_user_rate * (warmup_seconds + phase_seconds * rounds) / 12) + 2
        people_count = users * pool_per_user

        service_port, sim_port = _free_port(), _free_port()
        service_url, sim_url = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{sim_port}"
        db_url = _with_db(url, database)
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV and not k.startswith(_DROPPED_PREFIXES)}
        env.update(
            SHEBAO_ENV="development", SHEBAO_VAR_DIR=str(tmp / "var"), SIM_STATE_DIR=str(tmp / "sim"),
            DATABASE_URL=db_url, DB_CONN_MAX_AGE=str(opts["conn_max_age"]), SIMULATORS_ENABLED="0",
            PORT=str(service_port), SHEBAO_SELF_URL=service_url, ALLOWED_HOSTS="127.0.0.1,localhost",
            SMS_ENDPOINT=f"{sim_url}/sim/sms/", WECHAT_OPEN_BASE=f"{sim_url}/sim/wechat/open",
            WECHAT_API_BASE=f"{sim_url}/sim/wechat/api", WECHATPAY_BASE_URL=f"{sim_url}/sim/wxpay",
            WECHATPAY_NOTIFY_URL=f"{service_url}/api/pay/wechatpay/notify", WECHATPAY_CASHIER_URL=f"{sim_url}/sim/wxpay/cashier",
            OTP_MIN_INTERVAL_SECONDS="0",  # a payer's login and step-up codes come within a second
            PASSWORD_CHECK_WAIT_SECONDS="30",  # set-up logins queue for an argon2 slot instead of 429
            SHEBAO_CRYPTO_SUITE=opts["crypto_suite"],
            REDIS_URL=opts["redis_url"], CACHE_KEY_PREFIX=opts["cache_prefix"],
            PYTHONUNBUFFERED="1",
        )
        service_env = {**env, "DJANGO_SETTINGS_MODULE": "shebao.bench.settings"}
        if opts.get("profile"):
            service_env["SHEBAO_BENCH_PROFILE"] = str(Path(opts["profile"]).resolve())
            service_env["SHEBAO_BENCH_PROFILE_MODE"] = opts["profile_mode"]
        sim_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}
        root = Path(settings.BASE_DIR)
        bin_dir = Path(sys.executable).parent

        self.stderr.write(f"preparing database {database} ({people_count} payers) …")
        people_file = tmp / "people.json"
        done = subprocess.run([sys.executable, "manage.py", "bench_prepare", "--people", str(people_count), "--out", str(people_file)],
                              cwd=root, env=service_env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise CommandError(f"bench_prepare failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")

        sim_log, service_log, access_log = tmp / "sim.log", tmp / "service.log", tmp / "access.log"
        sim = self._start([str(bin_dir / "gunicorn"), "shebao.bench.sim_wsgi:application", "--bind", f"127.0.0.1:{sim_port}",
                           "--worker-class", "gthread", "--workers", "1", "--threads", str(SIM_THREADS),
                           "--graceful-timeout", "5"], root, sim_env, sim_log)
        worker_args = ["--worker-class", opts["worker_class"]] + (["--threads", str(opts["threads"])] if opts["worker_class"] == "gthread" else [])
        service = self._start([str(bin_dir / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{service_port}",
                               "--workers", str(opts["workers"]), *worker_args, "--graceful-timeout", "5", "--timeout", "60",
                               "--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT],
                              root, service_env, service_log)
        # the jobs worker is part of the service (SMS codes go out through it, as under `make run`);
        # its CPU counts as the service's
        jobs = self._start([sys.executable, "manage.py", "jobs_worker", "--no-reload", "--interval", "0.1"],
                           root, service_env, tmp / "jobs.log")
        self._wait_healthy(sim, f"{sim_url}/sim/sms/outbox.json", sim_log)
        self._wait_healthy(service, f"{service_url}/healthz", service_log)
        self._wait_healthy(service, f"{service_url}/bench/one-query", service_log)

        config = {
            "service_url": service_url, "sim_url": sim_url, "users": users, "rounds": rounds, "phase_seconds": phase_seconds,
            "timeout": 30.0, "people_file": str(people_file), "result_file": str(tmp / "result.json"),
            "access_log": str(access_log), "service_pid": service.pid, "jobs_pid": jobs.pid, "sim_pid": sim.pid,
            "pg_admin_url": _psycopg_url(_with_db(url, "postgres")), "pg_database": database,
            # a step-up confirmation lasts 300 s (STEP_UP_VALID_SECONDS): renewed before a flow window
            # unless it outlives the window with a margin
            "warmup_seconds": warmup_seconds, "step_up_refresh_seconds": max(0.0, 270 - phase_seconds),
            "barrier_timeout": 600, "think_ms": opts["think_ms"], "signed_in": opts["signed_in"],
        }
        config_file = tmp / "load.json"
        config_file.write_text(json.dumps(config))
        windows = f"{phase_seconds:g} s baseline + " + (f"{phase_seconds:g} s signed-in + " if opts["signed_in"] else "") + f"{phase_seconds:g} s flow"
        self.stderr.write(f"running: {users} users, {rounds} rounds × ({windows}) …")
        load_log = tmp / "load.log"
        with open(load_log, "wb") as fh:
            load = subprocess.Popen([sys.executable, "-m", "shebao.bench.load", str(config_file)], cwd=root, env=sim_env,
                                    stdout=fh, stderr=subprocess.STDOUT)
        self.procs.append(load)
        try:
            load.wait(timeout=900 + rounds * duration * 3)
        except subprocess.TimeoutExpired as exc:
            raise CommandError("the load generator did not finish in time") from exc
        if load.returncode != 0:
            raise CommandError(f"the load generator failed ({load.returncode}):\n{load_log.read_text(errors='replace')[-3000:]}")
        result = json.loads((tmp / "result.json").read_text())
        time.sleep(0.2)  # the last access-log lines
        summary = report.summarise(result, access_log.read_bytes(), meta=self._meta(opts, url, database, phase_seconds))
        if any(summary["errors"].values()) or summary["users_failed"]:
            self.keep = True  # the logs say why
        return summary

    # ------------------------------------------------------------------ helpers
    def _redis_cleanup(self, url: str, prefix: str) -> None:
        """Delete the keys this run's service wrote (its own prefix only)."""
        try:
            import redis

            server = redis.Redis.from_url(url, socket_timeout=5)
            for key in server.scan_iter(match=f"{prefix}:*", count=1000):
                server.delete(key)
        except Exception as exc:  # noqa: BLE001 - say so, do not hide the run's own result
            self.stderr.write(f"could not delete the Redis keys {prefix}:*: {exc}")

    def _admin(self, url: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(_psycopg_url(_with_db(url, "postgres")), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def _start(self, argv: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
        with open(log, "wb") as fh:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def _wait_healthy(self, proc: subprocess.Popen, url: str, log: Path, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise CommandError(f"server exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise CommandError(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)

    @staticmethod
    def _stop(proc: subprocess.Popen) -> None:
        """SIGTERM to this one PID (gunicorn's graceful stop), then SIGKILL if it lingers."""
        if proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def _meta(self, opts, url: str, database: str, phase_seconds: float) -> dict:
        import psycopg

        with psycopg.connect(_psycopg_url(_with_db(url, "postgres")), autocommit=True, connect_timeout=10) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.machine())
        return {
            "ncpu": os.cpu_count() or 1, "cpu_model": model, "pg_version": pg_version.split()[0], "python": platform.python_version(),
            "django": django.get_version(), "worker_class": opts["worker_class"], "workers": opts["workers"], "threads": opts["threads"],
            "conn_max_age": opts["conn_max_age"], "profile": "development", "crypto_suite": opts["crypto_suite"], "sessions": "redis+db (cached_db)" if opts["redis_url"] else "db", "sim_threads": SIM_THREADS, "users": opts["users"], "think_ms": opts["think_ms"],
            "rounds": opts["rounds"], "phase_seconds": phase_seconds, "database": database,
        }

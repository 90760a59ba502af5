"""Browser tests: the REAL service (gunicorn + the /sim/ simulators) on a free loopback
port with its own fresh database, driven by Debian's chromium through Playwright as a
phone inside WeChat.

These tests never touch the ORM (the server owns its database); everything they need to
know they read over HTTP (pages, /sim/sms/outbox.json) or compute (``idgen``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN"
)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
    "user_agent": WECHAT_UA,
}
HEALTH_TIMEOUT = 30.0
EXPECT_TIMEOUT_MS = 10_000

# Ordering of the suite (see pytest_collection_modifyitems): the service allows one SMS
# code per number per minute (and so does the SMS simulator, like Aliyun), and a journey
# needs two codes for the same number (registration, then login); a payment needs two
# too (login, then the step-up code before confirming a declaration). So:
#   login     the payers log in (test_payment), first: their minute starts earliest;
#   register  the journeys register;
#   middle    (default) the tests that need at most one code per number, while the
#             minute passes;
#   step_up   the payments go on (step-up code): first, their minute ends first;
#   continue  the journeys go on (login);
#   late      tests that log in a demo person whose number the payments used: they
#             wait (see ``_sms_minute_for_late_tests``) for the minute after the step-up.
# Everything that needs the minute shares the one wait.
PHASES = {"login": 0, "register": 1, "middle": 2, "step_up": 3, "continue": 4, "late": 5}
# Tests elsewhere in the suite that log in 张伟 / 李秀兰, whom test_payment logs in early
# and steps up later: a third code for that number, so after the payments.
# Test name -> the demo person whose number it needs.
LATE_TESTS = {"test_elderly_mode_meets_miit_numbers": "李秀兰", "test_demo_person_insured_information": "张伟"}
SMS_MINUTE = 61.0  # one code per number per minute, plus a second for rounding
SIMULATOR_PREFIX = "/sim/"
MANUAL_SHOTS = Path(__file__).resolve().parents[2] / "shebao" / "manual" / "static" / "manual" / "shots"  # the simulators' pages (cashier, WeChat authorise) are not ours


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "journey_phase(name): order of the browser suite: login, register, middle (default), step_up, continue, late"
    )


def pytest_collection_modifyitems(session, config, items):
    """Mark every test under tests/browser with ``browser`` and order them by phase,
    keeping them in the slots they already occupy in the session."""
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if here in Path(str(item.fspath)).parents]
    if not slots:
        return
    ours = [items[i] for i in slots]
    for item in ours:
        item.add_marker(pytest.mark.browser)

    for item in ours:
        if item.originalname in LATE_TESTS and item.get_closest_marker("journey_phase") is None:
            item.add_marker(pytest.mark.journey_phase("late"))

    def phase(item) -> int:
        marker = item.get_closest_marker("journey_phase")
        return PHASES[marker.args[0]] if marker else PHASES["middle"]

    for slot, item in zip(slots, sorted(ours, key=phase), strict=True):
        items[slot] = item


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in ("postgres", "postgresql", "pgsql", "postgis")


def _with_db_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _pg_admin(url: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) in the server's ``postgres`` database."""
    import psycopg

    parts = urlsplit(_with_db_name(url, "postgres"))
    with psycopg.connect(urlunsplit(("postgresql", *parts[1:])), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


@dataclass
class Server:
    url: str
    pid: int
    env: dict[str, str]
    log: Path
    database: str

    def get(self, path: str, *, timeout: float = 5.0) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


def _run_manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # SIGTERM to this PID only: gunicorn's graceful shutdown
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """The real service under gunicorn (gthread, 1 worker x 8 threads) with the simulators
    mounted (SIMULATORS_ENABLED=1), a fresh database (PostgreSQL when DATABASE_URL points
    there, else SQLite) migrated and seeded with the demo people."""
    tmp = tmp_path_factory.mktemp("shebao-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMS_", "WECHAT_"))}
    env.update(
        SHEBAO_ENV="test",
        SIMULATORS_ENABLED="1",
        PORT=str(port),
        SHEBAO_SELF_URL=f"http://127.0.0.1:{port}",
        SHEBAO_VAR_DIR=str(tmp / "var"),
        SIM_STATE_DIR=str(tmp / "sim"),
        DJANGO_SETTINGS_MODULE="config.settings",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        # every phone of the suite comes from 127.0.0.1: a per-client SMS limit fit for one suite
        SMS_SEND_RATE_PER_IP="60/minute;600/hour",
        SMS_SEND_RATE_PER_SESSION="30/minute;300/hour",
        REFUND_FOLLOW_UP_SECONDS="1",  # a double payment's refund is asked about again within seconds
    )
    env.pop("DJANGO_DEBUG", None)
    base_url = os.environ.get("DATABASE_URL", "")
    pg_name = ""
    if base_url and _is_postgres(base_url):
        pg_name = f"shebao_browser_{secrets.token_hex(4)}"
        _pg_admin(base_url, f'CREATE DATABASE "{pg_name}"')
        env["DATABASE_URL"] = _with_db_name(base_url, pg_name)
        database = f"postgresql:{pg_name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
        database = "sqlite"
    proc = worker = None
    try:
        _run_manage(env, "migrate", "--noinput")
        _run_manage(env, "seed_demo", "--no-notices")  # no demo notice pops up in the journeys
        log = tmp / "gunicorn.log"
        with open(log, "wb") as log_fh:
            proc = subprocess.Popen(
                [
                    str(VENV_BIN / "gunicorn"), "config.wsgi:application",
                    "--bind", f"127.0.0.1:{port}",
                    "--worker-class", "gthread", "--workers", "1", "--threads", "8",
                    "--graceful-timeout", "5", "--access-logfile", "-",
                ],
                cwd=ROOT, env=env, stdout=log_fh, stderr=subprocess.STDOUT,
            )  # fmt: skip
        # the jobs worker beside it, as `make run` has (SMS go out by jobs)
        with open(tmp / "worker.log", "wb") as worker_fh:
            worker = subprocess.Popen([str(VENV_BIN / "python"), "manage.py", "jobs_worker", "--no-reload", "--interval", "0.2"],
                                      cwd=ROOT, env=env, stdout=worker_fh, stderr=subprocess.STDOUT)
        srv = Server(url=f"http://127.0.0.1:{port}", pid=proc.pid, env=env, log=log, database=database)
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited with {proc.returncode}:\n{srv.log_tail()}")
            if worker.poll() is not None:
                pytest.fail(f"the jobs worker exited with {worker.returncode}:\n{(tmp / 'worker.log').read_text(errors='replace')[-3000:]}")
            try:
                status, body = srv.get("/healthz", timeout=1.0)
                if status == 200 and json.loads(body).get("status") == "ok":
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz did not answer within {HEALTH_TIMEOUT:.0f}s:\n{srv.log_tail()}")
            time.sleep(0.1)
        yield srv
    finally:
        for process in (worker, proc):
            if process is not None:
                _stop(process)
        if pg_name:
            _pg_admin(base_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


# --------------------------------------------------------------------------- SMS simulator


@dataclass
class Outbox:
    """The SMS simulator's outbox (``GET /sim/sms/outbox.json``) over HTTP."""

    server: Server

    def messages(self, phone: str) -> list[dict]:
        status, body = self.server.get("/sim/sms/outbox.json?" + urlencode({"phone": phone, "limit": 20}))
        assert status == 200, body[:300]
        return json.loads(body)["messages"]  # newest first

    def mark(self, phone: str) -> str:
        """The newest message id for ``phone`` now (pass it to ``code`` to wait for a newer one)."""
        msgs = self.messages(phone)
        return msgs[0]["biz_id"] if msgs else ""

    def code(self, phone: str, *, after: str | None = None, timeout: float = 5.0) -> str:
        """The code in the newest message to ``phone``; with ``after`` (a ``mark``), wait
        (bounded) until a message newer than that one has arrived."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages(phone)
            if msgs and (after is None or msgs[0]["biz_id"] != after):
                code = msgs[0]["params"]["code"]
                assert re.fullmatch(r"\d{6}", code), msgs[0]
                return code
            if time.monotonic() > deadline:
                raise AssertionError(f"no new SMS code for {phone[:3]}****{phone[-4:]} within {timeout}s")
            time.sleep(0.05)

    def free_in(self, phone: str) -> float:
        """Seconds until another code may go to ``phone`` (0 when it may now), from the
        simulator's own record of the last message it took for that number."""
        msgs = self.messages(phone)
        if not msgs:
            return 0.0
        sent_at = dt.datetime.fromisoformat(msgs[0]["sent_at"])
        return max(0.0, SMS_MINUTE - (dt.datetime.now(dt.UTC) - sent_at).total_seconds())

    def wait_until_free(self, *phones: str) -> float:
        """Sleep (bounded: at most a minute) until every one of ``phones`` may get a code
        again; returns the seconds slept."""
        left = max((self.free_in(p) for p in phones), default=0.0)
        if left > 0:
            time.sleep(left)
        return left


@pytest.fixture(scope="session")
def outbox(server) -> Outbox:
    return Outbox(server)


@pytest.fixture(autouse=True)
def _sms_minute_for_late_tests(request):
    """A late test logs a demo person in whose number a payment test used a moment
    ago: wait for that number's minute first."""
    name = LATE_TESTS.get(getattr(request.node, "originalname", ""))
    if name is not None:
        from shebao.core.demo_data import DEMO_PEOPLE

        mobile = next(p[4] for p in DEMO_PEOPLE if p[0] == name)
        request.getfixturevalue("outbox").wait_until_free(mobile)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="package")
def browser():
    """One headless chromium for the package. Package scope on purpose: Playwright's sync
    API keeps an asyncio loop marked running in this thread, which would make Django
    refuse ORM calls (SynchronousOnlyOperation) in the database tests that follow."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _slug(text: str) -> str:
    return re.sub(r"[^\w\-\[\]]+", "_", text).strip("_") or "page"


@dataclass
class Phone:
    """A phone in WeChat: one browser context (its own cookies) and a page, plus the
    screenshots it takes into test-artifacts/screenshots/<name>/<nn>-<page>.png."""

    page: object
    base_url: str
    shots_dir: Path
    shots: list[Path] = field(default_factory=list)
    audit: Callable[[object], list[str]] | None = None  # run on every shot; what it finds is kept
    findings: list[str] = field(default_factory=list)

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 500, f"{path}: HTTP {response and response.status}"
        return response

    def path(self) -> str:
        return urlsplit(self.page.url).path

    def shot(self, name: str, *, manual: str = "") -> Path:
        """A full-page screenshot (CSS pixels: fast, and what the checks measure). The
        checks run on our pages only: a simulator's page stands in for WeChat's own.
        ``manual``: the operation manual shows this screen as ``shot:<manual>``, so the
        picture is copied there (shebao/manual/static/manual/shots): each run of the suite,
        and so each release, renews the manual's pictures."""
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        target = self.shots_dir / f"{len(self.shots) + 1:02d}-{_slug(name)}.png"
        self.page.screenshot(path=str(target), full_page=True, scale="css", animations="disabled")
        self.shots.append(target)
        if manual:
            MANUAL_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, MANUAL_SHOTS / f"{manual}.png")
        if self.audit is not None and not self.path().startswith(SIMULATOR_PREFIX):
            self.findings.extend(f"{target.name}: {finding}" for finding in self.audit(self.page))
        return target

    def start(self, name: str) -> None:
        """Go on in another test (a kept phone): its screenshots and findings from here."""
        self.shots_dir = ARTIFACTS / _slug(name)
        shutil.rmtree(self.shots_dir, ignore_errors=True)
        self.shots, self.findings = [], []

    def elderly(self) -> bool:
        return "elderly" in (self.page.locator("body").get_attribute("class") or "").split()


@dataclass
class PhoneFactory:
    browser: object
    base_url: str
    default_name: str
    contexts: list = field(default_factory=list)

    def __call__(self, name: str | None = None, *, elderly: bool = False) -> Phone:
        """A new phone. ``elderly=True`` starts with the 大字版 cookie already set (the
        journeys turn it on through the button instead)."""
        context = self.browser.new_context(**PHONE, base_url=self.base_url)
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        context.set_default_navigation_timeout(15_000)
        if elderly:
            context.add_cookies([{"name": "elderly", "value": "1", "url": self.base_url}])
        self.contexts.append(context)
        shots_dir = ARTIFACTS / _slug(name or self.default_name)
        shutil.rmtree(shots_dir, ignore_errors=True)
        from tests.browser.a11y import page_findings

        return Phone(page=context.new_page(), base_url=self.base_url, shots_dir=shots_dir, audit=page_findings)

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


@pytest.fixture
def phone_factory(request, browser, server) -> Iterator[PhoneFactory]:
    """Phones for one test (closed at its end); screenshots go under the test's name."""
    factory = PhoneFactory(browser=browser, base_url=server.url, default_name=request.node.name)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(scope="package")
def kept_phones(browser, server) -> Iterator[PhoneFactory]:
    """Phones that live across tests (a journey registers in one test and goes on in a
    later one, after the per-number SMS minute has passed)."""
    factory = PhoneFactory(browser=browser, base_url=server.url, default_name="kept")
    try:
        yield factory
    finally:
        factory.close()

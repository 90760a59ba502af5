"""The load generator of ``manage.py bench_flow``, run as its own process
(``python -m shebao.bench.load CONFIG.json``; standard library plus psycopg, no Django).

One thread per simulated user, each with its own HTTP connections and cookie jar (the CSRF
token is read from the cookie and sent as the form field, like a browser's form post).
Traffic goes only to the two loopback servers named in the config. The run is bounded:
every phase has a fixed length, every request a timeout, the whole run a deadline.

Phases, all users together (``threading.Barrier``):

* set-up: each user logs in (password, then the SMS code read from the SMS simulator's
  ``outbox.json``), confirms with a step-up code and identifies once through the WeChat
  simulator (``snsapi_base``) so that payments can start; timed, reported apart;
* a short warm-up window of flow (not reported: first requests compile templates, load
  keys, open connections), which also measures each user's pace;
* then ``rounds`` × (baseline window, signed-in window, flow window), interleaved
  round-robin. A window lasts ``phase_seconds``; a user starts no new unit of work after
  its end, finishes the unit in hand (that tail is not counted) and waits for the others.
  Before a flow window each user logs in fresh payers if, at its last pace, it might run
  out of months (twelve per payer) — so no login happens inside a window.

Baseline unit: ``GET /bench/one-query`` (anonymous). Signed-in unit: ``GET /bench/signed-in``
as the payer the user's flow is at (session, account, the site's frame; no business query).
Flow unit (one payer, one month, both insurance types): declare form → quote → confirm →
order page → start payment (the service opens the order at the WeChat Pay simulator) → the
simulator's cashier "pay" (the channel: timed apart, not a service request) → return URL
(query-on-return) → receipt page. The payment
notification goes from the simulator to the service by itself; the orchestrator times it
from the service's access log.

At each window's start and end the CPU time of the service, the simulators, the
PostgreSQL backends of the benchmark database, this process, and the whole machine is
read from /proc, and the size of the service's access log is noted."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit

YEAR = 2026
BASE = "4371.00"
AMOUNT = "1223.88"  # 4371.00 × (20 % + 8 %) for one month
FLOW_KINDS = ("declare_form", "quote", "confirm", "order_page", "pay_start", "return", "receipt")
UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Mobile/15E148 MicroMessenger/8.0.49 shebao-bench")
RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest)
CLK_TCK = os.sysconf("SC_CLK_TCK")


class FlowError(Exception):
    """A service answer the flow did not expect (recorded; the unit is abandoned)."""


# --------------------------------------------------------------------------- HTTP


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Http:
    """One keep-alive connection to one loopback server, with a small cookie jar."""

    def __init__(self, base_url: str, timeout: float):
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"loopback only, not {parts.hostname}")
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.served = 0  # requests answered on the current connection
        self.jar: dict[str, str] = {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None, *, csrf: bool = False) -> Response:
        headers = {"User-Agent": UA, "Accept": "text/html,application/json"}
        body = None
        if form is not None:
            if csrf:
                form = [*form, ("csrfmiddlewaretoken", self.jar.get("csrftoken", ""))]
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn, self.served = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout), 0
            reused = self.served > 0
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except RETRYABLE:
                self.close()  # the server closed an idle keep-alive connection: once more on a new one
                if attempt == 2 or not reused:
                    raise
                continue
            seconds = time.perf_counter() - started
            break
        self.served += 1
        if resp.will_close:
            self.close()
        for value in resp.msg.get_all("Set-Cookie") or ():
            self._store_cookie(value)
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, seconds)

    def _store_cookie(self, header: str) -> None:
        first, *attrs = header.split(";")
        name, _, value = first.strip().partition("=")
        attrs_l = [a.strip().lower() for a in attrs]
        gone = any(a.startswith("max-age=") and a[8:].lstrip("-").isdigit() and int(a[8:]) <= 0 for a in attrs_l) or any(
            a.startswith("expires=") and "1970" in a for a in attrs_l
        )
        if gone:
            self.jar.pop(name, None)
        else:
            self.jar[name] = value  # sent back as received, quotes included (as a browser does)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --------------------------------------------------------------------------- CPU from /proc


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, user+system seconds) for every process we may read."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                raw = fh.read().decode(errors="replace")
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        table[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return table


def _tree_cpu(table: dict[int, tuple[int, float]], root: int) -> float:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += table.get(pid, (0, 0.0))[1]
        stack.extend(children.get(pid, ()))
    return total


def _machine() -> dict[str, float]:
    with open("/proc/stat") as fh:
        cpu = [int(x) for x in fh.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (cpu + [0] * 8)[:8]
    return {"busy": (user + nice + system + irq + softirq) / CLK_TCK, "idle": (idle + iowait) / CLK_TCK, "steal": steal / CLK_TCK}


class Meter:
    """CPU seconds so far of each party, and the access log's size."""

    def __init__(self, config: dict):
        self.service_pid, self.sim_pid = config["service_pid"], config["sim_pid"]
        self.jobs_pid = config.get("jobs_pid")
        self.access_log = config["access_log"]
        self.pg_url, self.pg_db = config.get("pg_admin_url"), config.get("pg_database")
        self.pg_pids: list[int] = []

    def refresh_pg_pids(self) -> None:
        if not self.pg_url:
            return
        try:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True, connect_timeout=5) as conn:
                rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.pg_db,)).fetchall()
            self.pg_pids = [r[0] for r in rows]
        except Exception:  # noqa: BLE001 - PostgreSQL CPU is reported as unknown
            self.pg_pids = []

    def read(self) -> dict:
        table = _proc_table()
        times = os.times()
        return {
            "t": time.perf_counter(),
            "service": _tree_cpu(table, self.service_pid) + (_tree_cpu(table, self.jobs_pid) if self.jobs_pid else 0.0),
            "sim": _tree_cpu(table, self.sim_pid),
            "postgres": sum(table[p][1] for p in self.pg_pids if p in table) if self.pg_pids else None,
            "pg_backends": len([p for p in self.pg_pids if p in table]),
            "loadgen": times.user + times.system,
            "machine": _machine(),
            "log_size": os.path.getsize(self.access_log) if os.path.exists(self.access_log) else 0,
        }


# --------------------------------------------------------------------------- a simulated user


@dataclass
class Payer:
    identifier: str
    mobile: str
    password: str
    http: Http
    months: list[int] = field(default_factory=lambda: list(range(1, 13)))
    stepped_up_at: float = 0.0


class Recorder:
    """Latencies (ms) by (phase index, kind), and the errors; one per user thread."""

    def __init__(self):
        self.latency: dict[tuple[int, str], list[float]] = {}
        self.late: dict[tuple[int, str], int] = {}  # finished after the window closed (not counted)
        self.errors: list[dict] = []

    def add(self, phase: int, kind: str, response: Response, end: float | None) -> None:
        if end is not None and time.perf_counter() > end:
            self.late[(phase, kind)] = self.late.get((phase, kind), 0) + 1
            return
        self.latency.setdefault((phase, kind), []).append(response.seconds * 1000)

    def error(self, phase: int, kind: str, message: str) -> None:
        self.errors.append({"phase": phase, "kind": kind, "message": message[:300]})


class User(threading.Thread):
    def __init__(self, index: int, run: Run, pool: list[dict]):
        super().__init__(name=f"user-{index}", daemon=True)
        self.index, self.run_, self.pool = index, run, pool
        self.rec = Recorder()
        cfg = run.config
        self.sim = Http(cfg["sim_url"], cfg["timeout"])
        self.baseline_http = Http(cfg["service_url"], cfg["timeout"])
        self.payers: list[Payer] = []
        self.pace = 0.0  # flow loops per second in the last flow (or warm-up) window
        self.receipts = 0
        self.paid = 0  # payments made at the simulator's cashier (each one is notified)
        self.exhausted: set[int] = set()  # windows in which this user ran out of payers
        self.loops: dict[int, int] = {}  # flow loops finished inside each window
        self.failed: str | None = None
        self.think_rng = random.Random(index)  # the same pauses in every run

    # --- helpers
    def _expect(self, phase: int, kind: str, response: Response, status: int, *, end: float | None, contains: bytes | None = None,
                location: str | None = None) -> Response:
        ok = response.status == status and (contains is None or contains in response.body) and (
            location is None or response.location.startswith(location))
        if not ok:
            detail = response.location or re.sub(r"\s+", " ", response.body.decode("utf-8", "replace"))[:200]
            self.rec.error(phase, kind, f"HTTP {response.status} (expected {status}): {detail}")
            raise FlowError(kind)
        self.rec.add(phase, kind, response, end)
        if end is not None:
            self._think(end)
        return response

    def _think(self, end: float) -> None:
        """A person reading the page before the next tap (``think_ms``: mean of an exponential
        pause, cut at four times the mean and at the window's end). 0: none, a closed loop."""
        mean = self.run_.config.get("think_ms", 0) / 1000
        if mean > 0:
            time.sleep(max(0.0, min(self.think_rng.expovariate(1 / mean), 4 * mean, end - time.perf_counter())))

    def _code(self, mobile: str, after: str) -> tuple[str, str]:
        """The newest SMS code for ``mobile`` newer than message ``after`` (simulator's outbox; not timed)."""
        deadline = time.monotonic() + 10
        while True:
            r = self.sim.request("GET", "/sim/sms/outbox.json?" + urlencode({"phone": mobile, "limit": 1}))
            messages = json.loads(r.body)["messages"] if r.status == 200 else []
            if messages and messages[0]["biz_id"] != after:
                return messages[0]["params"]["code"], messages[0]["biz_id"]
            if time.monotonic() > deadline:
                raise FlowError(f"no SMS code for {mobile[:3]}****{mobile[-4:]}")
            time.sleep(0.05)

    def _last_sms(self, mobile: str) -> str:
        r = self.sim.request("GET", "/sim/sms/outbox.json?" + urlencode({"phone": mobile, "limit": 1}))
        messages = json.loads(r.body)["messages"] if r.status == 200 else []
        return messages[0]["biz_id"] if messages else ""

    # --- set-up of one payer: login, step-up, WeChat identification (timed, phase -1)
    def login(self, person: dict) -> Payer:
        p = Payer(person["identifier"], person["mobile"], person["password"], Http(self.run_.config["service_url"], self.run_.config["timeout"]))
        ph = -1
        self._expect(ph, "login_form", p.http.request("GET", "/accounts/login"), 200, end=None)
        mark = self._last_sms(p.mobile)
        self._expect(ph, "login_password", p.http.request("POST", "/accounts/login", [("identifier", p.identifier), ("password", p.password)], csrf=True),
                     302, end=None, location="/accounts/login/verify")
        code, _ = self._code(p.mobile, mark)
        self._expect(ph, "login_code", p.http.request("POST", "/accounts/login/verify", [("action", "verify"), ("sms_code", code)], csrf=True),
                     302, end=None)
        self.step_up(p)
        # snsapi_base through the WeChat simulator: the openid a JSAPI payment needs (once per session)
        start = self._expect(ph, "wechat_identify", p.http.request("GET", "/accounts/wechat/identify?next=/fees/"), 302, end=None)
        authorise = start.location.split("#")[0]
        params = dict(parse_qsl(urlsplit(authorise).query))
        chosen = self.sim.request("POST", urlsplit(authorise).path + "/choose", [("persona", "jia"), *params.items()])
        if chosen.status != 302:
            self.rec.error(ph, "wechat_authorise", f"simulator HTTP {chosen.status}")
            raise FlowError("wechat_authorise")
        self._expect(ph, "wechat_callback", p.http.request("GET", path_of(chosen.location)), 302, end=None, location="/fees/")
        return p

    def step_up(self, p: Payer) -> None:
        ph = -1
        mark = self._last_sms(p.mobile)
        self._expect(ph, "stepup_send", p.http.request("POST", "/accounts/step-up", [("action", "send_code"), ("next", "/fees/")], csrf=True),
                     200, end=None)
        code, _ = self._code(p.mobile, mark)
        self._expect(ph, "stepup_code", p.http.request("POST", "/accounts/step-up", [("sms_code", code), ("next", "/fees/")], csrf=True),
                     302, end=None, location="/fees/")
        p.stepped_up_at = time.monotonic()

    def top_up(self, seconds: float) -> None:
        """Months enough for a flow window of ``seconds`` at this user's last pace (one payer at
        least; fresh payers come from the pool), and every payer's step-up confirmation fresh
        (it lasts 5 minutes)."""
        need = max(24, int(self.pace * seconds * 4) + 12)  # a wide margin: under overload one user may get 4x its usual pace
        while (not self.payers or sum(len(p.months) for p in self.payers) < need) and self.pool:
            self.payers.append(self.login(self.pool.pop(0)))
        months = 0
        for p in self.payers:  # only the payers the next window may reach (each code is one of 10 SMS a day)
            if months >= need:
                break
            if p.months and time.monotonic() - p.stepped_up_at > self.run_.config["step_up_refresh_seconds"]:
                self.step_up(p)
            months += len(p.months)

    # --- the units of work
    def baseline_unit(self, phase: int, end: float) -> None:
        r = self.baseline_http.request("GET", "/bench/one-query")
        self._expect(phase, "one_query", r, 200, end=end)

    def signed_in_unit(self, phase: int, end: float) -> None:
        # the payer the flow is at (its session the most recently used: never past the idle timeout)
        payer = next((p for p in self.payers if p.months), None) or self.payers[-1]
        self._expect(phase, "signed_in", payer.http.request("GET", "/bench/signed-in"), 200, end=end, contains="已登录".encode())

    def flow_unit(self, phase: int, end: float) -> bool:
        payer = next((p for p in self.payers if p.months), None)
        if payer is None:
            if phase not in self.exhausted:
                self.run_.exhaustion.append({"phase": phase, "user": self.index, "payers": len(self.payers), "pool": len(self.pool),
                                             "pace": round(self.pace, 3), "loops": self.loops})
            self.exhausted.add(phase)
            return False
        month = payer.months.pop(0)
        http = payer.http
        period = f"{YEAR}-{month:02d}"
        data = [("insurance_types", "10210-FLEX"), ("insurance_types", "10212-FLEX"), ("contribution_year", str(YEAR)),
                ("period_from", period), ("period_to", period), ("base", BASE), ("grade", ""), ("idem", secrets.token_hex(16))]
        self._expect(phase, "declare_form", http.request("GET", "/fees/declare"), 200, end=end)
        self._expect(phase, "quote", http.request("POST", "/fees/declare", [*data, ("action", "quote")], csrf=True), 200, end=end,
                     contains=AMOUNT.encode())
        confirmed = self._expect(phase, "confirm", http.request("POST", "/fees/declare", [*data, ("action", "confirm"), ("sms_code", "")],
                                                                csrf=True), 302, end=end, location="/fees/orders/")
        order = confirmed.location
        self._expect(phase, "order_page", http.request("GET", order), 200, end=end)
        started = self._expect(phase, "pay_start", http.request("POST", order, [("action", "pay")], csrf=True), 302, end=end,
                               location=self.run_.config["sim_url"])
        back = self.cashier(phase, started.location, end)
        self.paid += 1
        self._expect(phase, "return", http.request("GET", path_of(back)), 302, end=end, location=order + "/receipt")
        self._expect(phase, "receipt", http.request("GET", order + "/receipt"), 200, end=end, contains="缴费成功".encode())
        self.receipts += 1
        return True

    def cashier(self, phase: int, url: str, end: float) -> str:
        """The payer presses 确认支付 on the simulator's cashier page (the channel, timed apart)."""
        page = self.sim.request("GET", path_of(url))
        action = re.search(rb'<form[^>]*action="([^"]+)"', page.body)
        if page.status != 200 or action is None:
            self.rec.error(phase, "cashier", f"simulator cashier HTTP {page.status}")
            raise FlowError("cashier")
        fields = [(unescape(k.decode()), unescape(v.decode())) for k, v in re.findall(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.body)]
        pressed = self.sim.request("POST", unescape(action.group(1).decode()), [*fields, ("action", "pay")])
        if pressed.status not in (302, 303):
            self.rec.error(phase, "cashier", f"simulator cashier pay HTTP {pressed.status}")
            raise FlowError("cashier")
        self.rec.add(phase, "channel_cashier", Response(200, {}, b"", page.seconds + pressed.seconds), end)
        return pressed.location

    # --- the thread
    def run(self) -> None:
        run = self.run_
        try:
            try:
                self.top_up(0)
            except (FlowError, OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                self.failed = f"set-up: {exc!r}"
            run.ready.wait()
            for index, kind in enumerate(run.phases):
                if kind in ("warmup", "flow") and not self.failed:
                    try:
                        self.top_up(run.seconds(kind))
                    except (FlowError, OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                        self.rec.error(-1, "top_up", repr(exc))
                run.go.wait()
                end = run.window_end
                mean = run.config.get("think_ms", 0) / 1000
                if mean > 0:  # people do not all tap at once: arrivals spread over one mean pause
                    time.sleep(min(self.think_rng.uniform(0, mean), max(0.0, end - time.perf_counter())))
                started = time.perf_counter()
                loops = 0
                consecutive_errors = 0
                while not self.failed and time.perf_counter() < end and consecutive_errors < 20:
                    try:
                        if kind == "baseline":
                            self.baseline_unit(index, end)
                        elif kind == "signed_in":
                            self.signed_in_unit(index, end)
                        elif not self.flow_unit(index, end):
                            break
                        else:
                            loops += 1
                        consecutive_errors = 0
                    except FlowError:
                        consecutive_errors += 1
                    except (OSError, http.client.HTTPException) as exc:
                        consecutive_errors += 1
                        self.rec.error(index, "transport", repr(exc))
                        for p in self.payers:
                            p.http.close()
                        self.baseline_http.close()
                if kind in ("warmup", "flow"):
                    self.pace = loops / max(0.5, min(time.perf_counter(), end) - started)
                    self.loops[index] = loops
                run.done.wait()
        except threading.BrokenBarrierError:
            self.failed = self.failed or "aborted"


class Run:
    def __init__(self, config: dict):
        self.config = config
        kinds = ("baseline", "signed_in", "flow") if config.get("signed_in", True) else ("baseline", "flow")
        self.phases = ["warmup"] + [k for _ in range(config["rounds"]) for k in kinds]
        n = config["users"]
        self.ready = threading.Barrier(n + 1)
        self.go = threading.Barrier(n + 1, action=self._start_window)
        self.done = threading.Barrier(n + 1)
        self.meter = Meter(config)
        self.window_end = 0.0
        self.windows: list[dict] = []
        self.users: list[User] = []
        self.exhaustion: list[dict] = []  # details of users that ran out of payers (for the report)

    def seconds(self, kind: str) -> float:
        return self.config["warmup_seconds"] if kind == "warmup" else self.config["phase_seconds"]

    def _start_window(self) -> None:
        start = self.meter.read()
        kind = self.phases[len(self.windows)]
        self.window_end = start["t"] + self.seconds(kind)
        self.windows.append({"kind": kind, "start": start})

    def execute(self) -> dict:
        cfg = self.config
        with open(cfg["people_file"]) as fh:
            people = [{"identifier": p["id_number"], "mobile": p["mobile"], "password": p["password"]} for p in json.load(fh)]
        pools = [people[i::cfg["users"]] for i in range(cfg["users"])]
        users = self.users = [User(i, self, pools[i]) for i in range(cfg["users"])]
        setup_started = time.perf_counter()
        for u in users:
            u.start()
        timeout = cfg["barrier_timeout"]
        self.ready.wait(timeout=timeout)
        setup_seconds = time.perf_counter() - setup_started
        self.meter.refresh_pg_pids()
        for _kind in self.phases:
            self.go.wait(timeout=timeout)
            time.sleep(max(0.0, self.window_end - time.perf_counter()))
            window = self.windows[-1]
            window["end"] = self.meter.read()
            self.done.wait(timeout=timeout)
            if window["kind"] in ("warmup", "flow"):
                self._settle_notifications(window)
            window["drained"] = self.meter.read()
            self.meter.refresh_pg_pids()
        for u in users:
            u.join(timeout=30)
        return self._result(users, setup_seconds)

    def _settle_notifications(self, window: dict) -> None:
        """Wait (bounded) until the access log has a notification for every payment made so far."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(self.config["access_log"], "rb") as fh:
                notified = fh.read().count(b" /api/pay/wechatpay/notify ")
            if notified >= sum(u.paid for u in self.users):
                return
            time.sleep(0.1)

    def _result(self, users: list[User], setup_seconds: float) -> dict:
        latency: dict[str, dict[str, list[float]]] = {}
        late: dict[str, dict[str, int]] = {}
        for u in users:
            for (phase, kind), values in u.rec.latency.items():
                latency.setdefault(str(phase), {}).setdefault(kind, []).extend(values)
            for (phase, kind), count in u.rec.late.items():
                late.setdefault(str(phase), {})[kind] = late.get(str(phase), {}).get(kind, 0) + count
        return {
            "setup_seconds": setup_seconds,
            "windows": self.windows,
            "latency_ms": latency,
            "late": late,
            "errors": [e for u in users for e in u.rec.errors],
            "receipts": sum(u.receipts for u in users),
            "payments": sum(u.paid for u in users),
            "payers_logged_in": sum(len(u.payers) for u in users),
            "loops_per_user": {str(i): [u.loops.get(i, 0) for u in users] for i in range(len(self.phases)) if self.phases[i] in ("warmup", "flow")},
            "exhaustion": self.exhaustion[:20],
            "exhausted": {str(i): sum(1 for u in users if i in u.exhausted) for i in range(len(self.phases))},
            "users_failed": [u.failed for u in users if u.failed],
        }


def main(argv: list[str]) -> int:
    with open(argv[1]) as fh:
        config = json.load(fh)
    result = Run(config).execute()
    with open(config["result_file"], "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

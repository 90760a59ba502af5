"""Figures of a ``bench_flow`` run: from the load generator's result and the service's
access log to a summary (a dict, also written as JSON) and the printed report.

Definitions (docs/performance.md):

* a window's **req/s** = requests completed inside it ÷ its length. A flow window counts
  the payer's seven page requests and the payment notifications the service answered
  inside the window (from its access log); the cashier on the simulator is the channel,
  not a service request, and is not counted.
* **p50 / p99**: nearest-rank percentiles of the latency the simulated browser saw (send to
  last byte, queueing in the server's listen backlog included) of the requests counted.
  The notifications are among them with the service's own time from its access log
  (``%(D)s``): their client is the simulator.
* **cost ratio** = baseline req/s ÷ flow req/s over all rounds, same users, interleaved:
  with the server saturated by a closed loop, 1/throughput is the mean cost of a request.
* **CPU ratio** = (service + PostgreSQL backend CPU seconds per flow request) ÷ (the same per
  baseline request), from /proc: the cost without the load generator and the simulators.
* **signed-in floor**: the same two ratios for ``/bench/signed-in`` (a signed-in payer's
  session and account, the site's frame, no business query), measured in its own window of
  each round: what any page of a signed-in payer costs before doing its own work. The flow is
  also given against it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

FLOW_KINDS = ("declare_form", "quote", "confirm", "order_page", "pay_start", "return", "receipt")
SETUP_KINDS = ("login_form", "login_password", "login_code", "stepup_send", "stepup_code", "wechat_identify", "wechat_callback")
TARGET_RATIO = 3.0
TARGET_P99_MS = 150.0
TARGET_USERS = 32

_ORDER = re.compile(r"^/fees/orders/[A-Za-z0-9_-]+(/return|/receipt)?$")


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def server_kind(method: str, path: str, status: str) -> str:
    """The request kind of an access-log line (the same names as the load generator's)."""
    if path == "/bench/one-query":
        return "one_query"
    if path == "/bench/signed-in":
        return "signed_in"
    if path == "/api/pay/wechatpay/notify":
        return "notify"
    if path == "/fees/declare":
        return "declare_form" if method == "GET" else ("confirm" if status == "302" else "quote")
    match = _ORDER.match(path)
    if match:
        suffix = match.group(1)
        if suffix == "/return":
            return "return"
        if suffix == "/receipt":
            return "receipt"
        return "order_page" if method == "GET" else "pay_start"
    return "other"


def parse_access_log(chunk: bytes) -> list[tuple[str, int, float]]:
    """``(kind, status, milliseconds)`` of each line written as ``%(m)s %(U)s %(s)s %(D)s``."""
    rows = []
    for line in chunk.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        method, path, status, micros = parts
        rows.append((server_kind(method, path, status), int(status) if status.isdigit() else 0, int(micros) / 1000))
    return rows


def _stats(values: list[float]) -> dict:
    return {"count": len(values), "p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99),
            "mean_ms": sum(values) / len(values) if values else None}


def _cpu(start: dict, end: dict, requests: int, ncpu: int) -> dict:
    wall = end["t"] - start["t"]

    def per_request(key):
        if start.get(key) is None or end.get(key) is None or not requests:
            return None
        return (end[key] - start[key]) / requests * 1000

    busy = end["machine"]["busy"] - start["machine"]["busy"]
    steal = end["machine"]["steal"] - start["machine"]["steal"]
    ours = sum((end[k] - start[k]) for k in ("service", "postgres", "sim", "loadgen") if start.get(k) is not None and end.get(k) is not None)
    return {
        "others_pct": 100 * max(0.0, busy - ours) / (wall * ncpu) if wall > 0 else None,
        "service_ms": per_request("service"), "postgres_ms": per_request("postgres"), "sim_ms": per_request("sim"),
        "loadgen_ms": per_request("loadgen"),
        "machine_busy_pct": 100 * busy / (wall * ncpu) if wall > 0 else None,
        "steal_pct": 100 * steal / (wall * ncpu) if wall > 0 else None,
        "cpu_seconds": {k: (end[k] - start[k]) if start.get(k) is not None and end.get(k) is not None else None
                        for k in ("service", "postgres", "sim", "loadgen")},
    }


def summarise(result: dict, access_log: bytes, *, meta: dict) -> dict:
    """Everything the report prints (and the JSON holds)."""
    ncpu = meta["ncpu"]
    windows = []
    pooled: dict[str, dict] = {
        kind: {"latency": [], "requests": 0, "seconds": 0.0, "cpu": defaultdict(float), "errors": 0}
        for kind in ("baseline", *(("signed_in",) if any(w["kind"] == "signed_in" for w in result["windows"]) else ()), "flow")
    }
    by_kind: dict[str, list[float]] = defaultdict(list)
    server_by_kind: dict[str, list[float]] = defaultdict(list)
    errors_by_phase: dict[int, int] = defaultdict(int)
    for e in result["errors"]:
        errors_by_phase[e["phase"]] += 1
    round_no = 0
    warmup = None
    exhausted = 0
    for index, window in enumerate(result["windows"]):
        kind = window["kind"]
        start, end, drained = window["start"], window["end"], window["drained"]
        if kind == "warmup":  # not reported: caches, connections, the users' pace
            loops = len(result["latency_ms"].get(str(index), {}).get("receipt", []))
            warmup = {"seconds": end["t"] - start["t"], "receipts": loops}
            continue
        if kind == "baseline":
            round_no += 1
        elif kind == "flow":
            exhausted += result["exhausted"].get(str(index), 0)
        seconds = end["t"] - start["t"]
        latency_by_kind = result["latency_ms"].get(str(index), {})
        in_window = parse_access_log(access_log[start["log_size"]:end["log_size"]])
        with_tail = parse_access_log(access_log[start["log_size"]:drained["log_size"]])
        for k, _status, ms in with_tail:
            server_by_kind[k].append(ms)
        if kind in ("baseline", "signed_in"):
            latency = latency_by_kind.get("one_query" if kind == "baseline" else "signed_in", [])
            requests = len(latency)
            notify = 0
        else:
            # the notifications answered inside the window count, with the service's own time (their client is the simulator)
            notify_ms = [ms for k, _s, ms in in_window if k == "notify"]
            notify = len(notify_ms)
            latency = [ms for k in FLOW_KINDS for ms in latency_by_kind.get(k, [])] + notify_ms
            requests = len(latency)
            for k in (*FLOW_KINDS, "channel_cashier"):
                by_kind[k].extend(latency_by_kind.get(k, []))
        cpu = _cpu(start, end, requests, ncpu)
        per_user = sorted(result.get("loops_per_user", {}).get(str(index), []))
        windows.append({
            "loops_per_user": [per_user[0], per_user[len(per_user) // 2], per_user[-1]] if per_user else None,
            "round": round_no, "kind": kind, "seconds": seconds, "requests": requests, "notifications": notify,
            "rps": requests / seconds if seconds > 0 else 0.0, **{k: v for k, v in _stats(latency).items() if k != "count"},
            "errors": errors_by_phase.get(index, 0), "cpu": cpu,
        })
        pool = pooled[kind]
        pool["latency"].extend(latency)
        pool["requests"] += requests
        pool["seconds"] += seconds
        pool["errors"] += errors_by_phase.get(index, 0)
        for k, v in cpu["cpu_seconds"].items():
            pool["cpu"][k] += v if v is not None else math.nan
        pool["cpu"]["busy"] += end["machine"]["busy"] - start["machine"]["busy"]
        pool["cpu"]["others"] += (cpu["others_pct"] or 0.0) / 100 * seconds * ncpu
        pool["cpu"]["steal"] += end["machine"]["steal"] - start["machine"]["steal"]

    overall = {}
    for kind, pool in pooled.items():
        n, secs = pool["requests"], pool["seconds"]

        def per_req(key, n=n, pool=pool):
            value = pool["cpu"].get(key)
            return None if not n or value is None or math.isnan(value) else value / n * 1000

        overall[kind] = {
            "requests": n, "seconds": secs, "rps": n / secs if secs else 0.0,
            **{k: v for k, v in _stats(pool["latency"]).items() if k != "count"}, "errors": pool["errors"],
            "cpu": {"service_ms": per_req("service"), "postgres_ms": per_req("postgres"), "sim_ms": per_req("sim"),
                    "loadgen_ms": per_req("loadgen"),
                    "machine_busy_pct": 100 * pool["cpu"]["busy"] / (secs * ncpu) if secs else None,
                    "others_pct": 100 * pool["cpu"]["others"] / (secs * ncpu) if secs else None,
                    "steal_pct": 100 * pool["cpu"]["steal"] / (secs * ncpu) if secs else None},
        }
    base, flow = overall["baseline"], overall["flow"]
    cost_ratio = _ratio(base["rps"], flow["rps"])
    rps_by_round: dict[int, dict[str, float]] = defaultdict(dict)
    for w in windows:
        rps_by_round[w["round"]][w["kind"]] = w["rps"]
    per_round = [_ratio(r.get("baseline"), r.get("flow")) for _n, r in sorted(rps_by_round.items())]
    cpu_ratio = _ratio(_server_cost(flow), _server_cost(base))
    floor = overall.get("signed_in")
    signed_in = None if floor is None else {
        "cost_ratio": _ratio(base["rps"], floor["rps"]),
        "cost_ratio_per_round": [_ratio(r.get("baseline"), r.get("signed_in")) for _n, r in sorted(rps_by_round.items())],
        "cpu_ratio": _ratio(_server_cost(floor), _server_cost(base)),
        "flow_cost_ratio": _ratio(floor["rps"], flow["rps"]),
        "flow_cpu_ratio": _ratio(_server_cost(flow), _server_cost(floor)),
    }
    setup = {k: _stats(v) for k, v in result["latency_ms"].get("-1", {}).items()}
    setup_errors = errors_by_phase.get(-1, 0)
    notify = server_by_kind.get("notify", [])
    return {
        "meta": meta,
        "windows": windows,
        "overall": overall,
        "cost_ratio": cost_ratio,
        "cost_ratio_per_round": per_round,
        "cpu_ratio": cpu_ratio,
        "signed_in": signed_in,
        "flow_by_kind": {k: _stats(by_kind.get(k, [])) for k in (*FLOW_KINDS, "channel_cashier")},
        "server_by_kind": {k: _stats(v) for k, v in server_by_kind.items()},
        "notify_server": _stats(notify),
        "setup": setup,
        "setup_seconds": result["setup_seconds"],
        "payers_logged_in": result["payers_logged_in"],
        "receipts": result["receipts"],
        "payments": result["payments"],
        "notifications": sum(1 for k, status, _ms in parse_access_log(access_log) if k == "notify" and status == 204),
        "warmup": warmup,
        "users_out_of_payers": exhausted,
        "exhaustion": result.get("exhaustion", []),
        "users_failed": result["users_failed"],
        "errors": {"flow": flow["errors"], "baseline": base["errors"], "setup": setup_errors},
        "error_samples": result["errors"][:10],
        "verdict": {
            # with think time the users set the pace: the cost is judged by CPU per request
            "cost_ratio_ok": (cpu_ratio if meta.get("think_ms") else cost_ratio) is not None
            and (cpu_ratio if meta.get("think_ms") else cost_ratio) <= TARGET_RATIO,
            "p99_ok": flow["p99_ms"] is not None and flow["p99_ms"] < TARGET_P99_MS,
        },
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    """``a ÷ b``; None when either is missing or zero."""
    if not a or not b:
        return None
    return a / b


def _server_cost(o: dict) -> float | None:
    """Service + PostgreSQL CPU ms per request of a pooled phase."""
    s, p = o["cpu"]["service_ms"], o["cpu"]["postgres_ms"]
    return None if s is None else s + (p or 0.0)


def _f(value, fmt="{:.1f}", none="–") -> str:
    return none if value is None else fmt.format(value)


def _signed_in_lines(s: dict) -> list[str]:
    f = s.get("signed_in")
    if not f:
        return []
    return [
        f"signed-in floor (/bench/signed-in: session, account, the site's frame; no business query): cost ratio "
        f"{_f(f['cost_ratio'], '{:.2f}')}× baseline (per round: {' '.join(_f(r, '{:.2f}') for r in f['cost_ratio_per_round'])}), "
        f"CPU ratio {_f(f['cpu_ratio'], '{:.2f}')}×",
        f"flow against the signed-in floor: cost ratio {_f(f['flow_cost_ratio'], '{:.2f}')}×, CPU ratio {_f(f['flow_cpu_ratio'], '{:.2f}')}×",
    ]


def render(s: dict) -> str:
    m = s["meta"]
    lines = [
        "bench_flow — 个人社保费掌上办: the declare-and-pay flow beside a one-query Django endpoint",
        f"machine: {m['ncpu']} CPUs ({m['cpu_model']}), PostgreSQL {m['pg_version']}, Python {m['python']}, Django {m['django']}",
        f"service: gunicorn {m['worker_class']} × {m['workers']} workers{' × ' + str(m['threads']) + ' threads' if m['worker_class'] == 'gthread' else ''}, "
        f"DB_CONN_MAX_AGE={m['conn_max_age']}, profile {m['profile']}, crypto suite {m.get('crypto_suite', 'sm')}, sessions {m.get('sessions', 'db')}; simulators: own gunicorn process (gthread 1 × {m['sim_threads']}); "
        f"load generator: own process, {m['users']} users (threads)",
        f"method: {m['rounds']} round(s) × ({m['phase_seconds']:g} s baseline + "
        + (f"{m['phase_seconds']:g} s signed-in + " if s.get("signed_in") else "")
        + f"{m['phase_seconds']:g} s flow), interleaved; "
        f"database {m['database']} (created for this run, dropped after)",
        f"set-up: {s['payers_logged_in']} payers logged in (password + SMS code, step-up code, WeChat identification) "
        f"in {s['setup_seconds']:.1f} s (plus top-ups between windows); warm-up "
        + (f"{s['warmup']['seconds']:.0f} s of flow, {s['warmup']['receipts']} receipts (not reported)" if s["warmup"] else "none"),
        "",
        f"{'round':<6}{'phase':<10}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'svc CPU ms/req':>16}{'PG CPU ms/req':>15}{'busy %':>8}{'other %':>8}{'steal %':>8}",
    ]

    def row(label, phase, w):
        cpu = w["cpu"]
        return (f"{label:<6}{phase:<10}{w['requests']:>9}{w['rps']:>9.1f}{_f(w['p50_ms']):>9}{_f(w['p99_ms']):>9}{w['errors']:>8}"
                f"{_f(cpu['service_ms'], '{:.2f}'):>16}{_f(cpu['postgres_ms'], '{:.2f}'):>15}{_f(cpu['machine_busy_pct'], '{:.0f}'):>8}"
                f"{_f(cpu['others_pct'], '{:.0f}'):>8}{_f(cpu['steal_pct'], '{:.1f}'):>8}")

    for w in s["windows"]:
        lines.append(row(str(w["round"]), w["kind"], w))
    for kind, pooled in s["overall"].items():
        lines.append(row("all", kind, pooled))
    spread = [f"round {w['round']}: {'–'.join(map(str, w['loops_per_user']))}" for w in s["windows"]
              if w["kind"] == "flow" and w.get("loops_per_user")]
    if spread:
        lines.append("payments per user in each flow window (min–median–max): " + ", ".join(spread))
    lines += ["", "flow requests by kind (all rounds; client-side latency; server time from the access log, tails included):",
              f"  {'kind':<16}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'server mean ms':>16}"]
    for kind, st in s["flow_by_kind"].items():
        server = s["server_by_kind"].get(kind, {}).get("mean_ms")
        label = kind if kind != "channel_cashier" else "(cashier @sim)"
        lines.append(f"  {label:<16}{st['count']:>7}{_f(st['p50_ms']):>9}{_f(st['p99_ms']):>9}{_f(st['mean_ms']):>9}{_f(server):>16}")
    n = s["notify_server"]
    lines.append(f"  {'notify (server)':<16}{n['count']:>7}{_f(n['p50_ms']):>9}{_f(n['p99_ms']):>9}{_f(n['mean_ms']):>9}{_f(n['mean_ms']):>16}")
    if s["setup"]:
        lines += ["", "set-up requests (not in the windows):"]
        for kind, st in s["setup"].items():
            lines.append(f"  {kind:<16}{st['count']:>7}{_f(st['p50_ms']):>9}{_f(st['p99_ms']):>9}{_f(st['mean_ms']):>9}")
    o = s["overall"]
    lines += [
        "",
        "CPU ms per service request (all rounds): "
        f"baseline service {_f(o['baseline']['cpu']['service_ms'], '{:.2f}')} + PostgreSQL {_f(o['baseline']['cpu']['postgres_ms'], '{:.2f}')}, "
        f"load generator {_f(o['baseline']['cpu']['loadgen_ms'], '{:.2f}')}; "
        f"flow service {_f(o['flow']['cpu']['service_ms'], '{:.2f}')} + PostgreSQL {_f(o['flow']['cpu']['postgres_ms'], '{:.2f}')}, "
        f"simulators {_f(o['flow']['cpu']['sim_ms'], '{:.2f}')}, load generator {_f(o['flow']['cpu']['loadgen_ms'], '{:.2f}')}",
        f"cost ratio (baseline req/s ÷ flow req/s): {_f(s['cost_ratio'], '{:.2f}')}×   per round: "
        + " ".join(_f(r, "{:.2f}") for r in s["cost_ratio_per_round"]),
        f"CPU ratio (service + PostgreSQL CPU per request, flow ÷ baseline): {_f(s['cpu_ratio'], '{:.2f}')}×",
        *_signed_in_lines(s),
        f"whole run (warm-up included): receipts {s['receipts']}, payments {s['payments']}, notifications answered (HTTP 204): {s['notifications']}",
        f"errors: flow {s['errors']['flow']}, baseline {s['errors']['baseline']}, set-up {s['errors']['setup']}"
        + (f"; a user ran out of payers in a flow window {s['users_out_of_payers']} time(s)" if s["users_out_of_payers"] else "")
        + (f"; users failed: {len(s['users_failed'])}" if s["users_failed"] else ""),
    ]
    for e in s.get("exhaustion", [])[:5]:
        lines.append(f"  out of payers (window {e['phase']}, user {e['user']}): {e['payers']} payers used, {e['pool']} left in its pool")
    for e in s["error_samples"]:
        lines.append(f"  error (window {e['phase']}, {e['kind']}): {e['message']}")
    v = s["verdict"]
    note = "" if m["users"] == TARGET_USERS else f" (the targets are stated for {TARGET_USERS} users; this run had {m['users']})"
    think = m.get("think_ms") or 0
    if think:
        note += f" (users pause {think:g} ms on average between requests)"
    judged = f"CPU ratio {_f(s['cpu_ratio'], '{:.2f}')}×" if think else f"{_f(s['cost_ratio'], '{:.2f}')}×"
    lines += [
        "",
        f"TARGET flow cost ≤ {TARGET_RATIO:g}× baseline: {'PASS' if v['cost_ratio_ok'] else 'FAIL'} ({judged}){note}",
        f"TARGET flow p99 < {TARGET_P99_MS:g} ms at {TARGET_USERS} users: {'PASS' if v['p99_ok'] else 'FAIL'} "
        f"({_f(o['flow']['p99_ms'])} ms){note}",
    ]
    return "\n".join(lines)

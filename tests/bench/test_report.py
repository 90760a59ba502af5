"""The benchmark's arithmetic on a made-up run: what counts in a window, the percentiles,
the ratios to the baseline and to the signed-in floor (no server, no timing)."""

from __future__ import annotations

import pytest

from shebao.bench import report


def _mark(t: float, cpu: float, log_size: int) -> dict:
    return {"t": t, "service": cpu, "sim": 0.0, "postgres": cpu / 10, "loadgen": 0.0, "pg_backends": 2,
            "machine": {"busy": 2 * t, "idle": 0.0, "steal": 0.0}, "log_size": log_size}


def _run(access_log: bytes, flow_log: tuple[int, int]) -> tuple[dict, bytes]:
    """warm-up, then one round: baseline 100 req/10 s, signed-in 50 req/10 s, flow 8 page requests + the
    notifications of the access log's flow part, 10 s. Service CPU: 1 s, 1 s, 2 s."""
    windows = [
        {"kind": "warmup", "start": _mark(0, 0, 0), "end": _mark(5, 0, 0), "drained": _mark(5, 0, 0)},
        {"kind": "baseline", "start": _mark(10, 0, 0), "end": _mark(20, 1, 0), "drained": _mark(20, 1, 0)},
        {"kind": "signed_in", "start": _mark(20, 1, 0), "end": _mark(30, 2, 0), "drained": _mark(30, 2, 0)},
        {"kind": "flow", "start": _mark(30, 2, flow_log[0]), "end": _mark(40, 4, flow_log[1]), "drained": _mark(41, 4, len(access_log))},
    ]
    kinds = report.FLOW_KINDS + ("return",)  # eight page requests: 10 ms each, one of 500 ms
    flow = {k: [] for k in report.FLOW_KINDS}
    for i, k in enumerate(kinds):
        flow[k].append(500.0 if i == 0 else 10.0)
    result = {
        "windows": windows, "errors": [], "late": {}, "receipts": 1, "payments": 1, "payers_logged_in": 1, "users_failed": [],
        "setup_seconds": 1.0, "exhausted": {}, "exhaustion": [], "loops_per_user": {"3": [1]},
        "latency_ms": {"1": {"one_query": [1.0] * 100}, "2": {"signed_in": [2.0] * 50}, "3": flow},
    }
    return result, access_log


META = {"ncpu": 2, "think_ms": 0, "users": 32}


def test_notifications_count_with_their_server_time_and_the_ratios_follow():
    before = b"GET /bench/one-query 200 900\n"
    inside = b"POST /api/pay/wechatpay/notify 204 900000\nPOST /api/pay/wechatpay/notify 204 20000\n"
    after = b"POST /api/pay/wechatpay/notify 204 30000\n"  # answered after the window: in the tail only
    log = before + inside + after
    result, access_log = _run(log, (len(before), len(before) + len(inside)))
    s = report.summarise(result, access_log, meta=META)

    flow = s["overall"]["flow"]
    assert flow["requests"] == 8 + 2
    assert flow["rps"] == pytest.approx(1.0)
    assert flow["p99_ms"] == 900.0  # the slow notification is the flow's slowest request
    assert flow["p50_ms"] == 10.0
    assert s["notify_server"]["count"] == 3  # tails included
    assert s["overall"]["baseline"]["rps"] == pytest.approx(10.0)
    assert s["overall"]["signed_in"]["rps"] == pytest.approx(5.0)
    assert s["cost_ratio"] == pytest.approx(10.0) and s["cost_ratio_per_round"] == [pytest.approx(10.0)]
    floor = s["signed_in"]
    assert floor["cost_ratio"] == pytest.approx(2.0) and floor["flow_cost_ratio"] == pytest.approx(5.0)
    # CPU per request (service + PostgreSQL = 1.1 × service): baseline 11 ms, signed-in 22 ms, flow 220 ms
    assert s["cpu_ratio"] == pytest.approx(20.0)
    assert floor["cpu_ratio"] == pytest.approx(2.0) and floor["flow_cpu_ratio"] == pytest.approx(10.0)
    text = report.render({**s, "meta": {**META, "cpu_model": "x", "pg_version": "15", "python": "3", "django": "5",
                                        "worker_class": "gthread", "workers": 2, "threads": 4, "conn_max_age": 600,
                                        "profile": "development", "sim_threads": 16, "rounds": 1, "phase_seconds": 10,
                                        "database": "d"}})
    assert "signed-in floor" in text and "cost ratio 2.00× baseline" in text and "TARGET flow cost ≤ 3× baseline: FAIL (10.00×)" in text


def test_without_the_signed_in_window_there_is_no_floor():
    result, access_log = _run(b"", (0, 0))
    result["windows"] = [w for w in result["windows"] if w["kind"] != "signed_in"]
    result["latency_ms"] = {"1": result["latency_ms"]["1"], "2": result["latency_ms"]["3"]}  # the flow is window 2 now
    s = report.summarise(result, access_log, meta=META)
    assert s["signed_in"] is None and list(s["overall"]) == ["baseline", "flow"]
    assert s["overall"]["flow"]["requests"] == 8 and s["overall"]["flow"]["p99_ms"] == 500.0

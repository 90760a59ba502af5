"""Opt-in CPU profile of the benchmark's service (``bench_flow --profile DIR``).

Each request runs under a per-thread ``cProfile.Profile`` timed by the thread's CPU clock; every 100 requests (and at
exit) a thread writes its accumulated stats to ``DIR/<pid>-<thread>.prof``. Read them
with ``python -m shebao.bench.profiling DIR`` (all files merged, sorted by cumulative
and by own time). Only in the benchmark's settings, only with the environment variable
``SHEBAO_BENCH_PROFILE`` set: the figures of a profiled run are not the benchmark's."""

from __future__ import annotations

import atexit
import cProfile
import json
import os
import pstats
import sys
import threading
import time
from pathlib import Path

from django.db import connection

_local = threading.local()
_profiles: list[tuple[cProfile.Profile, Path]] = []
_lock = threading.Lock()


def _dump_all() -> None:
    with _lock:
        for prof, path in _profiles:
            try:
                prof.dump_stats(path)
            except Exception:  # noqa: BLE001,S110 - best effort at exit
                pass


atexit.register(_dump_all)


class ProfileMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.out = Path(os.environ["SHEBAO_BENCH_PROFILE"])
        self.out.mkdir(parents=True, exist_ok=True)
        self.counts_only = os.environ.get("SHEBAO_BENCH_PROFILE_MODE") == "counts"

    def __call__(self, request):
        if self.counts_only:
            return self._count(request)
        return self._profile(request)

    def _count(self, request):
        """One JSON line per request: path, statements, thread CPU ms, wall ms (no cProfile)."""
        statements = []

        def wrapper(execute, sql, params, many, context):
            statements.append(sql[:60])
            return execute(sql, params, many, context)

        cpu0, wall0 = time.thread_time(), time.perf_counter()
        with connection.execute_wrapper(wrapper):
            response = self.get_response(request)
        line = {"m": request.method, "p": request.path, "a": request.POST.get("action", "") if request.method == "POST" else "",
                "q": len(statements), "cpu": round((time.thread_time() - cpu0) * 1000, 3),
                "wall": round((time.perf_counter() - wall0) * 1000, 3), "sql": statements}
        with _lock, open(self.out / f"counts-{os.getpid()}.jsonl", "a") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        return response

    def _profile(self, request):
        prof = getattr(_local, "prof", None)
        if prof is None:
            prof = _local.prof = cProfile.Profile(time.thread_time)  # CPU of this thread, not wall time
            _local.count = 0
            _local.path = self.out / f"{os.getpid()}-{threading.get_ident()}.prof"
            with _lock:
                _profiles.append((prof, _local.path))
        prof.enable()
        try:
            return self.get_response(request)
        finally:
            prof.disable()
            _local.count += 1
            if _local.count % 100 == 0:
                prof.dump_stats(_local.path)


def main(directory: str, limit: int = 60) -> None:
    files = sorted(str(p) for p in Path(directory).glob("*.prof"))
    stats = pstats.Stats(*files)
    stats.strip_dirs()
    for key in ("cumulative", "tottime"):
        stats.sort_stats(key).print_stats(limit)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 60)

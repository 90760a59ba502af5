"""Concurrent clients for the race tests: ``n`` threads released together by a barrier,
each with its own database connection (closed at its end)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_together(work: Callable[[int], object], n: int, *, expected: type[BaseException] = Exception,
                 timeout: float = 120) -> tuple[list, list[BaseException], list[BaseException]]:
    """Run ``work(i)`` for i in range(n) at once: (results, expected refusals, other errors)."""
    barrier = threading.Barrier(n)
    results, refused, errors = [], [], []

    def client(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(work(i))
        except expected as exc:
            refused.append(exc)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a client did not finish in time"
    return results, refused, errors


def wait_for(condition: Callable[[], object], what: str, *, deadline: float = 30.0):
    """Poll ``condition`` until it returns something truthy (returned), or fail naming ``what``."""
    import time

    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def database_url() -> str:
    """The test database, as a child process's DATABASE_URL."""
    from pathlib import Path

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"

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

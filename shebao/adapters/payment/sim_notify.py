"""Payment notifications from the WeChat Pay simulator (interfaces.md §4.6).

After a payment the simulator POSTs a signed envelope with an encrypted
Transaction to the order's ``notify_url`` from a background thread, and repeats
on the official schedule (15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h)
until it is answered 200 or 204 — tests pass a compressed schedule. Fault modes
(``POST /_control {"notify": …}``): ``duplicate`` sends each notification twice (same
id), ``out_of_order`` holds notifications and releases them newest first once two
are held (or when the mode changes), ``bad_signature`` signs them wrongly,
``wrong_amount`` reports one fen less (one more for a 1-fen order), ``none`` sends nothing.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from shebao.adapters.http import POOL_LIMITS
from shebao.adapters.payment.sim_store import SimStore
from shebao.adapters.payment.sim_wire import SimKeys, encrypted_resource, rfc3339, signed_headers

logger = logging.getLogger("shebao.adapters.payment.simulator")

DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)


class Notifier:
    """Sends notifications; each batch in its own daemon thread, in order within the batch."""

    def __init__(
        self,
        store: SimStore,
        *,
        keys: Callable[[], SimKeys],
        clock: Callable[[], float],
        schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE,
        timeout: float = 5.0,
    ):
        self._store, self._keys, self._clock = store, keys, clock
        self.schedule = tuple(float(s) for s in schedule)
        self.timeout = timeout
        self._http: httpx.Client | None = None  # one pool for every batch: a new client costs a TLS context (~40 ms CPU)
        self._http_lock = threading.Lock()

    def _client(self) -> httpx.Client:
        with self._http_lock:
            if self._http is None:
                self._http = httpx.Client(timeout=self.timeout, follow_redirects=False, limits=POOL_LIMITS)
            return self._http

    def payment_succeeded(self, notify_url: str, transaction: dict[str, Any], *, mode: str) -> None:
        """Queue the TRANSACTION.SUCCESS notification of one payment, as ``mode`` says."""
        if mode == "none":
            return
        if mode == "wrong_amount":
            total = transaction["amount"]["total"]
            wrong = total - 1 if total > 1 else total + 1
            transaction = {**transaction, "amount": {**transaction["amount"], "total": wrong, "payer_total": wrong}}
        if mode == "out_of_order":
            released = self._store.park(notify_url, transaction, release_at=2)
            self._start([(url, self._envelope(txn)) for url, txn in released], corrupt=False)
            return
        body = self._envelope(transaction)
        self._start([(notify_url, body)] * (2 if mode == "duplicate" else 1), corrupt=mode == "bad_signature")

    def flush(self) -> None:
        """Release every held notification, newest first (leaving ``out_of_order`` mode)."""
        self._start([(url, self._envelope(txn)) for url, txn in self._store.take_parked()], corrupt=False)

    def refund_settled(self, notify_url: str, refund: dict[str, Any], *, mode: str) -> None:
        """Queue the ``REFUND.<status>`` notification of a refund that reached its outcome (§4.9)."""
        if mode == "none":
            return
        summary = {"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}[refund["refund_status"]]
        body = self._envelope(refund, event_type=f"REFUND.{refund['refund_status']}", summary=summary, kind="refund")
        self._start([(notify_url, body)] * (2 if mode == "duplicate" else 1), corrupt=mode == "bad_signature")

    def _envelope(self, resource: dict[str, Any], *, event_type: str = "TRANSACTION.SUCCESS", summary: str = "支付成功",
                  kind: str = "transaction") -> bytes:
        """The §4.6 envelope; its ``resource`` is the encrypted Transaction (or Refund)."""
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
        envelope = {
            "id": f"EV-{int(self._clock())}{secrets.randbelow(10**9):09d}",
            "create_time": rfc3339(self._clock()),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": encrypted_resource(self._keys(), plaintext, kind=kind),
        }
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()

    def _start(self, batch: list[tuple[str, bytes]], *, corrupt: bool) -> None:
        if batch:
            threading.Thread(target=self._run, args=(batch, corrupt), name="wxpay-sim-notify", daemon=True).start()

    def _run(self, batch: list[tuple[str, bytes]], corrupt: bool) -> None:
        http = self._client()  # httpx.Client is safe to share between threads
        for url, body in batch:
            self._deliver(http, url, body, corrupt=corrupt)

    def _deliver(self, http: httpx.Client, url: str, body: bytes, *, corrupt: bool) -> bool:
        """POST until acknowledged (200/204), pausing by the schedule; a fresh signature each time."""
        for attempt, pause in enumerate((0.0, *self.schedule), start=1):
            if pause:
                time.sleep(pause)
            headers = dict(signed_headers(self._keys(), body, self._clock(), corrupt=corrupt))
            headers.update({"Content-Type": "application/json", "User-Agent": "Mozilla/4.0"})
            try:
                status: int | str = http.post(url, content=body, headers=headers).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if status in (200, 204):
                return True
            logger.info("wxpay simulator: notification attempt %d to %s answered %s", attempt, url, status)
        logger.warning("wxpay simulator: notification to %s never acknowledged", url)
        return False

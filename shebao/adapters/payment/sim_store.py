"""State of the WeChat Pay simulator: one SQLite file shared by threads (a lock) and
processes (``BEGIN IMMEDIATE``), like the SMS and WeChat simulators.

Tables: ``orders`` (one JSAPI order per out_trade_no, its create request kept as JSON),
``refunds`` (one per out_refund_no, with the outcome it takes at its first query),
``control`` (the fault switches), ``bill_files`` (trade-bill download tokens and the
file they serve) and ``parked`` (notifications held back in ``out_of_order`` mode).
Times are epoch seconds from the simulator's clock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

NOTIFY_MODES = ("normal", "duplicate", "out_of_order", "bad_signature", "wrong_amount", "none")
API_MODES = ("ok", "system_error", "slow", "bad_response_signature", "bad_bill_hash")
REFUND_OUTCOMES = ("SUCCESS", "ABNORMAL", "CLOSED", "PROCESSING")  # what the next refund becomes at its first query
CLOSE_MODES = ("ok", "lost")  # lost: a close answered 204 that did not take (the order stays payable)
DEFAULT_CONTROL: dict[str, Any] = {"notify": "normal", "api": "ok", "delay_seconds": 3.0, "refund": "SUCCESS", "close": "ok"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
  out_trade_no TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, request TEXT NOT NULL,
  prepay_id TEXT NOT NULL UNIQUE, prepay_issued_at REAL NOT NULL,
  state TEXT NOT NULL, state_desc TEXT NOT NULL, transaction_id TEXT UNIQUE, bank_type TEXT,
  success_time REAL, time_expire REAL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bill_files (token TEXT PRIMARY KEY, bill_date TEXT NOT NULL, content BLOB NOT NULL,
  issued_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (out_refund_no TEXT PRIMARY KEY, refund_id TEXT NOT NULL UNIQUE,
  out_trade_no TEXT NOT NULL, fingerprint TEXT NOT NULL, refund_fen INTEGER NOT NULL, total_fen INTEGER NOT NULL,
  status TEXT NOT NULL, outcome TEXT NOT NULL, notify_url TEXT NOT NULL, created_at REAL NOT NULL, success_time REAL);
CREATE TABLE IF NOT EXISTS parked (id INTEGER PRIMARY KEY AUTOINCREMENT, notify_url TEXT NOT NULL,
  transaction_json TEXT NOT NULL);
"""


class SimStore:
    """Short-lived connections (sqlite3 objects are not shared between threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=15, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def tx(self, now: float | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction. With ``now``, unpaid orders past ``time_expire`` are
        closed first (§4.2: the last moment the user can pay), so every reader sees it."""
        with self._lock, closing(sqlite3.connect(self.path, timeout=15, isolation_level=None)) as db:
            db.row_factory = sqlite3.Row
            db.execute("BEGIN IMMEDIATE")
            try:
                if now is not None:
                    db.execute(
                        "UPDATE orders SET state = 'CLOSED', state_desc = '订单已关闭' WHERE state IN ('NOTPAY', 'PAYERROR')"
                        " AND time_expire IS NOT NULL AND time_expire <= ?",
                        (now,),
                    )
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def control(self) -> dict[str, Any]:
        with self.tx() as db:
            row = db.execute("SELECT value FROM control WHERE key = 'switches'").fetchone()
        return {**DEFAULT_CONTROL, **(json.loads(row["value"]) if row else {})}

    def set_control(self, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Merge ``changes`` into the switches; return (before, after)."""
        with self.tx() as db:
            row = db.execute("SELECT value FROM control WHERE key = 'switches'").fetchone()
            before = {**DEFAULT_CONTROL, **(json.loads(row["value"]) if row else {})}
            after = {**before, **changes}
            db.execute("INSERT OR REPLACE INTO control (key, value) VALUES ('switches', ?)", (json.dumps(after),))
        return before, after

    def park(self, notify_url: str, transaction: dict[str, Any], *, release_at: int) -> list[tuple[str, dict[str, Any]]]:
        """Hold a notification; once ``release_at`` are held, take them all, newest first."""
        with self.tx() as db:
            db.execute("INSERT INTO parked (notify_url, transaction_json) VALUES (?, ?)", (notify_url, json.dumps(transaction)))
            if db.execute("SELECT COUNT(*) FROM parked").fetchone()[0] < release_at:
                return []
            return self._take_parked(db)

    def take_parked(self) -> list[tuple[str, dict[str, Any]]]:
        with self.tx() as db:
            return self._take_parked(db)

    @staticmethod
    def _take_parked(db: sqlite3.Connection) -> list[tuple[str, dict[str, Any]]]:
        rows = db.execute("SELECT id, notify_url, transaction_json FROM parked ORDER BY id DESC").fetchall()
        db.execute("DELETE FROM parked")
        return [(row["notify_url"], json.loads(row["transaction_json"])) for row in rows]

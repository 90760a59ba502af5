"""State of the bank simulator: one SQLite file shared by threads (a lock) and processes
(``BEGIN IMMEDIATE``), like the other simulators.

Tables: ``accounts`` (number, bank class code, holder's name, balance in fen, ``normal`` or
``closed``), ``agreements`` (the bank's record of a three-party agreement: entered at the
counter, or made usable by an electronic check), ``deductions`` (one answer per ``TraNo``,
kept so a repeat gets the same one), ``checks`` (every agreement check answered, for
tests), ``control`` (the fault switch).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

MODES = ("ok", "timeout", "slow", "unavailable", "busy")
DEFAULT_CONTROL: dict[str, Any] = {"mode": "ok", "delay_seconds": 3.0}
ACCOUNT_STATES = ("normal", "closed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (account_no TEXT PRIMARY KEY, bank_class TEXT NOT NULL, name TEXT NOT NULL,
  balance_fen INTEGER NOT NULL CHECK (balance_fen >= 0), status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agreements (tax_org_code TEXT NOT NULL, protocol_no TEXT NOT NULL, account_no TEXT NOT NULL,
  account_name TEXT NOT NULL, payer_code TEXT NOT NULL, payer_name TEXT NOT NULL, source TEXT NOT NULL,
  status TEXT NOT NULL, entered_at REAL NOT NULL, PRIMARY KEY (tax_org_code, protocol_no));
CREATE TABLE IF NOT EXISTS deductions (tra_no TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, tax_org_code TEXT NOT NULL,
  account_no TEXT NOT NULL, amount_fen INTEGER NOT NULL, result TEXT NOT NULL, add_word TEXT NOT NULL,
  bank_tra_no TEXT NOT NULL, acct_date TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS checks (id INTEGER PRIMARY KEY AUTOINCREMENT, vc_no TEXT NOT NULL, protocol_no TEXT NOT NULL,
  vc_sign TEXT NOT NULL, vc_result TEXT NOT NULL, add_word TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class BankSimStore:
    """Short-lived connections (sqlite3 objects are not shared between threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=15, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed at the end, rolled back on any error."""
        with self._lock, closing(sqlite3.connect(self.path, timeout=15, isolation_level=None)) as db:
            db.row_factory = sqlite3.Row
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def control(self) -> dict[str, Any]:
        with self.tx() as db:
            row = db.execute("SELECT value FROM control WHERE key = 'switches'").fetchone()
        return {**DEFAULT_CONTROL, **(json.loads(row["value"]) if row else {})}

    def set_control(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self.tx() as db:
            row = db.execute("SELECT value FROM control WHERE key = 'switches'").fetchone()
            after = {**DEFAULT_CONTROL, **(json.loads(row["value"]) if row else {}), **changes}
            db.execute("INSERT OR REPLACE INTO control (key, value) VALUES ('switches', ?)", (json.dumps(after),))
        return after

    def put_account(self, *, account_no: str, bank_class: str, name: str, balance_fen: int, status: str = "normal",
                    replace: bool = True) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.tx() as db:
            db.execute(f"{verb} INTO accounts (account_no, bank_class, name, balance_fen, status) VALUES (?, ?, ?, ?, ?)",
                       (account_no, bank_class, name, balance_fen, status))

    def account(self, account_no: str) -> dict[str, Any] | None:
        with self.tx() as db:
            row = db.execute("SELECT * FROM accounts WHERE account_no = ?", (account_no,)).fetchone()
        return dict(row) if row else None

    def accounts(self) -> list[dict[str, Any]]:
        with self.tx() as db:
            return [dict(row) for row in db.execute("SELECT * FROM accounts ORDER BY name, account_no")]

    def agreements(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.tx() as db:
            return [dict(row) for row in db.execute("SELECT * FROM agreements ORDER BY entered_at DESC LIMIT ?", (limit,))]


def read_store(state_path: Path, table: str) -> list[dict[str, Any]]:
    """Every row of ``table`` (``accounts``, ``agreements``, ``deductions`` or ``checks``), for tests."""
    if table not in ("accounts", "agreements", "deductions", "checks"):
        raise ValueError(table)
    if not Path(state_path).exists():
        return []
    with closing(sqlite3.connect(state_path, timeout=15)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid")]  # noqa: S608 - fixed names

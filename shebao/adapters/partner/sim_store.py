"""State of the partner simulator: each simulated partner's keys, the sessions it holds
for people (its own sign-ins), the back-channel checks it answered, and OIDC codes.
SQLite, so several server processes share it."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shebao.common import crypto, partner_crypto

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (partner TEXT PRIMARY KEY, sig_alg TEXT NOT NULL, private TEXT NOT NULL, public TEXT NOT NULL,
  enc_alg TEXT NOT NULL, enc_key TEXT NOT NULL, client_secret TEXT NOT NULL, jwk TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, partner TEXT NOT NULL, person TEXT NOT NULL, active INTEGER NOT NULL,
  created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS checks (id INTEGER PRIMARY KEY AUTOINCREMENT, partner TEXT NOT NULL, sid TEXT NOT NULL,
  function TEXT NOT NULL, active INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS codes (code TEXT PRIMARY KEY, partner TEXT NOT NULL, sid TEXT NOT NULL, client_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL, challenge TEXT NOT NULL, nonce TEXT NOT NULL, used INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS control (partner TEXT PRIMARY KEY, mode TEXT NOT NULL);
"""


class SimStore:
    def __init__(self, path: Path, partners: dict[str, dict[str, str]]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self.connect() as conn:
            conn.executescript(_SCHEMA)
        for name, spec in partners.items():
            self._ensure_keys(name, spec)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
            conn.row_factory = sqlite3.Row
            try:
                yield conn
            finally:
                conn.close()

    def _ensure_keys(self, partner: str, spec: dict[str, str]) -> None:
        from joserfc.jwk import ECKey

        with self.connect() as conn:
            if conn.execute("SELECT 1 FROM keys WHERE partner = ?", (partner,)).fetchone():
                return
            private, public = partner_crypto.partner_keypair(spec["sig_alg"])
            jwk = ECKey.generate_key("P-256", parameters={"kid": f"{partner}-1", "use": "sig", "alg": "ES256"}).as_dict(private=True)
            conn.execute("INSERT OR IGNORE INTO keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (partner, spec["sig_alg"], private, public, spec["enc_alg"], partner_crypto.new_encryption_key(spec["enc_alg"]),
                          crypto.random_token(24), json.dumps(jwk)))

    def keys(self, partner: str) -> sqlite3.Row:
        with self.connect() as conn:
            return conn.execute("SELECT * FROM keys WHERE partner = ?", (partner,)).fetchone()

    # ---- the partner's own sessions
    def session_open(self, partner: str, person: dict[str, Any]) -> str:
        sid = f"{partner}-{crypto.random_token(12)}"
        with self.connect() as conn:
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, 1, ?)", (sid, partner, json.dumps(person, ensure_ascii=False), time.time()))
        return sid

    def session(self, partner: str, sid: str) -> sqlite3.Row | None:
        with self.connect() as conn:
            return conn.execute("SELECT * FROM sessions WHERE partner = ? AND sid = ?", (partner, sid)).fetchone()

    def revoke(self, partner: str, sid: str | None) -> int:
        with self.connect() as conn:
            if sid is None:
                return conn.execute("UPDATE sessions SET active = 0 WHERE partner = ?", (partner,)).rowcount
            return conn.execute("UPDATE sessions SET active = 0 WHERE partner = ? AND sid = ?", (partner, sid)).rowcount

    def check_record(self, partner: str, sid: str, function: str, active: bool) -> None:
        with self.connect() as conn:
            conn.execute("INSERT INTO checks (partner, sid, function, active, at) VALUES (?, ?, ?, ?, ?)",
                         (partner, sid, function, int(active), time.time()))

    def checks(self, partner: str | None = None) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute("SELECT partner, sid, function, active FROM checks ORDER BY id").fetchall()
        return [{**dict(r), "active": bool(r["active"])} for r in rows if partner in (None, r["partner"])]

    def mode(self, partner: str) -> str:
        with self.connect() as conn:
            row = conn.execute("SELECT mode FROM control WHERE partner = ?", (partner,)).fetchone()
        return row["mode"] if row else "ok"

    def set_mode(self, partner: str, mode: str) -> None:
        with self.connect() as conn:
            conn.execute("INSERT OR REPLACE INTO control VALUES (?, ?)", (partner, mode))

    # ---- OIDC authorisation codes
    def code_issue(self, *, partner: str, sid: str, client_id: str, redirect_uri: str, challenge: str, nonce: str) -> str:
        code = crypto.random_token(24)
        with self.connect() as conn:
            conn.execute("INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                         (code, partner, sid, client_id, redirect_uri, challenge, nonce, time.time()))
        return code

    def code_redeem(self, partner: str, code: str) -> sqlite3.Row | None:
        """The code's row, once: a second redemption (or one after 60 s) gets None."""
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM codes WHERE partner = ? AND code = ?", (partner, code)).fetchone()
            if row is None or row["used"] or time.time() - row["at"] > 60:
                return None
            conn.execute("UPDATE codes SET used = 1 WHERE code = ?", (code,))
            return row


def read_checks(state_path: Path, partner: str | None = None) -> list[dict[str, Any]]:
    """The back-channel checks the simulator answered, oldest first (tests)."""
    return SimStore(state_path, {}).checks(partner)

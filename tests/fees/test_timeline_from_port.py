"""The receipt timeline shows the treasury times the core states on the port
(``TaxReceiptInfo.*_expected_at``): the fee domain computes none itself and imports
no core adapter (a real core's treasury runs on its own times)."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import shebao.fees
from shebao.adapters.core.port import TaxReceiptInfo
from shebao.fees.selectors import timeline

PAID = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


def _info(**kw) -> TaxReceiptInfo:
    base = dict(receipt_no="33", verify_code="V", registration_no="R", channel="wechatpay", bank_serial_no="420",
                amount=Decimal("874.20"), paid_at=PAID, state="paid", state_label="已缴费", remitted_at=None,
                in_treasury_at=None, declarations=())
    return TaxReceiptInfo(**(base | kw))


def test_expected_times_are_the_cores():
    # times no embedded rule would give (a real core's own): shown as stated
    remit, treasury = PAID + dt.timedelta(days=3, minutes=7), PAID + dt.timedelta(days=9)
    steps = timeline(_info(remit_expected_at=remit, in_treasury_expected_at=treasury))
    assert [(s.label, s.done_at, s.expected_at) for s in steps] == [
        ("已缴费", PAID, None), ("已上解未入库", None, remit), ("已入库", None, treasury)]


def test_reached_states_show_their_times_and_no_expectation():
    remitted = PAID + dt.timedelta(hours=5)
    treasury = PAID + dt.timedelta(days=2)
    steps = timeline(_info(state="remitted", remitted_at=remitted, in_treasury_expected_at=treasury))
    assert [(s.done_at, s.expected_at) for s in steps] == [(PAID, None), (remitted, None), (None, treasury)]
    done = timeline(_info(state="in_treasury", remitted_at=remitted, in_treasury_at=treasury))
    assert [(s.done_at, s.expected_at) for s in done] == [(PAID, None), (remitted, None), (treasury, None)]


def test_the_fee_domain_imports_no_core_adapter():
    """Only the port and ``get_core`` (shebao.adapters.core itself) may be imported (every
    domain: tests/contract/test_domain_boundary.py)."""
    allowed = {"shebao.adapters.core", "shebao.adapters.core.port"}
    offenders = []
    for path in Path(shebao.fees.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("shebao.adapters.core") and n not in allowed]
    assert offenders == []

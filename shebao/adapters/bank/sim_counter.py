"""The bank simulator's counter page (柜面录入): a bank clerk enters a paper three-party
agreement the payer brought to the counter, so that the payer can then complete its
verification online (a 9114 with ``VCSign`` 1 passes only with this record).

Plain HTML forms, no JavaScript; one ``<style>`` block allowed by its hash under a strict
Content-Security-Policy, as the payment simulator's cashier.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

Response = tuple[str, list[tuple[str, str]], bytes]
TITLE = "银行柜面录入（模拟）"
FIELDS = (
    ("tax_org_code", "征收机关代码"),
    ("protocol_no", "协议书号"),
    ("payer_code", "缴费人编码"),
    ("payer_name", "缴费人名称"),
    ("bank_code", "付款行行号（12位）"),
    ("account_no", "付款账号"),
    ("account_name", "账户名称"),
)
_CSS = (
    "body{margin:0;font:16px/1.5 -apple-system,'PingFang SC','Microsoft YaHei',sans-serif;background:#f2f4f7;color:#191919}"
    "header{background:#c7000b;color:#fff;padding:12px 16px;font-size:18px}main{padding:16px;max-width:640px}"
    ".card{background:#fff;border-radius:8px;padding:16px;margin:12px 0}label{display:block;margin:10px 0 4px}"
    "input{width:100%;box-sizing:border-box;font-size:16px;padding:8px;border:1px solid #999;border-radius:4px}"
    "button{margin-top:16px;width:100%;padding:12px;border:0;border-radius:8px;font-size:17px;background:#c7000b;color:#fff}"
    ".error{color:#a50000;font-weight:600}.ok{color:#06603a;font-weight:600}table{border-collapse:collapse;width:100%;font-size:14px}"
    "td,th{border-bottom:1px solid #ddd;padding:4px;text-align:left}.note{color:#555;font-size:13px}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()


def counter_page(sim: Any, form: dict[str, str] | None, *, action: str) -> Response:
    """GET (``form`` None): the empty form. POST: record the agreement through
    ``sim.enter_agreement``; the form again with the outcome (400 when refused)."""
    status, notice, values = "200 OK", "", {name: "" for name, _ in FIELDS}
    if form is not None:
        values = {name: form.get(name, "").strip() for name, _ in FIELDS}
        problem = sim.enter_agreement(**values)
        if problem:
            status, notice = "400 Bad Request", f'<p class="error" role="alert">未录入：{html.escape(problem)}</p>'
        else:
            notice = (f'<p class="ok" role="status">已录入协议 {html.escape(values["protocol_no"])}。'
                      "请缴费人回到“社保费掌上办”完成协议验证。</p>")
            values = {name: "" for name, _ in FIELDS}
    inputs = "".join(
        f'<label for="{name}">{label}</label><input id="{name}" name="{name}" value="{html.escape(values[name])}" required>'
        for name, label in FIELDS
    )
    rows = "".join(
        f"<tr><td>{html.escape(a['protocol_no'])}</td><td>{html.escape(a['account_name'])}</td>"
        f"<td>…{html.escape(a['account_no'][-4:])}</td><td>{'柜面' if a['source'] == 'counter' else '电子'}</td></tr>"
        for a in sim.store.agreements()
    )
    body = (
        f'<div class="card"><h1>纸质三方协议录入</h1>{notice}'
        f'<form method="post" action="{html.escape(action)}">{inputs}<button type="submit">录入协议</button></form></div>'
        '<div class="card"><h2>最近录入的协议</h2><table><thead><tr><th>协议书号</th><th>户名</th><th>账号</th><th>方式</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></div>"
        '<p class="note">这是本地模拟的银行柜面，仅用于开发和测试。</p>'
    )
    return _page(body, status=status)


def _page(body: str, *, status: str) -> Response:
    document = (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{TITLE}</title><style>{_CSS}</style></head>"
        f"<body><header>{TITLE}</header><main>{body}</main></body></html>"
    )
    csp = f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Security-Policy", csp), ("Cache-Control", "no-store"),
               ("Referrer-Policy", "no-referrer"), ("X-Content-Type-Options", "nosniff")]
    return status, headers, document.encode("utf-8")

"""Pages of the WeChat Pay simulator's cashier (收银台), standing in for the
WeixinJSBridge payment sheet outside WeChat (interfaces.md §4.10).

Plain HTML forms, no JavaScript at all; the only style is one ``<style>`` block
allowed by its hash, under a strict Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
import html

Response = tuple[str, list[tuple[str, str]], bytes]
TITLE = "微信支付（模拟）"

_CSS = (
    "body{margin:0;font:16px/1.5 -apple-system,'PingFang SC','Microsoft YaHei',sans-serif;background:#ededed;color:#191919}"
    "header{background:#07c160;color:#fff;padding:12px 16px;font-size:17px}main{padding:16px}"
    ".card{background:#fff;border-radius:8px;padding:16px;margin:12px 0;text-align:center}"
    ".merchant{color:#555}.amount{font-size:40px;font-weight:600;margin:8px 0}.desc{color:#555}"
    ".note{color:#888;font-size:13px}"
    "button{display:block;width:100%;margin:10px 0;padding:12px;border:0;border-radius:8px;font-size:17px}"
    "button.pay{background:#07c160;color:#fff}button.fail{background:#f2f2f2;color:#fa5151}"
    "button.cancel{background:#f2f2f2;color:#191919}a.back{display:block;text-align:center;margin:16px 0;color:#576b95}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
ACTIONS = {"pay": "确认支付", "fail": "支付失败", "cancel": "取消"}


def yuan_text(amount_fen: int) -> str:
    """Fen as yuan for display, without floats: 12345 → "123.45"."""
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def cashier_page(
    *, action: str, merchant_name: str, description: str, amount_fen: int, prepay_id: str, return_url: str, return_origin: str
) -> Response:
    """The payment sheet: merchant, description, amount in yuan and the three buttons."""
    hidden = (
        f'<input type="hidden" name="prepay_id" value="{html.escape(prepay_id)}">'
        f'<input type="hidden" name="return_url" value="{html.escape(return_url)}">'
    )
    buttons = "".join(f'<button type="submit" name="action" value="{key}" class="{key}">{label}</button>' for key, label in ACTIONS.items())
    body = (
        f'<div class="card"><div class="merchant">{html.escape(merchant_name)}</div>'
        f'<div class="amount">¥{yuan_text(amount_fen)}</div><div class="desc">{html.escape(description)}</div></div>'
        f'<form method="post" action="{html.escape(action)}">{hidden}{buttons}</form>'
        '<p class="note">这是本地模拟的微信支付收银台，仅用于开发和测试，不会真实扣款。</p>'
    )
    return page(body, form_action=f"'self' {return_origin}" if return_origin else "'self'")


def message_page(message: str, *, status: str = "200 OK", back_url: str = "") -> Response:
    """A result or error page; ``back_url`` (already validated) becomes a plain link."""
    link = f'<a class="back" href="{html.escape(back_url)}">返回商户</a>' if back_url else ""
    return page(f'<div class="card"><p>{html.escape(message)}</p></div>{link}', status=status)


def page(body: str, *, status: str = "200 OK", form_action: str = "'none'") -> Response:
    document = (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{TITLE}</title><style>{_CSS}</style></head>"
        f"<body><header>{TITLE}</header><main>{body}</main></body></html>"
    )
    csp = f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action {form_action}; base-uri 'none'; frame-ancestors 'none'"
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", csp),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return status, headers, document.encode("utf-8")

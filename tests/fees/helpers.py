"""Drive declaring and paying through the pages and the simulators over HTTP."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import httpx

from tests.accounts.helpers import login

FEE_NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 2026-11-20 10:00 Asia/Shanghai


def logged_in(client, sims, clock, identifier: str, password: str):
    clock.now = max(clock.now, FEE_NOW)  # never backwards: the simulators order messages by time
    response = login(client, sims, identifier, password)
    assert response.status_code == 302, response.content.decode()[:300]
    clock.advance(seconds=61)  # the next SMS (step-up) is allowed
    return client


def declare(client, sims, *, types: list[str], year: int, period_from: str = "", period_to: str = "", base: str = "",
            grade: str = "", idem: str = "idem-declare-1", confirm: bool = True):
    data = {"insurance_types": types, "contribution_year": str(year), "period_from": period_from, "period_to": period_to,
            "base": base, "grade": grade, "idem": idem}
    quote = client.post("/fees/declare", {**data, "action": "quote"})
    if not confirm:
        return quote
    client.post("/fees/declare", {**data, "action": "send_code"})
    mobile = sims.messages()[0]["phone"]
    return client.post("/fees/declare", {**data, "action": "confirm", "sms_code": sims.last_code(mobile)})


def order_id_from(response) -> str:
    assert response.status_code == 302, response.content.decode()[:500]
    match = re.fullmatch(r"/fees/orders/([A-Za-z0-9_-]+)", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def identify_wechat(client, order_id: str) -> None:
    """First payment from this session: 去支付 goes to WeChat's authorise page
    (snsapi_base, the simulator), which comes back to the bill; the bill's page then
    starts the payment by itself (see ``pay_after_identify``)."""
    start = client.post(f"/fees/orders/{order_id}", {"action": "pay"})
    assert start.status_code == 302 and "/sim/wechat/" in start["Location"], start.get("Location")
    url = start["Location"].split("#")[0]
    query = dict(p.split("=", 1) for p in urlsplit(url).query.split("&"))
    from urllib.parse import unquote

    choose = httpx.post(url.split("?")[0] + "/choose", data={"persona": "jia", **{k: unquote(v) for k, v in query.items()}}, timeout=5)
    callback = urlsplit(choose.headers["location"])
    back = client.get(f"{callback.path}?{callback.query}")
    assert back.status_code == 302 and back["Location"] == f"/fees/orders/{order_id}"


def pay_after_identify(client, order_id: str) -> str:
    """The one tap: after ``identify_wechat`` the browser lands on the bill, which goes
    straight on to the cashier; returns the simulator cashier URL."""
    response = client.get(f"/fees/orders/{order_id}")
    assert response.status_code == 302 and "/sim/wxpay/cashier" in response["Location"], response.get("Location")
    return response["Location"]


def start_payment(client, order_id: str) -> str:
    """Press 去支付; returns the simulator cashier URL."""
    response = client.post(f"/fees/orders/{order_id}", {"action": "pay"})
    assert response.status_code == 302 and "/sim/wxpay/cashier" in response["Location"], response.get("Location")
    return response["Location"]


def cashier(cashier_url: str, button: str) -> str:
    """Press a button on the simulator's cashier page; returns where it sends the browser."""
    page = httpx.get(cashier_url, timeout=5)
    assert page.status_code == 200 and "微信支付（模拟）" in page.text
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
    target = action if action.startswith("http") else f"{urlsplit(cashier_url).scheme}://{urlsplit(cashier_url).netloc}{action}"
    response = httpx.post(target, data={**fields, "action": button}, timeout=5)
    assert response.status_code in (302, 303), response.text[:300]
    return response.headers["location"]


def step_up(client, sims, *, next_url: str = "/fees/") -> None:
    """办理业务确认: confirm by SMS on the step-up page (money services ask for it)."""
    sent = client.post(f"/accounts/step-up?next={next_url}", {"action": "send_code"})
    assert sent.status_code == 200, sent.content.decode()[:300]
    mobile = sims.messages()[0]["phone"]
    done = client.post(f"/accounts/step-up?next={next_url}", {"sms_code": sims.last_code(mobile)})
    assert done.status_code == 302 and done["Location"] == next_url, done.content.decode()[:300]


def pay_twice(client, sims, clock, identifier: str, password: str, *, idem: str = "idem-twice") -> str:
    """A bill paid twice at the cashier, over HTTP: the first attempt's cashier is left open, 重新支付
    starts a second one whose close of the first does not take at the channel (the simulator's
    ``close=lost``: the payer's confirmation was already on its way), both are paid. Returns the
    bill's public id; its second payment is then DUPLICATE (the notifications may still be on
    their way: wait for them)."""
    logged_in(client, sims, clock, identifier, password)
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-02", period_to="2026-02",
                                     base="4371.00", idem=idem))
    identify_wechat(client, order_id)
    first = start_payment(client, order_id)
    sims.control("wxpay", close="lost")
    second = start_payment(client, order_id)
    cashier(second, "pay")
    cashier(first, "pay")
    sims.control("wxpay", close="ok")
    return order_id

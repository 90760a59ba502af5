"""Fixtures: the WeChat Pay simulator served over real HTTP on 127.0.0.1 (mounted under
/sim/wxpay as in development), a second loopback server standing in for our notify_url,
the production client pointed at both, and a "browser" that follows the cashier forms."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.payment.keys import generate_dev_keys
from shebao.adapters.payment.port import Bill
from shebao.adapters.payment.simulator import make_wechatpay_simulator
from shebao.adapters.payment.wechatpay import WechatPayV3Channel
from tests.clocks import MovingClock as FakeClock

MCHID = "1900000109"
APPID = "wx_sim_12366"
MOUNT = "/sim/wxpay"
OPENID = "oTEST_payer_openid_000000001"
# 2026-11-27 10:00 in Asia/Shanghai
START = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
FAST_RETRIES = (0.05, 0.05, 0.1)


class _Swappable:
    """One server per session, a fresh app per test (stopping a server costs ~0.5 s)."""

    app: Callable | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        assert self.app is not None, "nothing mounted for this test"
        return self.app(environ, start_response)


def _mounted(app: Callable, prefix: str) -> Callable:
    """Serve ``app`` under ``prefix`` as shebao.adapters.simulators does (SCRIPT_NAME/PATH_INFO)."""

    def mounted(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(prefix + "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not mounted"]
        return app({**environ, "SCRIPT_NAME": prefix, "PATH_INFO": path[len(prefix):]}, start_response)

    return mounted


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Our notify_url: records every POST; answers from ``statuses`` in turn, then 204."""

    url: str
    statuses: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _token: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def notify_url(self) -> str:
        """Unique per test, so a late notification of an earlier test is never counted here."""
        return f"{self.url}/pay/notify/wechatpay-{self._token}"

    def app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if environ.get("PATH_INFO") != httpx.URL(self.notify_url).path:
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        with self._cond:
            self.deliveries.append(Delivery(headers, body))
            status = self.statuses.pop(0) if self.statuses else 204
            self._cond.notify_all()
        start_response(f"{status} X", [("Content-Length", "0")])
        return [b""]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.deliveries) >= count, timeout), f"{len(self.deliveries)} of {count} arrived"
            return list(self.deliveries)

    def quiet_for(self, seconds: float) -> list[Delivery]:
        """What arrived after waiting ``seconds`` (negative tests: prove nothing came)."""
        time.sleep(seconds)
        with self._cond:
            return list(self.deliveries)


@dataclass
class SimHandle:
    url: str
    state_path: Path

    def control(self, **switches: Any) -> dict[str, Any]:
        response = httpx.post(self.url + "/_control", json=switches, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields, self.buttons, self.scripts, self.title = "", {}, {}, 0, ""
        self._in_title = False
        self._button: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a["action"]
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self._button = a.get("value")
        elif tag == "script":
            self.scripts += 1
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self.buttons[data] = self._button
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._button = None if tag == "button" else self._button
        self._in_title = False


@dataclass
class Browser:
    """Follows the cashier like a phone would: GET the page, press a button (POST the form)."""

    http: httpx.Client
    page: _FormReader | None = None

    def open(self, url: str) -> httpx.Response:
        response = self.http.get(url)
        self.page = _FormReader()
        self.page.feed(response.text)
        return response

    def press(self, cashier_url: str, label: str) -> httpx.Response:
        opened = self.open(cashier_url)
        assert opened.status_code == 200, opened.text
        assert self.page is not None and label in self.page.buttons, self.page and self.page.buttons
        target = httpx.URL(cashier_url).join(self.page.action)
        return self.http.post(target, data={**self.page.fields, "action": self.page.buttons[label]})


@pytest.fixture(scope="session")
def dev_keys() -> dict[str, str]:
    return generate_dev_keys()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def _servers() -> Iterator[tuple[LoopbackServer, _Swappable, LoopbackServer, _Swappable]]:
    sim_target, receiver_target = _Swappable(), _Swappable()
    sim_server, receiver_server = LoopbackServer(sim_target).start(), LoopbackServer(receiver_target).start()
    yield sim_server, sim_target, receiver_server, receiver_target
    sim_server.stop()
    receiver_server.stop()


@pytest.fixture
def receiver(_servers) -> Iterator[Receiver]:
    _, _, server, target = _servers
    handle = Receiver(url=server.url)
    target.app = handle.app
    yield handle
    target.app = None


@pytest.fixture
def wxpay_sim(_servers, tmp_path: Path, clock: FakeClock, dev_keys: dict[str, str]) -> Iterator[SimHandle]:
    server, target, _, _ = _servers
    state_path = tmp_path / "wxpay.sqlite3"
    app = make_wechatpay_simulator(
        state_path,
        mchid=MCHID,
        appid=APPID,
        merchant_public_key_pem=dev_keys["WECHATPAY_MERCHANT_PUBLIC_KEY"],
        merchant_serial_no=dev_keys["WECHATPAY_MERCHANT_SERIAL_NO"],
        platform_private_key_pem=dev_keys["WECHATPAY_PLATFORM_PRIVATE_KEY"],
        platform_public_key_id=dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"],
        apiv3_key=dev_keys["WECHATPAY_APIV3_KEY"],
        clock=clock,
        notify_retry_schedule=FAST_RETRIES,
        notify_timeout=2.0,
    )
    target.app = _mounted(app, MOUNT)
    earlier = set(threading.enumerate())  # other tests' notifier threads are not ours to wait for
    yield SimHandle(url=server.url + MOUNT, state_path=state_path)
    for thread in threading.enumerate():  # let this test's notifications finish before the next test
        if thread.name == "wxpay-sim-notify" and thread not in earlier:
            thread.join(timeout=3)
    target.app = None


@pytest.fixture
def make_channel(wxpay_sim: SimHandle, receiver: Receiver, clock: FakeClock, dev_keys: dict[str, str]):
    built: list[WechatPayV3Channel] = []

    def make(**overrides: Any) -> WechatPayV3Channel:
        kwargs: dict[str, Any] = {
            "mchid": MCHID,
            "appid": APPID,
            "merchant_serial_no": dev_keys["WECHATPAY_MERCHANT_SERIAL_NO"],
            "merchant_private_key_pem": dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"],
            "apiv3_key": dev_keys["WECHATPAY_APIV3_KEY"],
            "platform_public_key_pem": dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY"],
            "platform_public_key_id": dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"],
            "base_url": wxpay_sim.url,
            "notify_url": receiver.notify_url,
            "cashier_url": wxpay_sim.url + "/cashier",
            "timeout": 3.0,
            "clock": clock,
            **overrides,
        }
        channel = WechatPayV3Channel(**kwargs)
        built.append(channel)
        return channel

    yield make
    for channel in built:
        channel.close_session()


@pytest.fixture
def channel(make_channel) -> WechatPayV3Channel:
    return make_channel()


@pytest.fixture
def make_bill(receiver: Receiver, clock: FakeClock) -> Callable[..., Bill]:
    def make(**overrides: Any) -> Bill:
        values: dict[str, Any] = {
            "out_trade_no": "SB202611270000000001",
            "description": "城乡居民基本医疗保险费 2027年度",
            "amount_fen": 38000,
            "payer_openid": OPENID,
            "client_ip": "203.0.113.7",
            "expire_at": clock.now + dt.timedelta(minutes=30),
            "attach": "",
            "return_url": receiver.url + "/pay/result",
            **overrides,
        }
        return Bill(**values)

    return make


@pytest.fixture
def browser() -> Iterator[Browser]:
    with httpx.Client(follow_redirects=False, timeout=5.0) as http:
        yield Browser(http)


@pytest.fixture
def pay(channel: WechatPayV3Channel, browser: Browser) -> Callable[[Bill], Any]:
    """Create the order and press 确认支付 at the cashier; returns the launch parameters."""

    def do(bill: Bill) -> Any:
        launch = channel.create(bill)
        answer = browser.press(launch.cashier_url, "确认支付")
        assert answer.status_code == 303, answer.text
        return launch

    return do


@pytest.fixture
def platform_sign(dev_keys: dict[str, str], clock: FakeClock) -> Callable[..., dict[str, str]]:
    """Wechatpay-* headers for ``body`` signed by hand with the platform private key (as WeChat Pay would)."""

    def sign(body: bytes, *, timestamp: int | None = None, serial: str | None = None) -> dict[str, str]:
        stamp, nonce = str(timestamp if timestamp is not None else int(clock.now.timestamp())), "a" * 32
        key = serialization.load_pem_private_key(dev_keys["WECHATPAY_PLATFORM_PRIVATE_KEY"].encode(), password=None)
        signature = key.sign(f"{stamp}\n{nonce}\n".encode() + body + b"\n", padding.PKCS1v15(), hashes.SHA256())
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": base64.b64encode(signature).decode(),
            "Wechatpay-Serial": serial or dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"],
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    return sign


@pytest.fixture
def seal(dev_keys: dict[str, str]) -> Callable[..., bytes]:
    """A notification envelope whose resource is ``transaction`` encrypted with the APIv3 key."""

    def envelope(transaction: Any, *, event_type: str = "TRANSACTION.SUCCESS", nonce: str = "0123456789ab") -> bytes:
        plaintext = transaction if isinstance(transaction, bytes) else json.dumps(transaction).encode()
        sealed = AESGCM(dev_keys["WECHATPAY_APIV3_KEY"].encode()).encrypt(nonce.encode(), plaintext, b"transaction")
        resource = {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM", "associated_data": "transaction",
                    "nonce": nonce, "ciphertext": base64.b64encode(sealed).decode()}
        return json.dumps({"id": "EV-1", "create_time": "2026-11-27T10:00:00+08:00", "resource_type": "encrypt-resource",
                           "event_type": event_type, "summary": "支付成功", "resource": resource}).encode()

    return envelope

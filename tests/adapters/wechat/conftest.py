"""Run the WeChat simulator as a real HTTP server on loopback and point the
production client at it, as DESIGN.md asks: the client is tested over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.wechat.client import WechatOAuthClient
from shebao.adapters.wechat.simulator import make_wechat_simulator

APPID = "wx_test_appid_0001"
SECRET = "test-secret-3f9a1c"  # a made-up value, only known to the loopback simulator
START = 1_750_000_000.0


class FakeClock:
    """Epoch seconds the simulator reads; tests move it forward."""

    def __init__(self, start: float = START):
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@dataclass
class _Form:
    action: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    personas: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    """Reads the one form of the authorisation page like a browser would."""

    def __init__(self) -> None:
        super().__init__()
        self.form = _Form()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.form.action = a["action"]
        elif tag == "input" and a.get("type") == "hidden":
            self.form.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name") == "persona":
            self.form.personas.append(a["value"])
        elif tag == "script":
            self.scripts += 1


@dataclass
class Browser:
    """An httpx client that follows the authorisation flow by hand (GET page, POST choice)."""

    http: httpx.Client
    last_page: httpx.Response | None = None

    def open(self, url: str) -> httpx.Response:
        self.last_page = self.http.get(url.split("#", 1)[0])  # a browser never sends the fragment
        return self.last_page

    def choose(self, url: str, persona: str) -> httpx.URL:
        """Open the authorize URL, press the persona's button, return the 302 Location."""
        page = self.open(url)
        assert page.status_code == 200
        parser = _FormParser()
        parser.feed(page.text)
        assert persona in parser.form.personas
        answer = self.http.post(httpx.URL(url).join(parser.form.action), data={**parser.form.fields, "persona": persona})
        assert answer.status_code == 302
        return httpx.URL(answer.headers["location"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class _SwappableApp:
    """One loopback server for the session, a fresh simulator (and state file) per test:
    stopping a server costs half a second (``serve_forever`` polls), isolation costs nothing."""

    app: Callable | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        assert self.app is not None, "no simulator mounted for this test"
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _loopback() -> Iterator[tuple[LoopbackServer, _SwappableApp]]:
    holder = _SwappableApp()
    server = LoopbackServer(holder).start()
    yield server, holder
    server.stop()


@pytest.fixture
def sim_server(_loopback: tuple[LoopbackServer, _SwappableApp], tmp_path: Path, clock: FakeClock) -> Iterator[LoopbackServer]:
    server, holder = _loopback
    holder.app = make_wechat_simulator(tmp_path / "wechat.sqlite3", appid=APPID, secret=SECRET, now=clock)
    yield server
    holder.app = None


@pytest.fixture
def client_factory(sim_server: LoopbackServer):
    """Build the production client against the simulator's URL (other credentials on request)."""

    def build(*, appid: str = APPID, secret: str = SECRET, base: str | None = None) -> WechatOAuthClient:
        base = base or sim_server.url
        return WechatOAuthClient(appid, secret, f"{base}/open", f"{base}/api", 2.0)

    return build


@pytest.fixture
def client(client_factory) -> WechatOAuthClient:
    return client_factory()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with httpx.Client(follow_redirects=False, timeout=5.0) as http:
        yield Browser(http)


@pytest.fixture
def control(sim_server: LoopbackServer):
    """Switch the simulator's fault mode (POST /_control)."""

    def set_mode(mode: str) -> None:
        response = httpx.post(f"{sim_server.url}/_control", json={"mode": mode}, timeout=5.0)
        assert response.json() == {"mode": mode}

    return set_mode


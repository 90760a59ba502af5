"""Mount the loopback simulators under /sim/ in front of Django (development only)."""

from __future__ import annotations

from pathlib import Path


class SimulatorDispatcher:
    """Route ``/sim/<system>/...`` to that system's simulator WSGI app."""

    def __init__(self, django_app, *, state_dir: Path, clock=None, sms_flow_control: bool = True):
        """``clock`` (aware UTC datetime callable) lets tests move the simulators' time;
        ``sms_flow_control=False`` turns the SMS simulator's per-number limits off (bench only)."""
        from shebao.adapters.bank.simulator import make_bank_simulator
        from shebao.adapters.identity.simulator import make_identity_simulator
        from shebao.adapters.partner.simulator import make_partner_simulator
        from shebao.adapters.payment.simulator import make_wechatpay_simulator
        from shebao.adapters.sms.simulator import make_sms_simulator
        from shebao.adapters.wechat.simulator import make_wechat_simulator

        self.django_app = django_app
        state_dir.mkdir(parents=True, exist_ok=True)
        self.mounts = {
            "/sim/sms": make_sms_simulator(state_dir / "sms.sqlite3", clock=clock, flow_control=sms_flow_control),
            "/sim/wechat": make_wechat_simulator(
                state_dir / "wechat.sqlite3", **({"now": lambda: clock().timestamp()} if clock else {})
            ),
            "/sim/wxpay": make_wechatpay_simulator(state_dir / "wxpay.sqlite3", clock=clock),
            "/sim/identity": make_identity_simulator(state_dir / "identity.sqlite3", clock=clock),
            "/sim/bank": make_bank_simulator(state_dir / "bank.sqlite3", clock=clock),
            "/sim/partner": make_partner_simulator(state_dir / "partner.sqlite3"),
        }

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for prefix, app in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                environ = dict(environ)
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix):] or "/"
                return app(environ, start_response)
        return self.django_app(environ, start_response)

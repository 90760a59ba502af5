"""The outside systems' simulators as a process of their own (``manage.py bench_flow``):
SMS (Aliyun), WeChat web authorisation and WeChat Pay, under ``/sim/...`` exactly as in
development, in front of an app that answers 404 to everything else — so the service
reaches them over loopback like real external systems and never calls itself.

Serve with ``gunicorn shebao.bench.sim_wsgi:application`` (gthread, one worker: the
simulators keep their state in SQLite files under ``SIM_STATE_DIR`` and send payment
notifications from background threads). Keys come from ``config.settings`` — run with
the same ``SHEBAO_VAR_DIR`` as the service so both read the same dev-secrets.json. The
SMS simulator's per-number flow control is off here: a simulated payer receives its login
and step-up codes within a second."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from shebao.adapters.simulators import SimulatorDispatcher  # noqa: E402


def not_found(environ, start_response):
    body = b"not found (simulators only: /sim/sms, /sim/wechat, /sim/wxpay)"
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


application = SimulatorDispatcher(not_found, state_dir=settings.SIM_STATE_DIR, sms_flow_control=False)

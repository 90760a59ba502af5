"""Settings of the service process that ``manage.py bench_flow`` starts: exactly
``config.settings`` (same profile, middleware, database options, read from the same
environment variables) plus one URL, the baseline endpoint ``/bench/one-query``.

Selected only by ``DJANGO_SETTINGS_MODULE=shebao.bench.settings`` in that process's
environment, so the endpoint never exists in a deployment that uses ``config.settings``."""

import os

from config.settings import *  # noqa: F403
from config.settings import PRODUCTION

if PRODUCTION:  # pragma: no cover - a guard, not a feature
    raise RuntimeError("shebao.bench.settings is for the load benchmark only, never with SHEBAO_ENV=production")

ROOT_URLCONF = "shebao.bench.urls"

if os.environ.get("SHEBAO_BENCH_PROFILE"):  # bench_flow --profile DIR
    MIDDLEWARE = ["shebao.bench.profiling.ProfileMiddleware", *MIDDLEWARE]  # noqa: F405

# The benchmark's payers all come from 127.0.0.1 and log in and step up many times an hour:
# the service's SMS send limits (README "短信验证码的发送限制") are off here, as the
# simulator's own flow control is (shebao/bench/sim_wsgi.py).
SMS_SEND_RATE_PER_IP = SMS_SEND_RATE_PER_SESSION = SMS_SEND_RATE_OVERALL = ""
OTP_MAX_PER_HOUR = OTP_MAX_PER_DAY = 10**6

"""WSGI entry point. With SIMULATORS_ENABLED the loopback simulators of the
external systems are mounted under /sim/ in the same server; our own clients
still reach them by URL (settings SMS.ENDPOINT, WECHAT.*_BASE)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

django_app = get_wsgi_application()


def _build():
    if not settings.SIMULATORS_ENABLED:
        return django_app
    from shebao.adapters.simulators import SimulatorDispatcher

    return SimulatorDispatcher(django_app, state_dir=settings.SIM_STATE_DIR)


application = _build()

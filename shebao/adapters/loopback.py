"""Run a WSGI simulator as a real HTTP server on 127.0.0.1 (tests, benchmarks)."""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def get_environ(self):
        """Also the request-target exactly as sent (``RAW_URI``, as gunicorn gives it):
        wsgiref hands PATH_INFO over percent-decoded, and signatures cover the raw path."""
        environ = super().get_environ()
        environ["RAW_URI"] = self.path
        return environ

    def log_message(self, format, *args):  # noqa: A002 - signature from the stdlib
        pass


class LoopbackServer:
    def __init__(self, app, port: int = 0):
        self._server = make_server("127.0.0.1", port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="loopback-sim", daemon=True)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

"""Serve sample sites over loopback HTTP with the standard library's threaded server."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .behaviours import Behaviour
    from .sites import SampleSite

logger = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def make_handler(
    site: SampleSite, verbose: bool = False, behaviour: Behaviour | None = None
) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class that answers from ``site.respond``.

    With a ``behaviour`` (behaviours.py), answers go through it: validators, 304s, faults.
    """

    class Handler(BaseHTTPRequestHandler):
        server_version = "nginx"
        sys_version = ""
        protocol_version = "HTTP/1.1"

        def _answer(self, send_body: bool) -> None:
            if behaviour is not None:
                status, headers, body = behaviour.respond(site, self.path, self.headers)
            else:
                status, headers, body = site.respond(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            self._answer(True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(False)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            if verbose:
                logger.info("%s %s", site.id, format % args)

    return Handler


class SiteServer:
    """One site's server running in a daemon thread."""

    def __init__(
        self,
        site: SampleSite,
        host: str,
        port: int,
        verbose: bool = False,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.site = site
        self.behaviour = behaviour
        self.httpd = _Server((host, port), make_handler(site, verbose, behaviour))
        self.host, self.port = self.httpd.server_address[:2]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sample-site-{site.id}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

"""Response headers that keep article text inert in a browser, on every page we serve.

Article bodies are third-party text. The plugin already escapes them (``render_cell``) and only
links titles to ``http``/``https`` URLs; a Content-Security-Policy is the second line: no script,
frame, object or form target from anywhere but this server, and no ``javascript:`` URL or inline
event handler from injected markup gets to run a script from elsewhere. Datasette's own pages
use inline scripts and styles, so those stay allowed.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "frame-src 'none'; "
    "frame-ancestors 'none'; "
    "base-uri 'none'; "
    "form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Add the security headers to every HTTP response that does not set them itself."""

    def wrap(app: Any) -> Any:
        async def with_headers(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            async def send_with_headers(message: dict) -> None:
                if message["type"] == "http.response.start":
                    present = {k.lower() for k, _ in message.get("headers", [])}
                    extra = [(k, v) for k, v in HEADERS if k not in present]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
                await send(message)

            await app(scope, receive, send_with_headers)

        return with_headers

    return wrap

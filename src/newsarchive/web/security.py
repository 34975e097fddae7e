"""Who may reach the web UI: loopback by default, anything else only with the token."""

from __future__ import annotations

import hmac
import ipaddress
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_HEADER = "x-newsarchive-token"
TOKEN_COOKIE = "newsarchive_token"
TOKEN_PARAMETER = "token"
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"]
"""The Host names a tokenless server answers to (besides its own listen address)."""


def host_header_name(host: str) -> str:
    """``host`` as a Host header spells it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


class ListenRefused(ValueError):
    """A listen address off loopback without a token: the archive would be open to anyone."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def check_listen(host: str, token: str | None) -> None:
    """Refuse to listen on ``host`` off loopback unless a token protects every request."""
    if not is_loopback(host) and not token:
        raise ListenRefused(
            f"refusing to listen on {host}: only 127.0.0.1 is served without a token;"
            " set [serve] token (16 characters or more) to serve other addresses"
        )


def _offered_tokens(scope: Scope) -> list[str]:
    offered = []
    for name, value in scope.get("headers", []):
        if name == TOKEN_HEADER.encode():
            offered.append(value.decode("latin-1"))
        elif name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                offered.append(credentials.strip())
        elif name == b"cookie":
            cookie = SimpleCookie()
            cookie.load(value.decode("latin-1"))
            if TOKEN_COOKIE in cookie:
                offered.append(cookie[TOKEN_COOKIE].value)
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    offered += query.get(TOKEN_PARAMETER, [])
    return offered


class TokenMiddleware:
    """Every request must carry the token: ``Authorization: Bearer``, ``X-Newsarchive-Token``,
    the cookie, or ``?token=``. A valid ``?token=`` also sets the cookie (HttpOnly,
    SameSite=Strict), so the links of a page opened from a bookmark keep working."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _valid(self, offered: str) -> bool:
        return hmac.compare_digest(offered.encode(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _offered_tokens(scope)
        # Every offer is compared, so the time taken says nothing about which one was close.
        valid = [self._valid(t) for t in offered]
        if not any(valid):
            await _refuse(send)
            return
        in_query = TOKEN_PARAMETER.encode() + b"=" in scope.get("query_string", b"")

        async def send_with_cookie(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start" and in_query:
                cookie = (
                    f"{TOKEN_COOKIE}={self.token.decode()}; Path=/; HttpOnly; SameSite=Strict"
                ).encode()
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _refuse(send: Send) -> None:
    body = b'{"detail":"a token is required: send X-Newsarchive-Token or ?token="}'
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b"Bearer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

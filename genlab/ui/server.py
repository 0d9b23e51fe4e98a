"""A sign-in on every route, and a limit on failed sign-ins, for launches with `auth`.

Gradio 6 checks its sign-in only on the routes that declare it (the queue, files, uploads, config):
cancel, reset, heartbeat, startup-events, app_id and FastAPI's /openapi.json answer anyone, and
/login takes any number of guesses. `SignInRequired` sits in front of every route of Gradio's app
and lets an anonymous request reach only what the login page itself loads.

It is attached through `launch(app_kwargs={"middleware": [...]})`: Gradio passes app_kwargs to the
FastAPI app it builds inside launch(), and a middleware cannot be added once the app has started.
"""

import inspect
import ipaddress
import json
import math
import os
import re
import time
from collections import OrderedDict
from typing import Mapping, Optional

from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request

# What Gradio's login page loads before anyone signs in (read off a headless Chromium opening it):
# the page itself, its bundled scripts, styles, fonts and images, the theme and the manifest.
ANONYMOUS_PAGES = frozenset({"/", "/theme.css", "/manifest.json", "/favicon.ico"})
ANONYMOUS_FOLDERS = ("/assets/", "/static/")
LOGIN = frozenset({"/login", "/login/"})
STARTUP_EVENTS = "/gradio_api/startup-events"
# Gradio's page template (templates/frontend/index.html) embeds the app's whole API description, the
# one /gradio_api/info refuses strangers, even in the login page; its JSON escapes "<", so the first
# ";</script>" ends it
API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.DOTALL)

MAX_FAILED_LOGINS = 10  # per address and window: enough for typos, far too few to guess a password
LOGIN_WINDOW_SECONDS = 60.0
MAX_TRACKED_ADDRESSES = 10_000  # beyond this the oldest windows are forgotten: memory stays bounded

clock = time.monotonic  # one name for the throttle's time, so tests can move it instead of sleeping


class FailedLogins:
    """Sign-in attempts per address in fixed windows, each starting with the address's first attempt.

    Every attempt counts when it arrives and is forgiven if it succeeds: requests sent all at once
    are counted before any of them has been answered, so a burst cannot slip past the limit.
    A success does not clear earlier failures: one valid account must not reset its guesses at others.
    """

    def __init__(self, limit: int = MAX_FAILED_LOGINS, window: float = LOGIN_WINDOW_SECONDS,
                 max_addresses: int = MAX_TRACKED_ADDRESSES):
        self.limit, self.window, self.max_addresses = limit, window, max_addresses
        self.windows: "OrderedDict[str, list]" = OrderedDict()  # address -> [start, attempts], oldest start first

    def admit(self, address: str, now: float) -> bool:
        """Count one attempt from `address`; False, counting nothing, when its window is used up."""
        self._forget_before(now - self.window)
        if address not in self.windows:
            self.windows[address] = [now, 0]
            if len(self.windows) > self.max_addresses:
                self.windows.popitem(last=False)
        entry = self.windows[address]
        if entry[1] >= self.limit:
            return False
        entry[1] += 1
        return True

    def forgive(self, address: str) -> None:
        """The attempt just admitted for `address` succeeded: it is not a failure."""
        entry = self.windows.get(address)
        if entry and entry[1] > 0:
            entry[1] -= 1

    def seconds_left(self, address: str, now: float) -> int:
        """Until `address` may try again (at least 1, for a Retry-After header)."""
        start = self.windows.get(address, [now])[0]
        return max(1, math.ceil(start + self.window - now))

    def _forget_before(self, cutoff: float) -> None:
        while self.windows and next(iter(self.windows.values()))[0] <= cutoff:
            self.windows.popitem(last=False)


def is_private(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_private  # loopback and 10/8, 172.16/12, 192.168/16, fc00::/7 ...
    except ValueError:
        return False


def client_address(scope: Mapping, environ: Mapping[str, str] = os.environ) -> str:
    """The address failed sign-ins are counted against.

    uvicorn (Gradio's server) already replaces a peer on 127.0.0.1 (its FORWARDED_ALLOW_IPS default:
    a local reverse proxy, Gradio's share tunnel) with the rightmost X-Forwarded-For address that is
    not 127.0.0.1, so off a Space this is the address Starlette and Gradio see, and nobody else can
    choose it. On a Space the peer is Hugging Face's proxy on a private address; proxies append, so
    a client can forge only entries to the left of the ones they add: the client is the rightmost
    address that is not private. Behind a proxy that sends no usable header everyone shares one
    count: sign-ins can then be held up for a minute, but never guessed faster.
    """
    peer = scope["client"][0] if scope.get("client") else "unknown"
    if not (environ.get("SPACE_ID") and is_private(peer)):
        return peer
    forwarded = ",".join(value.decode("latin-1") for name, value in scope.get("headers", [])
                         if name == b"x-forwarded-for")
    public = [entry.strip() for entry in forwarded.split(",") if entry.strip() and not is_private(entry.strip())]
    return public[-1] if public else peer


async def signed_in_user(gradio_app, scope) -> Optional[str]:
    """Who the request is signed in as, checked as Gradio's own /gradio_api/user does (routes.py)."""
    if gradio_app.auth_dependency is not None:
        user = gradio_app.auth_dependency(Request(scope) if scope["type"] == "http" else HTTPConnection(scope))
        return await user if inspect.isawaitable(user) else user
    cookies = HTTPConnection(scope).cookies
    token = (cookies.get(f"access-token-{gradio_app.cookie_id}")
             or cookies.get(f"access-token-unsecure-{gradio_app.cookie_id}"))
    return gradio_app.tokens.get(token)


def allowed_anonymously(gradio_app, scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    path = scope["path"]  # Gradio gives uvicorn no root_path; a prefixed path would simply be refused
    if path == STARTUP_EVENTS:
        # launch() itself calls it, unsigned, as soon as the server answers; once that has happened
        # the route does nothing, and it is refused like any other
        return not gradio_app.startup_events_triggered
    return path in ANONYMOUS_PAGES or path.startswith(ANONYMOUS_FOLDERS)


def hiding_api_info(send):
    """`send` for the login page: the page goes out whole, with the API description replaced by null."""
    start, chunks = {}, []

    async def send_page(message):
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = API_INFO.sub(b"window.gradio_api_info = null;</script>", b"".join(chunks))
        headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
        await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return send_page


async def answer(send, status: int, detail, headers: Optional[dict] = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    head += [(name.encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


class SignInRequired:
    """Pure ASGI middleware: anonymous requests reach only the login page; /login is throttled.

    It does nothing when the app has no sign-in. Gradio's app is read from scope["app"], which
    Starlette sets on every request, so the sign-in tokens checked are the ones /login issued.
    """

    def __init__(self, app, failed_logins: Optional[FailedLogins] = None):
        self.app = app
        self.failed_logins = failed_logins or FailedLogins()

    async def __call__(self, scope, receive, send):
        gradio_app = scope.get("app")
        if scope["type"] not in ("http", "websocket") or (
                gradio_app.auth is None and gradio_app.auth_dependency is None):
            return await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in LOGIN:
            return await self.throttled_login(scope, receive, send)
        if await signed_in_user(gradio_app, scope) is not None:
            return await self.app(scope, receive, send)
        if allowed_anonymously(gradio_app, scope):
            login_page = scope["path"] == "/" and scope["method"] == "GET"  # HEAD has no body to hide
            return await self.app(scope, receive, hiding_api_info(send) if login_page else send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})  # policy violation
        # the shape of Gradio's own refusal (routes.py login_check), which its clients already understand
        await answer(send, 401, {"error": "Not authenticated"})

    async def throttled_login(self, scope, receive, send):
        address, now = client_address(scope), clock()
        if not self.failed_logins.admit(address, now):
            wait = self.failed_logins.seconds_left(address, now)
            message = (f"Too many failed sign-ins from your address ({self.failed_logins.limit} in a minute): "
                       f"try again in {wait} s.")
            return await answer(send, 429, message, {"retry-after": str(wait)})
        status = []

        async def noting_status(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, noting_status)
        if status and 200 <= status[0] < 300:
            self.failed_logins.forgive(address)


def sign_in_options(auth) -> dict:
    """launch() keywords for a sign-in on every route: Gradio's own `auth` and the guard in front of it."""
    return {"auth": auth, "app_kwargs": {"middleware": [Middleware(SignInRequired)]}}

"""The guards in front of every request of ``noarkpack serve`` (pure ASGI, so server-sent events stream through).

- The token: ``?token=`` once (then an HttpOnly, SameSite=Strict cookie, and a redirect to the same URL without
  it, so the token stays out of the history), the cookie, or the header ``X-Noarkpack-Token``; else 403.
- The Host header must name the loopback (a DNS-rebinding page cannot reach us under its own name).
- A request that changes something is a POST (the routes allow nothing else) and must come from our own origin:
  ``Origin`` (or, without it, ``Referer``) the same scheme://host, or the token header; else 403.
- Every response carries a strict Content-Security-Policy (nothing from outside), nosniff, no framing, and
  ``Referrer-Policy: same-origin`` (``no-referrer`` would make browsers send ``Origin: null`` on our own form
  POSTs, which the check above must refuse; nothing leaves for another origin either way).
- The language of each request: the ``np_lang`` cookie, else the process's (noarkpack.locale.language).
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..locale import LANGUAGES, language, tr

CSP = ("default-src 'self'; img-src 'self' data:; object-src 'self'; frame-src 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_OWN_POLICY = (b"content-security-policy", b"x-frame-options")
#: the names the server answers to (``testserver``: Starlette's TestClient)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "testserver")
SAFE_METHODS = ("GET", "HEAD")
TOKEN_COOKIE = "np_token"
SESSION_COOKIE = "np_session"
LANG_COOKIE = "np_lang"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    raw = headers.get(b"cookie", b"").decode("latin-1")
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # noqa: BLE001 - a malformed cookie header is no cookie
        return {}
    return {k: m.value for k, m in jar.items()}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def _cookie_header(name: str, value: str) -> tuple[bytes, bytes]:
    return (b"set-cookie", f"{name}={value}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1"))


async def _plain(send, status: int, text: str, extra: list | None = None) -> None:
    body = text.encode("utf-8")
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               *HEADERS, *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """The ASGI middleware: token, host, origin, headers, session cookie, language."""

    def __init__(self, app, *, token: str, allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # we have none
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cookies = _cookies(headers)
        lang = cookies.get(LANG_COOKIE)
        if lang in LANGUAGES:
            with language(lang):
                await self._guard(scope, receive, send, headers, cookies)
        else:
            await self._guard(scope, receive, send, headers, cookies)

    async def _guard(self, scope, receive, send, headers: dict, cookies: dict) -> None:
        host = headers.get(b"host", b"").decode("latin-1")
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if hostname.lower() not in self.allowed_hosts:
            await _plain(send, 403, tr("Forbidden: this server answers to 127.0.0.1 only."))
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        by_header = _same(headers.get(b"x-noarkpack-token", b"").decode("latin-1"), self.token)
        by_cookie = _same(cookies.get(TOKEN_COOKIE, ""), self.token)
        by_query = "token" in query and _same(query["token"], self.token)
        if not (by_header or by_cookie or by_query):
            await _plain(send, 403, tr("Forbidden: open the address noarkpack serve printed (with its token)."))
            return
        method = scope["method"]
        if method not in SAFE_METHODS and not by_header and not self._same_origin(headers, host, scope):
            await _plain(send, 403, tr("Forbidden: a request from another site."))
            return
        extra = []
        if not by_cookie:
            extra.append(_cookie_header(TOKEN_COOKIE, self.token))
        sid = cookies.get(SESSION_COOKIE, "")
        if not sid or len(sid) > 64:
            sid = secrets.token_urlsafe(18)
            extra.append(_cookie_header(SESSION_COOKIE, sid))
            cookies = {**cookies, SESSION_COOKIE: sid}
            merged = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode("latin-1", "replace")
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"cookie"] + [(b"cookie", merged)]
        if by_query and method in SAFE_METHODS:  # drop the token from the address
            rest = urlencode([(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                          keep_blank_values=True) if k != "token"])
            location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
            await _plain(send, 303, "", [(b"location", location.encode("utf-8")), *extra,
                                         (b"cache-control", b"no-store")])
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                own = message.get("headers", [])
                has_csp = any(k.lower() == b"content-security-policy" for k, _ in own)
                # a response with its own policy (a document framed by our page, a sandboxed report) keeps it
                # whole: its frame-ancestors says who may frame it, so no X-Frame-Options either
                skip = _OWN_POLICY if has_csp else ()
                message["headers"] = [*own, *(h for h in HEADERS if h[0] not in skip), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _same_origin(headers: dict[bytes, bytes], host: str, scope) -> bool:
        scheme = scope.get("scheme", "http")
        origin = headers.get(b"origin", b"").decode("latin-1")
        if origin:
            return origin == f"{scheme}://{host}"
        referer = headers.get(b"referer", b"").decode("latin-1")
        if referer:
            r = urlsplit(referer)
            return f"{r.scheme}://{r.netloc}" == f"{scheme}://{host}"
        return False


async def read_form(request, limit: int = 64 * 1024) -> dict[str, str]:
    """The fields of a POSTed ``application/x-www-form-urlencoded`` form (our forms are small; no
    python-multipart needed).  A repeated field keeps its last value; a body over ``limit`` bytes → 413."""
    from starlette.exceptions import HTTPException

    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and ctype != "application/x-www-form-urlencoded":
        raise HTTPException(415)
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


async def read_form_multi(request, limit: int = 64 * 1024) -> list[tuple[str, str]]:
    """As :func:`read_form`, every field with its repeats, in order (``--test`` given several times)."""
    from starlette.exceptions import HTTPException

    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413)
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)

"""HTTP for every roost request: a total deadline, a body cap, no redirects.

httpx's timeouts bound each step, not the whole request (a server dripping
one byte per interval never trips them), so every request here runs under
one overall deadline and reads at most ``max_bytes`` of (decompressed) body;
decompression itself stops at the cap, so a gzip bomb costs nothing.
Transport problems never raise: they come back as ``HttpResult.error``,
with ``sent`` telling whether the request had fully left (an ambiguous
outcome for a refresh). httpx is imported inside functions only, through
``_httpx``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import ValidationError

if TYPE_CHECKING:
    import httpx

MAX_BODY = 1 << 20


def _httpx() -> Any:
    """httpx without its command-line client.

    ``httpx/__init__`` imports ``httpx._main`` (click, rich.syntax, pygments: about
    a third of httpx's import time) inside ``try/except ImportError``; a ``None`` entry
    in ``sys.modules`` makes that one import fail at once. The entry is removed
    afterwards, so a later ``import httpx._main`` still works.
    """
    import sys

    # Only the first import is steered; later calls (other threads too) take the import lock as usual.
    blocked = "httpx" not in sys.modules and "httpx._main" not in sys.modules
    if blocked:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        if blocked and sys.modules.get("httpx._main", 0) is None:
            del sys.modules["httpx._main"]
    return httpx


@dataclass
class HttpResult:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # timeout | connect | dns | tls | protocol | too_large
    error_detail: str | None = None
    elapsed_s: float = 0.0
    sent: bool = False


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, what: str) -> str:
    """``url`` if it is https, or http to a loopback address; VALIDATION otherwise."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number in 0-65535
    except ValueError:  # an unclosed [IPv6 bracket, a bad port
        parts = urlsplit("")
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url
    raise ValidationError(f"{what} must be https:// (or http:// on loopback): {url!r}",
                          details={"url": url})


def make_async_client(ctx: Any = None, max_connections: int = 16, ssl_context: Any = None) -> "httpx.AsyncClient":
    """``ssl_context``: one verifying context shared by several clients (loading the CA store once)."""
    httpx = _httpx()

    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    # Only encodings _BoundedBody can decode within the cap (no brotli/zstd even if installed).
    return httpx.AsyncClient(verify=ssl_context or verifying_context(), follow_redirects=False,
                             limits=limits, timeout=None, headers={"Accept-Encoding": "gzip, deflate"})


class _DeferredStoreContext(ssl.SSLContext):
    """A verifying client context that loads its CA store at the first TLS handshake."""

    store_lock: threading.Lock
    store_loaded: bool

    def _load_store(self) -> None:
        with self.store_lock:
            if not self.store_loaded:
                cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
                if not cafile and not capath:
                    import certifi

                    cafile = certifi.where()
                try:
                    self.load_verify_locations(cafile=cafile or None, capath=None if cafile else capath)
                except OSError as exc:  # a handshake error naming the store (the transport maps it: tls)
                    raise ssl.SSLError(exc.errno or 0, f"cannot load the CA store {cafile or capath}: "
                                                       f"{exc.strerror or exc}") from None
                self.store_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]  # sync transport
        self._load_store()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]  # async transport (anyio)
        self._load_store()
        return super().wrap_bio(*args, **kwargs)


def verifying_context() -> ssl.SSLContext:
    """The context httpx's ``verify=True`` builds, with its CA store loaded at the first handshake.

    Same store (``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else certifi's bundle), hostname
    checks and ``CERT_REQUIRED``. Parsing the store takes about 50 ms, which a run
    that never opens a TLS connection (a fake Anthropic on loopback) does not pay.
    """
    context = _DeferredStoreContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname, CERT_REQUIRED
    context.store_lock, context.store_loaded = threading.Lock(), False
    keylog = os.environ.get("SSLKEYLOGFILE")  # as ssl.create_default_context does
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    return context


class _UndecodableBody(Exception):
    """A content-encoding we did not ask for and cannot decode."""


class _BoundedBody:
    """The response body, decompressed by us so that at most ``limit + 1`` bytes ever exist.

    httpx inflates each network chunk whole: a 64 KiB gzip chunk of zeros is
    64 MiB in memory (and seconds of CPU no deadline can interrupt) before
    any cap is checked. zlib's ``max_length`` stops at the cap instead.
    """

    def __init__(self, encoding: str, limit: int):
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip().lower() not in ("", "identity")]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise _UndecodableBody(f"unsupported content-encoding {encoding[:40]!r}")
        self.coding = codings[0] if codings else None
        self._zlib: Any = None
        if self.coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "deflate":
            self._zlib = zlib.decompressobj()
        self.limit = limit
        self.data = bytearray()
        self.too_large = False

    def feed(self, chunk: bytes) -> None:
        if self._zlib is None:
            self.data += chunk
        else:
            self._inflate(chunk)
        if len(self.data) > self.limit:
            self.too_large = True

    def _inflate(self, chunk: bytes) -> None:
        room = self.limit + 1 - len(self.data)
        try:
            out = self._zlib.decompress(chunk, room)
        except zlib.error:
            if self.coding != "deflate" or self.data:
                raise
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)  # a raw deflate stream, no zlib header
            out = self._zlib.decompress(chunk, room)
        self.data += out
        if self._zlib.unconsumed_tail:  # more output was waiting than the cap allows
            self.too_large = True


def _ssl_error_in_chain(exc: BaseException) -> ssl.SSLError | None:
    """The SSLError httpx and httpcore wrapped (as cause or context), if any; chains may loop."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, ssl.SSLError):
            return link
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return None


def _classify_exception(exc: BaseException) -> tuple[str, str]:
    httpx = _httpx()

    text = f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, httpx.TimeoutException)):
        return "timeout", text
    tls = _ssl_error_in_chain(exc)
    if tls is not None:  # the handshake (or the CA store it needed) failed
        return "tls", f"{type(tls).__name__}: {tls}"[:300]
    if isinstance(exc, httpx.ConnectError):
        lowered = text.lower()
        if "name or service" in lowered or "name resolution" in lowered or "nodename" in lowered:
            return "dns", text
        if "ssl" in lowered or "certificate" in lowered:
            return "tls", text
        return "connect", text
    return "protocol", text


async def request_async(client: "httpx.AsyncClient", method: str, url: str, *, headers: dict[str, str],
                        deadline_s: float, max_bytes: int = MAX_BODY, json: Any = None,
                        data: Any = None) -> HttpResult:
    """One request, finished within ``deadline_s`` whatever the server does."""
    httpx = _httpx()

    result = HttpResult()
    started = time.monotonic()

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            result.sent = True

    try:
        async with asyncio.timeout(deadline_s):
            request = client.build_request(method, url, headers=headers, json=json, data=data,
                                           extensions={"trace": trace})
            response = await client.send(request, stream=True)
            result.sent = True
            try:
                result.status = response.status_code
                result.headers = {k.lower(): v for k, v in response.headers.items()}
                body = _BoundedBody(result.headers.get("content-encoding", ""), max_bytes)
                async for chunk in response.aiter_raw():
                    body.feed(chunk)
                    if body.too_large:
                        result.error, result.error_detail = "too_large", f"body over {max_bytes} bytes"
                        break
                result.body = bytes(body.data[:max_bytes])
            finally:
                await response.aclose()
    except (_UndecodableBody, zlib.error) as exc:  # an encoding we do not speak, or a corrupt stream
        result.error, result.error_detail = "protocol", f"undecodable body: {type(exc).__name__}"[:300]
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        result.error, result.error_detail = _classify_exception(exc)
        if isinstance(exc, httpx.ConnectError) or isinstance(exc, httpx.ConnectTimeout):
            result.sent = False
    result.elapsed_s = time.monotonic() - started
    return result


def request_sync(method: str, url: str, *, headers: dict[str, str], deadline_s: float,
                 max_bytes: int = MAX_BODY, json: Any = None, data: Any = None) -> HttpResult:
    """The same request from synchronous code (a fresh client, one overall deadline)."""

    async def once() -> HttpResult:
        async with make_async_client(max_connections=1) as client:
            return await request_async(client, method, url, headers=headers, deadline_s=deadline_s,
                                       max_bytes=max_bytes, json=json, data=data)

    return asyncio.run(once())

"""A fake Anthropic for tests: usage endpoint, token endpoint, status page.

It runs in the test process (a ``ThreadingHTTPServer`` on 127.0.0.1) so tests
read its counters directly, while roost subprocesses reach it through the
``CLAUDE_LB_*`` endpoint variables from ``env()``. All state lives on the
``FakeAnthropic`` instance behind one lock; a rotation happens entirely under
that lock, so N concurrent refreshes with one token yield exactly one success,
as with the real single-use refresh tokens.

Nothing here may block shutdown: handler threads are daemons, every wait
(latency, hang, drip) is on the instance's stop event, and ``stop()`` shuts
down every open connection, including idle keep-alive ones.
"""

from __future__ import annotations

import json
import secrets
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .scenarios import (
    Reply,
    Scenario,
    StatusPage,
    TokenBehaviour,
    error_envelope,
    invalid_grant_reply,
    invalid_request_reply,
)

USAGE_PATH = "/api/oauth/usage"
TOKEN_PATH = "/v1/oauth/token"
SUMMARY_PATH = "/api/v2/summary.json"
STATUS_JSON_PATH = "/api/v2/status.json"
GRANTED_SCOPE = "user:inference user:profile user:sessions:claude_code user:mcp_servers user:file_upload"
ACCESS_PREFIX = "sk-ant-oat01-"
REFRESH_PREFIX = "sk-ant-ort01-"
CHUNK = 64 * 1024


def new_access_token() -> str:
    return ACCESS_PREFIX + secrets.token_urlsafe(24)


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(24)


@dataclass
class _Chain:
    """One profile's token family: the live pair plus identity for responses."""

    label: str
    access: str
    refresh: str
    usage: Scenario | None = None
    revoked: bool = False
    account_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    org_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class _Counters:
    """Everything ``reset_counters`` clears, so a reset is one assignment."""

    calls: Counter = field(default_factory=Counter)
    per_token: Counter = field(default_factory=Counter)
    posts_by_label: Counter = field(default_factory=Counter)
    token_posts: int = 0
    reuse: int = 0
    requests: list = field(default_factory=list)
    rotations: list = field(default_factory=list)


class FakeAnthropic:
    """The fake server; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, strict_user_agent: bool = False):
        self.host = host
        self.port = port
        self.strict_user_agent = strict_user_agent
        self.token_behaviour: dict[str, TokenBehaviour] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._chains: dict[str, _Chain] = {}
        self._access_owner: dict[str, str] = {}
        self._refresh_owner: dict[str, str] = {}
        self._retired_access: set[str] = set()
        self._retired_refresh: set[str] = set()
        self._usage: dict[str, Scenario] = {}
        self._status = StatusPage()
        self._c = _Counters()

    # ------------------------------------------------------------------ #
    # lifecycle
    # ------------------------------------------------------------------ #

    def start(self) -> "FakeAnthropic":
        """Bind and serve on a daemon thread; returns self for chaining."""
        if self._httpd is not None:
            raise RuntimeError("FakeAnthropic already started")
        self._stopping.clear()
        self._httpd = _Server((self.host, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
            name=f"fake-anthropic:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop promptly: wake every waiting handler, close every socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        self._close_connections()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> "FakeAnthropic":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _close_connections(self) -> None:
        """Shut down open sockets so handlers blocked in a read return at once."""
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def _wait(self, seconds: float | None) -> bool:
        """Sleep that ``stop()`` interrupts; True means "we are stopping"."""
        return self._stopping.wait(seconds)

    # ------------------------------------------------------------------ #
    # endpoints
    # ------------------------------------------------------------------ #

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeAnthropic not started")
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def status_url(self) -> str:
        return self.base_url + SUMMARY_PATH

    def env(self) -> dict[str, str]:
        """The endpoint variables a roost subprocess needs to use this fake."""
        return {
            "CLAUDE_LB_API_BASE": self.base_url,
            "CLAUDE_LB_TOKEN_URL": self.token_url,
            "CLAUDE_LB_STATUS_URL": self.status_url,
        }

    # ------------------------------------------------------------------ #
    # scripting: usage and token chains
    # ------------------------------------------------------------------ #

    def set_usage(self, access_token: str, scenario: Scenario) -> None:
        """Script one access token; it need not belong to any chain."""
        with self._lock:
            self._usage[access_token] = scenario

    def add_account(self, label: str, *, access_token: str, refresh_token: str,
                    usage: Scenario | None = None) -> None:
        """Create (or replace) the chain for ``label`` with this live pair."""
        with self._lock:
            old = self._chains.get(label)
            if old is not None:
                self._retire(old)
            self._chains[label] = _Chain(label, access_token, refresh_token, usage)
            self._access_owner[access_token] = label
            self._refresh_owner[refresh_token] = label
            self._retired_access.discard(access_token)
            self._retired_refresh.discard(refresh_token)

    def set_chain_usage(self, label: str, scenario: Scenario) -> None:
        """Script every current and future token of a chain (drops per-token overrides)."""
        with self._lock:
            self._chains[label].usage = scenario
            for token, owner in self._access_owner.items():
                if owner == label:
                    self._usage.pop(token, None)

    def set_token_behaviour(self, label: str, behaviour: TokenBehaviour) -> None:
        with self._lock:
            self.token_behaviour[label] = behaviour

    def live_refresh_token(self, label: str) -> str:
        with self._lock:
            return self._chains[label].refresh

    def live_access_token(self, label: str) -> str:
        with self._lock:
            return self._chains[label].access

    def rotate_out_of_band(self, label: str) -> tuple[str, str]:
        """Another party refreshed: new live pair, old refresh token retired."""
        with self._lock:
            return self._rotate(self._chains[label], source="out_of_band")

    # ------------------------------------------------------------------ #
    # scripting: status page and whole scripts
    # ------------------------------------------------------------------ #

    def set_status(self, indicator="none", description="All Systems Operational",
                   incidents=(), degraded=(), *, http_status=200, hang=False) -> None:
        page = StatusPage(indicator, description, tuple(dict(i) for i in incidents),
                          tuple(tuple(d) for d in degraded), http_status, hang)
        with self._lock:
            self._status = page

    def load_script(self, script: dict) -> None:
        """Apply a fleet description (the ``--script`` JSON format)."""
        self.strict_user_agent = bool(script.get("strict_user_agent", False))
        for acct in script.get("accounts", ()):
            usage = acct.get("usage")
            self.add_account(acct["label"], access_token=acct["access_token"],
                             refresh_token=acct["refresh_token"],
                             usage=Scenario.from_dict(usage) if usage is not None else None)
        for label, knobs in script.get("token_behaviour", {}).items():
            self.set_token_behaviour(label, TokenBehaviour.from_dict(knobs))
        if "status" in script:
            self.set_status(**StatusPage.from_dict(script["status"]).to_dict())

    def to_script(self) -> dict:
        """The current configuration as a script (live tokens, chain usage, status)."""
        with self._lock:
            accounts = [
                {"label": c.label, "access_token": c.access, "refresh_token": c.refresh,
                 "usage": c.usage.to_dict() if c.usage is not None else None}
                for c in self._chains.values()
            ]
            behaviour = {k: v.to_dict() for k, v in self.token_behaviour.items()}
            status = self._status.to_dict()
        script = {"strict_user_agent": self.strict_user_agent, "accounts": accounts, "status": status}
        if behaviour:
            script["token_behaviour"] = behaviour
        return script

    # ------------------------------------------------------------------ #
    # counters and logs
    # ------------------------------------------------------------------ #

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return self._c.calls[(method.upper(), urlsplit(path).path)]

    def count_token(self, access_token: str) -> int:
        """Usage calls made with this bearer (whatever they were answered)."""
        with self._lock:
            return self._c.per_token[access_token]

    @property
    def token_posts(self) -> int:
        with self._lock:
            return self._c.token_posts

    def token_posts_for(self, label: str) -> int:
        """POSTs whose refresh token (live or retired) belongs to ``label``."""
        with self._lock:
            return self._c.posts_by_label[label]

    @property
    def reuse_count(self) -> int:
        with self._lock:
            return self._c.reuse

    @property
    def requests(self) -> list[dict]:
        with self._lock:
            return [dict(r, headers=dict(r["headers"])) for r in self._c.requests]

    @property
    def rotations(self) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._c.rotations]

    def reset_counters(self) -> None:
        with self._lock:
            self._c = _Counters()

    # ------------------------------------------------------------------ #
    # request handling (called from handler threads)
    # ------------------------------------------------------------------ #

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """Route one request to a reply; the handler only transmits it."""
        self._record(method, path, headers, body)
        if method == "GET" and path == USAGE_PATH:
            return self._usage_reply(headers)
        if method == "POST" and path == TOKEN_PATH:
            return self._token_reply(headers, body)
        if method == "GET" and path in (SUMMARY_PATH, STATUS_JSON_PATH):
            with self._lock:
                page = self._status
            return page.reply(path)
        return Reply.json(404, error_envelope("not_found_error", f"Not found: {method} {path}"))

    def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        entry = {"method": method, "path": path, "headers": headers,
                 "body": body.decode("utf-8", "replace"), "t": time.monotonic()}
        with self._lock:
            self._c.calls[(method, path)] += 1
            self._c.requests.append(entry)

    # -- usage -------------------------------------------------------------

    def _usage_reply(self, headers: dict[str, str]) -> Reply:
        token = _bearer(headers)
        if token is not None:
            with self._lock:
                self._c.per_token[token] += 1
        if self.strict_user_agent and not headers.get("user-agent", "").startswith("claude-code/"):
            return Scenario.rate_limited("0").reply()
        scenario = self._scenario_for(token)
        if scenario.delay_s and self._wait(scenario.delay_s):
            return Reply.dropped()
        return scenario.reply()

    def _scenario_for(self, token: str | None) -> Scenario:
        """Retired tokens are dead whatever was scripted; unknown ones too."""
        with self._lock:
            if token is None or token in self._retired_access:
                return Scenario.invalid_credentials()
            if token in self._usage:
                return self._usage[token]
            label = self._access_owner.get(token)
            if label is None:
                return Scenario.invalid_credentials()
            return self._chains[label].usage or Scenario.ok()

    # -- token -------------------------------------------------------------

    def _token_reply(self, headers: dict[str, str], body: bytes) -> Reply:
        form = _parse_form(headers.get("content-type", ""), body)
        refresh = form.get("refresh_token")
        label = self._count_post(refresh)
        behaviour = self.token_behaviour.get(label) if label is not None else None
        behaviour = behaviour or TokenBehaviour()
        if behaviour.delay_s and self._wait(behaviour.delay_s):
            return Reply.dropped()
        forced = behaviour.override_reply()
        if forced is not None:
            return forced
        if refresh is None or not _is_refresh_request(form):
            return invalid_request_reply()
        if label is not None and behaviour.before_commit is not None:
            behaviour.before_commit(label)
        pair = self._commit(label, refresh, behaviour)
        if pair is None or label is None:  # a committed pair always has a chain, hence a label
            return invalid_grant_reply(behaviour.grant_error)
        if behaviour.drop_after_commit:
            return Reply.dropped()
        return self._token_success(label, pair, behaviour)

    def _count_post(self, refresh: str | None) -> str | None:
        """Count the POST and attribute it to a chain by its refresh token."""
        with self._lock:
            self._c.token_posts += 1
            label = self._refresh_owner.get(refresh) if refresh else None
            if label is not None:
                self._c.posts_by_label[label] += 1
            return label

    def _commit(self, label: str | None, refresh: str, behaviour: TokenBehaviour) -> tuple[str, str] | None:
        """Check-and-rotate under one lock: the single-use guarantee lives here."""
        with self._lock:
            chain = self._chains.get(label) if label is not None else None
            if chain is not None and refresh == chain.refresh and not chain.revoked:
                return self._rotate(chain, "endpoint", keep_refresh=behaviour.omit_refresh_token)
            if refresh in self._retired_refresh:
                self._c.reuse += 1
                if behaviour.revoke_family_on_reuse and chain is not None:
                    self._revoke(chain)
            return None

    def _token_success(self, label: str, pair: tuple[str, str], behaviour: TokenBehaviour) -> Reply:
        access, refresh = pair
        with self._lock:
            chain = self._chains[label]
            account = {"uuid": chain.account_uuid, "email_address": f"{label}@example.com"}
            org = {"uuid": chain.org_uuid}
        payload = {"token_type": "Bearer", "access_token": access, "expires_in": behaviour.expires_in}
        if not behaviour.omit_refresh_token:
            payload["refresh_token"] = refresh
        payload.update(scope=GRANTED_SCOPE, organization=org, account=account)
        reply = Reply.json(200, payload)
        if behaviour.drip:
            return Reply(200, reply.body, action="drip", interval=behaviour.drip_interval_s)
        return reply

    # -- chain bookkeeping (caller holds the lock) --------------------------

    def _rotate(self, chain: _Chain, source: str, keep_refresh: bool = False) -> tuple[str, str]:
        """Issue a new pair and retire the old one. ``keep_refresh`` models a
        response without ``refresh_token``: the old refresh token stays live."""
        old_access, old_refresh = chain.access, chain.refresh
        new_access = new_access_token()
        new_refresh = old_refresh if keep_refresh else new_refresh_token()
        self._retired_access.add(old_access)
        self._access_owner[new_access] = chain.label
        if new_refresh != old_refresh:
            self._retired_refresh.add(old_refresh)
            self._refresh_owner[new_refresh] = chain.label
        chain.access, chain.refresh, chain.revoked = new_access, new_refresh, False
        self._c.rotations.append({"label": chain.label, "t": time.time(), "old_refresh": old_refresh,
                                  "new_refresh": new_refresh, "source": source})
        return new_access, new_refresh

    def _retire(self, chain: _Chain) -> None:
        self._retired_access.add(chain.access)
        self._retired_refresh.add(chain.refresh)

    def _revoke(self, chain: _Chain) -> None:
        """RFC 9700 family revocation: the live pair dies with the reused one."""
        self._retire(chain)
        chain.revoked = True


# ---------------------------------------------------------------------- #
# helpers
# ---------------------------------------------------------------------- #


def _bearer(headers: dict[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """JSON or form-encoded token request; anything unparsable is an empty form."""
    text = body.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in content_type:
        return {k: v[0] for k, v in parse_qs(text).items()}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _is_refresh_request(form: dict[str, str]) -> bool:
    return form.get("grant_type") == "refresh_token" and bool(form.get("refresh_token")) \
        and bool(form.get("client_id"))


class _Server(ThreadingHTTPServer):
    """Daemon handler threads, a deep accept queue, and a link to the fake."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # 50 simultaneous connects must not hit SYN retries

    def __init__(self, address, handler, fake: FakeAnthropic):
        self.fake = fake
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Skip HTTPServer's ``getfqdn`` lookup: a reverse DNS query can take seconds."""
        socketserver.TCPServer.server_bind(self)
        host, self.server_port = self.server_address[:2]
        self.server_name = str(host)  # getsockname(): always a str for AF_INET

    def handle_error(self, request, client_address) -> None:
        """Clients hanging up (or stop() cutting them off) are normal here."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, asks the fake for a ``Reply``, transmits it."""

    protocol_version = "HTTP/1.1"
    server_version = "roost-fakeserver/1"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        """Track the socket for stop(); no Nagle, or head and body wait 40 ms."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, False)

    def log_message(self, format, *args) -> None:  # noqa: A002 - stdlib signature
        """Silence: tests read the request log, not stderr."""

    def _dispatch(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.fake._handle(self.command, urlsplit(self.path).path, headers, body)
        self._transmit(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _transmit(self, reply: Reply) -> None:
        fake = self.server.fake
        if reply.action == "hang":
            fake._wait(None)
        if reply.action in ("hang", "drop"):
            self.close_connection = True
            return
        self._send_head(reply)
        if reply.action == "drip":
            self._drip(reply.body, reply.interval)
        else:
            self._write_body(reply.body)

    def _send_head(self, reply: Reply) -> None:
        self.send_response(reply.status)
        names = {k.lower() for k, _ in reply.headers}
        for name, value in reply.headers:
            self.send_header(name, value)
        if "content-type" not in names:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.flush()

    def _write_body(self, body: bytes) -> None:
        """Chunked writes so stop() can cut a huge body short."""
        stopping = self.server.fake._stopping
        for start in range(0, len(body), CHUNK):
            if stopping.is_set():
                self.close_connection = True
                return
            self.wfile.write(body[start:start + CHUNK])

    def _drip(self, body: bytes, interval: float) -> None:
        """One byte per ``interval``: the slow-loris a read timeout never catches."""
        fake = self.server.fake
        for i in range(len(body)):
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            if i + 1 < len(body) and fake._wait(interval):
                self.close_connection = True
                return

"""The fake token server (FTS) for reliability tests.

``ReliabilityFake`` is the package's ``FakeAnthropic`` (rotation, reuse
detection, family revocation, delay, drop-after-commit, drip, before-commit
hook, counters) plus what the reliability goals need on top:

* every token it ever issued, so the canary scan covers rotated tokens too;
* a timeline of token POSTs (arrival and answer, ``time.monotonic``: the
  same clock the kill-point traces use) and of how each was answered;
* ``force_reply(label, Reply)``: answer the token POSTs of a profile with any
  reply (a 302 to another host, a gzip bomb, HTML) without rotating.

Also ``SilentServer``: a bare socket that accepts and never answers.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from roost_plugins.fakeserver import FakeAnthropic, Reply


@dataclass
class Post:
    label: str | None
    arrived: float
    answered: float | None = None
    outcome: str = "?"  # rotated | reuse | invalid | forced | dropped | ...


class ReliabilityFake(FakeAnthropic):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued: list[str] = []
        self.posts: list[Post] = []
        self._forced: dict[str, Reply] = {}
        self._forced_usage: dict[str, Reply] = {}
        self.usage_active = 0
        self.usage_peak = 0  # most usage requests in flight at once (probe concurrency bound)

    # -- knobs -----------------------------------------------------------------
    def force_reply(self, label: str, reply: Reply | None) -> None:
        with self._lock:
            if reply is None:
                self._forced.pop(label, None)
            else:
                self._forced[label] = reply

    # -- bookkeeping -----------------------------------------------------------
    def add_account(self, label, *, access_token, refresh_token, usage=None):
        with self._lock:
            self.issued += [access_token, refresh_token]
        super().add_account(label, access_token=access_token, refresh_token=refresh_token, usage=usage)

    def _rotate(self, chain, source, keep_refresh=False):
        pair = super()._rotate(chain, source, keep_refresh)
        self.issued.extend(pair)  # caller holds self._lock
        return pair

    def force_usage(self, label: str, reply: Reply | None) -> None:
        """Answer the usage GETs of a profile's tokens with any reply (a hostile body, a huge Retry-After)."""
        with self._lock:
            if reply is None:
                self._forced_usage.pop(label, None)
            else:
                self._forced_usage[label] = reply

    def _usage_reply(self, headers):
        from roost_plugins.fakeserver.server import _bearer

        with self._lock:
            self.usage_active += 1
            self.usage_peak = max(self.usage_peak, self.usage_active)
            forced = self._forced_usage.get(self._access_owner.get(_bearer(headers) or "", ""))
        try:
            if forced is not None:
                return forced
            return super()._usage_reply(headers)
        finally:
            with self._lock:
                self.usage_active -= 1

    def _token_reply(self, headers, body):
        post = Post(None, time.monotonic())
        from roost_plugins.fakeserver.server import _parse_form

        refresh = _parse_form(headers.get("content-type", ""), body).get("refresh_token")
        with self._lock:
            self.posts.append(post)
            post.label = self._refresh_owner.get(refresh) if refresh else None
            forced = self._forced.get(post.label) if post.label else None
        if forced is not None:
            with self._lock:
                self._c.token_posts += 1
            post.outcome, post.answered = "forced", time.monotonic()
            return forced
        reply = super()._token_reply(headers, body)
        if reply.action == "drop":
            post.outcome = "dropped"
        elif reply.status == 200:
            post.outcome = "rotated"
        elif b"invalid_grant" in reply.body:
            post.outcome = "invalid_grant"
        else:
            post.outcome = f"http{reply.status}"
        post.answered = time.monotonic()
        return reply

    def clear_posts(self) -> None:
        with self._lock:
            self.posts.clear()

    # -- views ---------------------------------------------------------------------
    def posts_for(self, label: str) -> list[Post]:
        with self._lock:
            return [p for p in self.posts if p.label == label]

    def summary(self) -> str:
        with self._lock:
            outcomes: dict[str, int] = {}
            for post in self.posts:
                outcomes[post.outcome] = outcomes.get(post.outcome, 0) + 1
            return f"posts={self._c.token_posts} reuse={self._c.reuse} outcomes={outcomes}"


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung server)."""

    def __init__(self):
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self._conns.append(conn)

    def __enter__(self) -> "SilentServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._conns:
            conn.close()
        self._sock.close()

    @property
    def accepted(self) -> int:
        return len(self._conns)

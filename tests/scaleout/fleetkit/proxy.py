"""A small TCP proxy between roost and Redis that misbehaves on request (no toxiproxy here).

* ``delay_s``: hold every reply this long before passing it on;
* ``blackhole``: accept connections and never answer;
* ``drop_reply_to(sha_or_bytes, times=1)``: forward a matching request (so
  Redis executes it), then swallow its reply and cut the connection: a lost
  reply after the fact, the case idempotent scripts exist for.

Threads, not asyncio: it lives in the test process beside the fake Anthropic.
redis-py sends one command and waits for its reply on a connection, so "the
next chunk from the server" is that command's reply.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field


@dataclass
class _Rule:
    needle: bytes
    times: int


@dataclass
class FaultyProxy:
    upstream_port: int
    delay_s: float = 0.0
    blackhole: bool = False
    port: int = 0
    dropped: int = 0
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _socks: set = field(default_factory=set)

    def start(self) -> "FaultyProxy":
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="faulty-proxy").start()
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def drop_reply_to(self, needle: bytes, times: int = 1) -> None:
        with self._lock:
            self._rules.append(_Rule(needle, times))

    def stop(self) -> None:
        self._stop.set()
        self._server.close()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            _close(sock)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._socks.add(client)
        if self.blackhole:
            self._stop.wait()
            _close(client)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._socks.add(upstream)
        state = {"drop_next": False}
        threading.Thread(target=self._pump_requests, args=(client, upstream, state), daemon=True).start()
        self._pump_replies(upstream, client, state)

    def _pump_requests(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        try:
            while True:
                chunk = client.recv(65536)
                if not chunk:
                    break
                with self._lock:
                    for rule in self._rules:
                        if rule.times > 0 and rule.needle in chunk:
                            rule.times -= 1
                            state["drop_next"] = True
                            break
                upstream.sendall(chunk)
        except OSError:
            pass
        _close(upstream)

    def _pump_replies(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        try:
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                if state["drop_next"]:
                    with self._lock:
                        self.dropped += 1
                    break  # the command ran; its reply is lost with the connection
                if self.delay_s and self._stop.wait(self.delay_s):
                    break
                client.sendall(chunk)
        except OSError:
            pass
        _close(client)
        _close(upstream)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass

"""Debian's redis-server, started by the tests on 127.0.0.1 on a random port.

Nothing is installed or left running: the server lives in a temp dir and is
killed on teardown. Faults: ``pause()``/``resume()`` (SIGSTOP/SIGCONT),
``kill()`` (SIGKILL), ``restart()`` with the same dir (AOF replay when
persistence is on), ``wipe()`` (restart empty).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


class RedisServer:
    def __init__(self, directory: Path, *, persistence: bool = True, password: str | None = None):
        self.directory = directory
        self.persistence = persistence
        self.password = password
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f"default:{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--save", "", "--daemonize", "no", "--protected-mode", "no",
                "--logfile", str(self.directory / "redis.log"), "--databases", "1"]
        if self.persistence:
            args += ["--appendonly", "yes", "--appendfsync", "always", "--appenddirname", "aof"]
        else:
            args += ["--appendonly", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        return args

    def start(self) -> "RedisServer":
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if not self.port:
                self.port = free_port()
            self.proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _ping(self.port):
                    return self
                time.sleep(0.02)
            self.proc.kill()
            self.proc.wait()
            self.port = 0  # a bind race: try another port
        raise RuntimeError(f"redis-server did not start; see {self.directory / 'redis.log'}")

    def restart(self) -> "RedisServer":
        """Start again on the same port and dir (the port may need a moment to free up)."""
        port = self.port
        self.stop()
        deadline = time.monotonic() + 10
        while True:
            self.port = port
            self.proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            until = time.monotonic() + 10
            while time.monotonic() < until and self.proc.poll() is None:
                if _ping(self.port):
                    return self
                time.sleep(0.02)
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not restart")
            self.proc.kill()
            self.proc.wait()
            time.sleep(0.1)

    def wipe(self) -> "RedisServer":
        """Restart with no data at all (a server that lost its disk, or had no persistence)."""
        self.stop()
        for child in ("aof", "dump.rdb"):
            path = self.directory / child
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        return self.restart()

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def persistence_bytes(self) -> bytes:
        """Everything the server wrote to disk (AOF files and any RDB)."""
        blobs = []
        for path in sorted(self.directory.rglob("*")):
            if path.is_file() and path.name != "redis.log":
                blobs.append(path.read_bytes())
        return b"".join(blobs)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)

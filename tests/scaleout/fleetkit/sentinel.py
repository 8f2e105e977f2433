"""A replicated Redis on 127.0.0.1: a primary, a replica and three Sentinels (Debian's binaries).

Every node lives in one temp dir with ``appendfsync always``; nothing is
installed or left running. The nodes are two ``RedisServer`` objects whose
roles swap with each failover: ``primary()`` asks the Sentinels which one is
the primary now. Faults:

* ``failover()``: ``SENTINEL FAILOVER`` (the primary is healthy, the replica
  is promoted in order);
* ``kill_primary()``: SIGKILL of the primary; the Sentinels notice it after
  ``down_after_ms`` and promote the replica; ``heal()`` starts the dead node
  again as a replica of the new primary (its AOF replays first, then it
  resyncs).

``wait_stable()`` returns once the Sentinels agree on a primary that has an
online replica they know about, i.e. once the next failover can happen.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .redisserver import RedisServer, _ping, free_port

REDIS_SENTINEL = shutil.which("redis-sentinel")
SERVICE = "roost"


class ReplicaServer(RedisServer):
    """A RedisServer that starts as a replica of ``leader`` (a port) when one is set."""

    leader: int = 0

    def argv(self) -> list[str]:
        args = super().argv()
        if self.leader:
            args += ["--replicaof", "127.0.0.1", str(self.leader)]
        # A promoted node must not wait for its old primary's backlog to answer writes.
        return args + ["--repl-diskless-sync", "no", "--repl-timeout", "5"]


class SentinelNode:
    def __init__(self, directory: Path, primary_port: int, down_after_ms: int, failover_timeout_ms: int):
        self.directory = directory
        self.primary_port = primary_port
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> "SentinelNode":
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            self.port = free_port()
            conf = self.directory / "sentinel.conf"  # Sentinel rewrites it: one per node
            conf.write_text("\n".join([
                f"port {self.port}", "bind 127.0.0.1", "daemonize no", "protected-mode no",
                f"dir {self.directory}", f"logfile {self.directory / 'sentinel.log'}",
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary_port} 2",
                f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}",
                f"sentinel failover-timeout {SERVICE} {self.failover_timeout_ms}",
                f"sentinel parallel-syncs {SERVICE} 1", ""]))
            self.proc = subprocess.Popen([REDIS_SENTINEL, str(conf)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _ping(self.port):
                    return self
                time.sleep(0.02)
            self.stop()
        raise RuntimeError(f"redis-sentinel did not start; see {self.directory / 'sentinel.log'}")

    def client(self):
        import redis

        return redis.Redis("127.0.0.1", self.port, socket_timeout=2, socket_connect_timeout=2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class SentinelCluster:
    def __init__(self, directory: Path, *, down_after_ms: int = 800, failover_timeout_ms: int = 2000):
        self.directory = directory
        self.nodes = [ReplicaServer(directory / "node-a"), ReplicaServer(directory / "node-b")]
        self.sentinels: list[SentinelNode] = []
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.failovers = 0  # completed failovers
        self._asked = 0  # which Sentinel the next SENTINEL FAILOVER goes to

    # -- life cycle ----------------------------------------------------------------
    def start(self) -> "SentinelCluster":
        first, second = self.nodes
        first.start()
        second.leader = first.port
        second.start()
        self.sentinels = [SentinelNode(self.directory / f"sentinel-{i}", first.port, self.down_after_ms,
                                       self.failover_timeout_ms).start() for i in range(3)]
        self.wait_stable()
        return self

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        for node in self.nodes:
            node.kill()

    # -- what a client configures ----------------------------------------------------
    @property
    def sentinel_addresses(self) -> list[str]:
        return [f"127.0.0.1:{s.port}" for s in self.sentinels]

    def options(self) -> dict[str, object]:
        """The ``[state.redis]`` settings of a machine using this cluster."""
        return {"sentinels": self.sentinel_addresses, "service": SERVICE}

    # -- roles -------------------------------------------------------------------------
    def primary_port(self) -> int:
        """The port the Sentinels' majority names as the primary."""
        votes: dict[int, int] = {}
        for sentinel in self.sentinels:
            try:
                addr = sentinel.client().sentinel_get_master_addr_by_name(SERVICE)
            except Exception:
                continue
            if addr:
                votes[int(addr[1])] = votes.get(int(addr[1]), 0) + 1
        return max(votes, key=votes.get) if votes else 0

    def primary(self) -> ReplicaServer:
        port = self.primary_port()
        return next(n for n in self.nodes if n.port == port)

    def replica(self) -> ReplicaServer:
        port = self.primary_port()
        return next(n for n in self.nodes if n.port != port)

    def _stable(self, strict: bool = True) -> bool:
        port = self.primary_port()
        if not port:
            return False
        ports, seeing = set(), 0
        for sentinel in self.sentinels:
            try:
                addr = sentinel.client().sentinel_get_master_addr_by_name(SERVICE)
                replicas = sentinel.client().sentinel_slaves(SERVICE)
            except Exception:
                return False
            ports.add(int(addr[1]) if addr else 0)
            good = [r for r in replicas if "s_down" not in r.get("flags", "") and "o_down" not in
                    r.get("flags", "") and r.get("master-link-status") == "ok" and
                    int(r.get("master-port", 0)) == port]
            seeing += bool(good)
        if ports != {port} or (strict and seeing < 2):  # a majority sees a replica it could promote
            return False
        try:
            info = self.node(port).client().info("replication")
        except Exception:
            return False
        return info.get("role") == "master" and info.get("connected_slaves", 0) >= 1 and \
            all(info.get(f"slave{i}", {}).get("state") == "online" for i in range(info["connected_slaves"]))

    def wait_stable(self, timeout: float = 60.0, strict: bool = True) -> None:
        """``strict``: a majority of Sentinels also see the replica as promotable (what an
        automatic failover after a crash needs; ``failover()`` retries NOGOODSLAVE itself)."""
        deadline = time.monotonic() + timeout
        while not self._stable(strict):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sentinel cluster did not settle; see {self.directory}")
            time.sleep(0.1)

    def wait_agreed(self, timeout: float = 30.0) -> int:
        """Until every Sentinel names the same primary (redis-py asks them in turn and trusts
        the first answer, so one that has not heard of a failover yet names the old one)."""
        deadline = time.monotonic() + timeout
        while True:
            named = set()
            for sentinel in self.sentinels:
                try:
                    named.add(int(sentinel.client().sentinel_get_master_addr_by_name(SERVICE)[1]))
                except Exception:
                    named.add(0)
            if len(named) == 1 and 0 not in named:
                return named.pop()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Sentinels do not agree on a primary: {named}")
            time.sleep(0.05)

    def node(self, port: int) -> ReplicaServer:
        return next(n for n in self.nodes if n.port == port)

    # -- faults ----------------------------------------------------------------------------
    def failover(self, timeout: float = 30.0, drop_clients: bool = True) -> int:
        """SENTINEL FAILOVER (retried while a Sentinel still settles the previous one); the new port.

        ``drop_clients=False`` demotes the old primary without dropping its clients: a
        client's next write there meets READONLY (the Sentinels then take ~10 s to settle)."""
        old = self.primary_port()
        deadline = time.monotonic() + timeout
        while True:
            try:  # NOGOODSLAVE from a Sentinel that has not seen the replica yet: try the next one
                self.sentinels[self._asked % 3].client().sentinel_failover(SERVICE)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                self._asked += 1
                time.sleep(0.1)
        self._wait_new_primary(old, deadline)
        self._demote(self.node(old), self.primary_port(), drop_clients)
        self.failovers += 1
        return self.primary_port()

    def _demote(self, old: ReplicaServer, new_port: int, drop_clients: bool = True) -> None:
        """What the Sentinels send the old primary once they see it again (about 10 s later,
        their INFO period): REPLICAOF the new one and drop its clients. Sent now, and the
        clients dropped again once its link is up (the Sentinels reconnect and read INFO at
        once), so the cluster settles in a second or two and the next failover can start."""
        def kill_clients(*first: tuple[str, ...]) -> None:
            try:
                pipe = old.client().pipeline(transaction=True)
                for command in first:
                    pipe.execute_command(*command)
                pipe.execute_command("CLIENT", "KILL", "TYPE", "normal")
                pipe.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
                pipe.execute()
            except Exception:
                pass  # CLIENT KILL dropped our own connection too: the reply is lost, the commands ran

        if not drop_clients:
            old.client().execute_command("REPLICAOF", "127.0.0.1", str(new_port))
            return
        kill_clients(("REPLICAOF", "127.0.0.1", str(new_port)))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if old.client().info("replication").get("master_link_status") == "up":
                    break
            except Exception:
                pass
            time.sleep(0.05)
        kill_clients()

    def kill_primary(self) -> ReplicaServer:
        """SIGKILL the primary now; returns the dead node (bring it back with ``heal``)."""
        dead = self.primary()
        os.kill(dead.proc.pid, signal.SIGKILL)
        dead.proc.wait()
        dead.proc = None
        return dead

    def heal(self, dead: ReplicaServer, timeout: float = 60.0) -> int:
        """Wait for the Sentinels to promote the survivor, restart ``dead`` as its replica."""
        deadline = time.monotonic() + timeout
        self._wait_new_primary(dead.port, deadline)
        dead.leader = self.primary_port()
        dead.restart()
        self.failovers += 1
        return dead.leader

    def _wait_new_primary(self, old: int, deadline: float) -> None:
        while True:
            port = self.primary_port()
            if port and port != old:
                try:
                    if self.node(port).client().info("replication").get("role") == "master":
                        return
                except Exception:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no new primary after the failover; see {self.directory}")
            time.sleep(0.05)

"""Test-only kill points and I/O trace for roost subprocesses (never shipped).

The reliability harness puts this directory on PYTHONPATH of the roost
processes it starts. Without the variables below it does nothing at all.

ROOST_TEST_KILL_AT=OP:K[,OP:K...]
    SIGKILL this process just before the K-th call of OP (the call does not
    happen). OP is one of
      write   os.write, and writes through a file object from os.fdopen
      fsync   os.fsync
      replace os.replace
      send    an HTTP request about to leave (httpx transport)
      recv    an HTTP response's headers read (the server already answered)
      body    an HTTP response body read to its end (the answer is in memory)
ROOST_TEST_PAUSE_AT=OP:K:SECONDS
    Sleep SECONDS just before the K-th call of OP (to widen a race window).
ROOST_TEST_TRACE=PATH
    Append one line per event to PATH: ``monotonic pid event detail``
    (opens, writes, fsyncs, replaces, mkdir/rmdir of lock directories,
    lock file attempt/acquire/release, HTTP send/recv/body, kill). Each line is one O_APPEND
    write, so many processes can share one trace file.

The variables are removed from os.environ at start-up, so children that roost
starts (``roost exec``) are neither killed nor traced.
"""

from __future__ import annotations

import os
import sys


def _parse_points(spec: str) -> dict[str, set[int]]:
    points: dict[str, set[int]] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        op, _, k = item.partition(":")
        points.setdefault(op, set()).add(int(k))
    return points


def _parse_pauses(spec: str) -> dict[tuple[str, int], float]:
    pauses = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        op, k, seconds = item.split(":")
        pauses[(op, int(k))] = float(seconds)
    return pauses


class _Points:
    """Counts calls per operation; kills, pauses and traces as configured."""

    def __init__(self, kill: dict[str, set[int]], pauses: dict[tuple[str, int], float], trace: str | None):
        import time

        self._time = time
        self.kill = kill
        self.pauses = pauses
        self.counts: dict[str, int] = {}
        self.trace_path = trace
        self._trace_fd: int | None = None
        self._raw_write = os.write
        self._raw_open = os.open

    def hit(self, op: str, detail: str = "") -> None:
        k = self.counts.get(op, 0) + 1
        self.counts[op] = k
        self.trace(op, f"{k} {detail}")
        pause = self.pauses.get((op, k))
        if pause:
            self._time.sleep(pause)
        if k in self.kill.get(op, ()):
            self.trace("kill", f"{op}:{k}")
            import signal

            os.kill(os.getpid(), signal.SIGKILL)

    def trace(self, event: str, detail: str = "", at: float | None = None) -> None:
        if not self.trace_path:
            return
        if self._trace_fd is None:
            self._trace_fd = self._raw_open(self.trace_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.set_inheritable(self._trace_fd, False)
        moment = self._time.monotonic() if at is None else at
        line = f"{moment:.6f}\t{os.getpid()}\t{event}\t{detail}".replace("\n", " ") + "\n"
        self._raw_write(self._trace_fd, line.encode("utf-8", "replace"))


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return f"fd{fd}"


def _wrap_os(points: _Points) -> None:
    raw_write, raw_fsync, raw_replace = os.write, os.fsync, os.replace
    raw_mkdir, raw_rmdir, raw_fdopen = os.mkdir, os.rmdir, os.fdopen

    def write(fd, data):
        if fd != points._trace_fd:
            points.hit("write", _fd_path(fd))
        return raw_write(fd, data)

    def fsync(fd):
        points.hit("fsync", _fd_path(fd if isinstance(fd, int) else fd.fileno()))
        return raw_fsync(fd)

    def replace(src, dst, *args, **kwargs):
        points.hit("replace", f"{os.fspath(src)} -> {os.fspath(dst)}")
        return raw_replace(src, dst, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        result = raw_mkdir(path, *args, **kwargs)
        if os.fspath(path).endswith(".lock"):
            points.trace("mkdir_lock", os.fspath(path))
        return result

    def rmdir(path, *args, **kwargs):
        if os.fspath(path).endswith(".lock"):
            points.trace("rmdir_lock", os.fspath(path))
        return raw_rmdir(path, *args, **kwargs)

    def fdopen(fd, mode="r", *args, **kwargs):
        handle = raw_fdopen(fd, mode, *args, **kwargs)
        if any(c in mode for c in "wax+"):
            return _CountingFile(handle, points)
        return handle

    os.write, os.fsync, os.replace = write, fsync, replace
    os.mkdir, os.rmdir, os.fdopen = mkdir, rmdir, fdopen
    if points.trace_path:
        _trace_opens(points)


def _trace_opens(points: _Points) -> None:
    """``open`` events (path and flags), to learn which command reads which file."""
    import builtins
    import io

    raw_open, raw_os_open = builtins.open, os.open

    def traced_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            points.trace("open", f"{mode} {os.fspath(file)!s}")
        return raw_open(file, mode, *args, **kwargs)

    def traced_os_open(path, flags, *args, **kwargs):
        points.trace("open", f"{flags} {os.fspath(path)!s}")
        return raw_os_open(path, flags, *args, **kwargs)

    builtins.open = io.open = traced_open
    os.open = traced_os_open


class _CountingFile:
    """A file object whose write() is a kill point like os.write."""

    def __init__(self, handle, points: _Points):
        self._handle = handle
        self._points = points

    def write(self, data):
        self._points.hit("write", _fd_path(self._handle.fileno()))
        return self._handle.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)

    def __iter__(self):
        return iter(self._handle)

    def __getattr__(self, name):
        return getattr(self._handle, name)


def _patch_httpx(module, points: _Points) -> None:
    # httpx checks the stream's type, so the watcher must be an AsyncByteStream.
    watched = type("WatchedStream", (_WatchedStream, module.AsyncByteStream), {})
    transport = module.AsyncHTTPTransport
    raw_async = transport.handle_async_request

    async def handle_async_request(self, request):
        points.hit("send", f"{request.method} {request.url.path}")
        response = await raw_async(self, request)
        points.hit("recv", str(response.status_code))
        response.stream = watched(response.stream, points)
        return response

    transport.handle_async_request = handle_async_request

    sync_transport = module.HTTPTransport
    raw_sync = sync_transport.handle_request

    def handle_request(self, request):
        points.hit("send", f"{request.method} {request.url.path}")
        response = raw_sync(self, request)
        points.hit("recv", str(response.status_code))
        return response

    sync_transport.handle_request = handle_request


class _WatchedStream:
    """An async body stream that marks the moment the body has been read to its end."""

    def __init__(self, stream, points: _Points):
        self._stream = stream
        self._points = points

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk
        self._points.hit("body")

    async def aclose(self):
        await self._stream.aclose()


def _patch_filelock(module, points: _Points) -> None:
    lock_class = module.FileLock
    raw_acquire, raw_release = lock_class.acquire, lock_class.release

    def acquire(self, *args, **kwargs):
        points.trace("lock_try", str(self.lock_file))
        try:
            proxy = raw_acquire(self, *args, **kwargs)
        except BaseException as exc:
            points.trace("lock_fail", f"{self.lock_file} {type(exc).__name__}")
            raise
        points.trace("lock_acq", str(self.lock_file))
        return proxy

    def release(self, *args, **kwargs):
        was_locked = self.is_locked
        letting_go = points._time.monotonic()  # before the unlock: the next holder may trace its
        result = raw_release(self, *args, **kwargs)  # acquire before this process writes a line
        if was_locked and not self.is_locked:
            points.trace("lock_rel", str(self.lock_file), at=letting_go)
        return result

    lock_class.acquire, lock_class.release = acquire, release


def _patch_docstore(module, points: _Points) -> None:
    """roost's own lock files (``hold_lock_file``: flock, as filelock takes them on POSIX)."""
    raw_hold = module.hold_lock_file

    def hold_lock_file(path, timeout):
        points.trace("lock_try", str(path))
        try:
            release = raw_hold(path, timeout)
        except BaseException as exc:
            points.trace("lock_fail", f"{path} {type(exc).__name__}")
            raise
        points.trace("lock_acq", str(path))

        def traced_release():
            letting_go = points._time.monotonic()  # before the unlock, as for filelock above
            release()
            points.trace("lock_rel", str(path), at=letting_go)

        return traced_release

    module.hold_lock_file = hold_lock_file


def _install_import_hooks(points: _Points) -> None:
    import importlib.abc

    patchers = {
        "httpx._transports.default": lambda m: _patch_httpx(m, points),
        "filelock": lambda m: _patch_filelock(m, points),  # where roost falls back to it (no flock)
        "roost_core.docstore": lambda m: _patch_docstore(m, points),
    }

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            patch = patchers.get(name)
            if patch is None:
                return None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
            else:
                return None
            raw_exec = spec.loader.exec_module

            def exec_module(module):
                raw_exec(module)
                patch(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Finder())


def _arm() -> None:
    kill = os.environ.pop("ROOST_TEST_KILL_AT", "")
    pause = os.environ.pop("ROOST_TEST_PAUSE_AT", "")
    trace = os.environ.pop("ROOST_TEST_TRACE", "")
    if not (kill or pause or trace):
        return
    points = _Points(_parse_points(kill), _parse_pauses(pause), trace or None)
    points.trace("start", " ".join(_cmdline()))
    _wrap_os(points)
    _install_import_hooks(points)


def _cmdline() -> list[str]:
    try:
        with open("/proc/self/cmdline", "rb") as handle:
            return [a.decode("utf-8", "replace") for a in handle.read().split(b"\0") if a][1:4]
    except OSError:
        return []


_arm()

"""Running ``roost exec``'s child: inherited stdio, signals passed on, a timeout that kills.

* Without a timeout the child shares roost's process group, so a terminal's
  Ctrl+C reaches it directly. A signal the terminal sent is not passed on
  again (that would be a double Ctrl+C); one sent to roost by a process
  (``kill -INT``, a supervisor's SIGTERM) is.
* With a timeout the child gets its own process group, so the whole tree can
  be killed; if roost owns the terminal's foreground, the child is given it
  (and roost takes it back afterwards), so interactive children still work.
* After passing on a terminating signal, or at the timeout, the child gets
  ``grace_s`` to exit before SIGKILL, so roost always ends in bounded time and
  its finally blocks (lease release) run.

On Linux the wait uses ``sigtimedwait``, which tells a terminal's signal
(SI_KERNEL) from a process's; elsewhere plain handlers are used and SIGINT is
passed on only to a child in its own group.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping

if TYPE_CHECKING:
    import threading

NOT_FOUND_RC = 127
NOT_EXECUTABLE_RC = 126
TIMEOUT_RC = 124
SI_KERNEL = 0x80
TERMINATING = {signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM),
               getattr(signal, "SIGQUIT", signal.SIGTERM)}
FROM_TERMINAL = {signal.SIGINT, getattr(signal, "SIGQUIT", signal.SIGINT)}


class CannotStart(Exception):
    """The command could not be started; ``rc`` is the shell's 126 or 127."""

    def __init__(self, message: str, rc: int):
        super().__init__(message)
        self.rc = rc


def resolve(command: str, path: str | None) -> str:
    """The executable for ``command`` as a shell would find it, or CannotStart."""
    if os.sep in command or (os.altsep and os.altsep in command):
        if not os.path.exists(command):
            raise CannotStart(f"{command}: No such file or directory", NOT_FOUND_RC)
        if os.path.isdir(command):
            raise CannotStart(f"{command}: Is a directory", NOT_EXECUTABLE_RC)
        if not os.access(command, os.X_OK):
            raise CannotStart(f"{command}: Permission denied", NOT_EXECUTABLE_RC)
        return command
    found = shutil.which(command, path=path)
    if found is None:
        raise CannotStart(f"{command}: command not found", NOT_FOUND_RC)
    return found


def exit_status(returncode: int) -> int:
    """A shell's view of the child's end: its code, or 128 + the signal that killed it."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class ChildRun:
    argv: list[str]
    env: Mapping[str, str]
    timeout_s: float | None = None
    grace_s: float = 5.0
    on_start: Callable[[int], None] = lambda pid: None
    # Set: the child's stdout is a pipe; every byte is copied to roost's stdout unchanged and
    # handed to this callable on the way (stream-json passive health). Unset: inherited.
    stdout_tap: Callable[[bytes], None] | None = None
    timed_out: bool = False
    forwarded: list[int] = field(default_factory=list)
    _proc: subprocess.Popen | None = None
    _own_group: bool = False
    _kill_at: float | None = None

    def run(self) -> int:
        """Start the child, wait for it, return its exit status (124 on timeout)."""
        executable = resolve(self.argv[0], self.env.get("PATH", os.defpath))
        self._own_group = self.timeout_s is not None
        foreground = self._own_group and _owns_terminal()
        waiter = _SigWaiter() if hasattr(signal, "sigtimedwait") else _HandlerWaiter()
        waiter.start()
        try:
            self._proc = self._spawn(executable, waiter.child_mask, foreground)
            pump = _start_pump(self._proc, self.stdout_tap) if self.stdout_tap is not None else None
            self.on_start(self._proc.pid)
            rc = self._wait(waiter)
            if pump is not None:
                pump.join(PUMP_DRAIN_S)  # the rest of the pipe (a grandchild may hold it open: not forever)
        finally:
            waiter.stop()
            if foreground:
                _take_terminal_back()
        return TIMEOUT_RC if self.timed_out else exit_status(rc)

    def _spawn(self, executable: str, child_mask: set[int] | None, foreground: bool) -> subprocess.Popen:
        own_group = self._own_group

        def prepare() -> None:  # runs in the child between fork and exec
            if child_mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, child_mask)
            if own_group:
                os.setpgid(0, 0)
            if foreground:
                old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
                try:
                    os.tcsetpgrp(sys.stdin.fileno(), os.getpid())
                except OSError:
                    pass
                signal.signal(signal.SIGTTOU, old)

        try:
            proc = subprocess.Popen(self.argv, executable=executable, env=dict(self.env),
                                    preexec_fn=prepare if os.name == "posix" else None, close_fds=True,
                                    stdout=subprocess.PIPE if self.stdout_tap is not None else None)
        except PermissionError:
            raise CannotStart(f"{self.argv[0]}: Permission denied", NOT_EXECUTABLE_RC) from None
        except FileNotFoundError:
            raise CannotStart(f"{self.argv[0]}: command not found", NOT_FOUND_RC) from None
        except OSError as exc:
            raise CannotStart(f"{self.argv[0]}: {exc.strerror}", NOT_EXECUTABLE_RC) from None
        if own_group and hasattr(os, "setpgid"):  # Windows has no process groups of this kind
            try:
                os.setpgid(proc.pid, proc.pid)  # both sides, as shells do: no race with a fast child
            except OSError:
                pass
        return proc

    def _wait(self, waiter: "_SigWaiter | _HandlerWaiter") -> int:
        assert self._proc is not None
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        while True:
            rc = self._proc.poll()
            if rc is not None:
                return rc
            now = time.monotonic()
            if deadline is not None and now >= deadline and not self.timed_out:
                self.timed_out = True
                self._signal_child(signal.SIGTERM)
                self._kill_at = now + self.grace_s
            if self._kill_at is not None and now >= self._kill_at:
                self._signal_child(signal.SIGKILL)
                self._kill_at = None
            wake = [t for t in (deadline if not self.timed_out else None, self._kill_at) if t is not None]
            pause = min([0.5] + [max(t - now, 0.0) for t in wake])
            for sig, from_terminal in waiter.wait(pause):
                self._on_signal(sig, from_terminal)

    def _on_signal(self, sig: int, from_terminal: bool) -> None:
        if sig not in TERMINATING:
            return
        if from_terminal and sig in FROM_TERMINAL and not self._own_group:
            return  # the terminal delivered it to the child already
        self.forwarded.append(sig)
        self._signal_child(sig)
        if self._kill_at is None:
            self._kill_at = time.monotonic() + self.grace_s

    def _signal_child(self, sig: int) -> None:
        assert self._proc is not None
        try:
            if self._own_group:
                os.killpg(self._proc.pid, sig)
            else:
                self._proc.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass


PUMP_CHUNK = 1 << 20
PUMP_DRAIN_S = 5.0
F_SETPIPE_SZ = 1031  # Linux: a 1 MiB pipe lets the pump move big chunks
F_GETPIPE_SZ = 1032


def _start_pump(proc: subprocess.Popen, tap: Callable[[bytes], None]) -> "threading.Thread":
    import threading

    assert proc.stdout is not None
    src = os.dup(proc.stdout.fileno())  # the pump owns this descriptor; Popen's file object goes now
    proc.stdout.close()
    proc.stdout = None
    dst = _stdout_fd()
    big_pipe(src)
    big_pipe(dst)  # roost's stdout, when a pipe: the reader drains a chunk while the tap scans the next
    from .teepump import pass_through  # Linux: tee+splice, the tap on a thread of its own; else pump()

    thread = threading.Thread(target=pass_through, args=(src, dst, tap, pump), name="roost-stdout-pump",
                              daemon=True)
    thread.start()
    return thread


def big_pipe(fd: int) -> None:
    """Linux: a pipe's buffer raised to PUMP_CHUNK (never lowered), so the pump moves 1 MiB at a time."""
    try:
        import fcntl

        if fcntl.fcntl(fd, F_GETPIPE_SZ) < PUMP_CHUNK:
            fcntl.fcntl(fd, F_SETPIPE_SZ, PUMP_CHUNK)
    except (ImportError, OSError):  # not Linux, not a pipe, over the user's pipe quota (EPERM): as it is
        pass


def _stdout_fd() -> int:
    try:
        sys.stdout.flush()
        return sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return 1


def pump(src: int, dst: int, tap: Callable[[bytes], None] | None) -> None:
    """Copy ``src`` to ``dst`` until EOF, every byte unchanged; ``tap`` sees each chunk after it is written.

    A reader that goes away (EPIPE) ends the copy and closes ``src``, so the
    child sees the broken pipe as it would have without roost in between. A
    tap that raises is dropped; the copy goes on.
    """
    try:
        while True:
            try:
                chunk = os.read(src, PUMP_CHUNK)
            except InterruptedError:
                continue
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                try:
                    view = view[os.write(dst, view):]
                except InterruptedError:
                    continue
                except BlockingIOError:  # a stdout left non-blocking by whoever shares it: wait, not drop
                    _wait_writable(dst)
            if tap is not None:
                try:
                    tap(chunk)
                except Exception:
                    tap = None
    except OSError:  # EPIPE and friends: stop reading, the child gets its broken pipe
        pass
    finally:
        try:
            os.close(src)
        except OSError:
            pass
        if tap is not None:
            try:
                tap(b"")  # end of stream: flush a last line without a newline
            except Exception:
                pass


def _wait_writable(fd: int) -> None:
    import select

    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    poller.poll(1000)


class _SigWaiter:
    """Linux: block the signals and collect them with sigtimedwait (which knows who sent them)."""

    def __init__(self) -> None:
        self.watched = set(TERMINATING) | {signal.SIGCHLD}
        self.child_mask: set[int] | None = None

    def start(self) -> None:
        self.child_mask = signal.pthread_sigmask(signal.SIG_BLOCK, self.watched)

    def wait(self, timeout: float) -> list[tuple[int, bool]]:
        got = []
        info = signal.sigtimedwait(self.watched, timeout)
        while info is not None:
            if info.si_signo != signal.SIGCHLD:
                got.append((info.si_signo, info.si_code == SI_KERNEL))
            info = signal.sigtimedwait(self.watched, 0)
        return got

    def stop(self) -> None:
        while signal.sigtimedwait(self.watched, 0) is not None:
            pass  # the child is gone: what was aimed at it has nowhere to go
        if self.child_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.child_mask)


class _HandlerWaiter:
    """Elsewhere: Python handlers queue the signals; a terminal's SIGINT cannot be told apart."""

    def __init__(self) -> None:
        self.child_mask: set[int] | None = None
        self._queue: list[int] = []
        self._previous: dict[int, object] = {}

    def start(self) -> None:
        for sig in TERMINATING:
            if signal.getsignal(sig) is not None:
                self._previous[sig] = signal.signal(sig, lambda signum, frame: self._queue.append(signum))

    def wait(self, timeout: float) -> list[tuple[int, bool]]:
        if not self._queue:
            time.sleep(min(timeout, 0.05))
        got, self._queue[:] = list(self._queue), []
        return [(sig, sig in FROM_TERMINAL) for sig in got]

    def stop(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def _owns_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno()) and os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


def _take_terminal_back() -> None:
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(sys.stdin.fileno(), os.getpgrp())
    except (OSError, ValueError):
        pass
    finally:
        signal.signal(signal.SIGTTOU, old)

"""Progress for slow probe batches: shown only when it helps, and never on the hot path.

A probe batch (``status``, ``probe``, ``pick``, ``exec`` before its child
starts) shows "probing 12/50" on stderr only when stderr is a terminal, the
run is neither ``--json`` nor ``--quiet``, and the batch is still running
``DELAY_S`` after it began. The display is a renderer plugin's ``progress``
view (rich: a spinner and a bar). The renderer is looked up when the batch
starts (the plugin host is not thread-safe) and drawn when the timer fires,
so a fast batch, a pipe and a warm cache never import rich.

A command that draws its own screen (``roost top``) installs an observer with
``observing``: it is told how many probes a batch runs and gets each record
as it lands, and no stderr display is shown.
"""

from __future__ import annotations

import contextlib
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Iterator, Protocol

if TYPE_CHECKING:
    from .context import RoostContext
    from .records import HealthRecord

DELAY_S = 0.3
LABEL = "probing"


class BatchObserver(Protocol):
    def begin(self, total: int) -> None: ...

    def landed(self, name: str, record: "HealthRecord | None") -> None: ...

    def end(self) -> None: ...


_observer: ContextVar[BatchObserver | None] = ContextVar("roost_batch_observer", default=None)


@contextlib.contextmanager
def observing(observer: BatchObserver) -> Iterator[BatchObserver]:
    """Send this thread's probe batches to ``observer`` (and show no stderr progress)."""
    token = _observer.set(observer)
    try:
        yield observer
    finally:
        _observer.reset(token)


def observed() -> bool:
    """True when a caller installed an observer (it wants each record as it lands)."""
    return _observer.get() is not None


class _Silent:
    def begin(self, total: int) -> None:
        pass

    def landed(self, name: str, record: "HealthRecord | None") -> None:
        pass

    def end(self) -> None:
        pass


class StderrProgress:
    """Counts landed probes; after DELAY_S starts the renderer's live display on stderr."""

    def __init__(self, ctx: "RoostContext", renderer: Any, delay_s: float = DELAY_S) -> None:
        self._ctx, self._renderer, self._delay = ctx, renderer, delay_s
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._display: Any = None
        self._closed = False
        self.total = self.done = 0

    def begin(self, total: int) -> None:
        self.total = total
        if total <= 0:
            return
        self._timer = threading.Timer(self._delay, self._show)
        self._timer.daemon = True
        self._timer.start()

    def _state(self) -> dict[str, Any]:
        return {"label": LABEL, "total": self.total, "done": self.done}

    def _show(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                self._display = self._renderer.render("progress", self._state(), {}, self._ctx)
            except Exception:  # a display problem never sinks the probes
                self._display = None

    def landed(self, name: str, record: "HealthRecord | None") -> None:
        with self._lock:
            self.done += 1
            if self._display is not None:
                self._display.update(self._state())

    def end(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            display, self._display = self._display, None
        if display is not None:
            display.stop()  # transient: the line goes away before the table or the child's output


def wants_progress(ctx: "RoostContext") -> bool:
    out = ctx.out
    if out.json_mode or out.quiet:
        return False
    try:
        return bool(out.stderr.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def for_batch(ctx: "RoostContext") -> BatchObserver:
    """The observer of one probe batch: the installed one, stderr progress, or nothing."""
    installed = _observer.get()
    if installed is not None:
        return installed
    if not wants_progress(ctx):
        return _Silent()
    from .render import find_renderer

    renderer = find_renderer(ctx, "progress")
    return StderrProgress(ctx, renderer) if renderer is not None else _Silent()


def provisional_record(item: Any) -> "HealthRecord":
    """A landed probe's record before the batch commits (what an observer draws at once)."""
    from .probe.local import build_record

    verdict = item.verdict
    return build_record(item.local, verdict.health, usage=verdict.usage, error=verdict.error,
                        retry_after_s=verdict.retry_after_s, checked_at=item.checked_at, source="probe")

"""hold_lock_file: the files backend's locks, flock as filelock takes it (real processes)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

import pytest

from roost_core.docstore import hold_lock_file

pytestmark = pytest.mark.skipif(os.name == "nt", reason="flock: POSIX")

HOLDER = {
    "filelock": "import filelock, sys, time\n"
                "lock = filelock.FileLock(sys.argv[1], mode=0o600); lock.acquire()\n"
                "print('held', flush=True); time.sleep(float(sys.argv[2]))\n",
    "roost": "import sys, time\n"
             "from roost_core.docstore import hold_lock_file\n"
             "release = hold_lock_file(sys.argv[1], 5)\n"
             "print('held', flush=True); time.sleep(float(sys.argv[2])); release()\n",
}


def _holder(kind: str, path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER[kind], str(path), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.parametrize("kind", ["filelock", "roost"])
def test_a_lock_held_by_another_process_times_out_then_is_taken_once_released(tmp_path, kind):
    path = tmp_path / "x.lock"
    holder = _holder(kind, path, 1.0)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        hold_lock_file(str(path), 0.3)
    assert 0.25 <= time.monotonic() - started < 0.9
    release = hold_lock_file(str(path), 10)  # waits for the holder to exit
    holder.wait(timeout=10)
    assert holder.returncode == 0
    release()
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600


def test_filelock_waits_for_roost_s_lock(tmp_path):
    import filelock

    path = tmp_path / "x.lock"
    release = hold_lock_file(str(path), 1)
    with pytest.raises(filelock.Timeout):
        filelock.FileLock(str(path)).acquire(timeout=0.2)
    release()
    lock = filelock.FileLock(str(path))
    lock.acquire(timeout=1)
    lock.release()


def test_a_symlink_or_fifo_at_the_lock_path_is_refused_and_never_followed(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    link = tmp_path / "link.lock"
    link.symlink_to(target)
    with pytest.raises(OSError) as raised:
        hold_lock_file(str(link), 0.1)
    assert raised.value.errno == errno.ELOOP and target.read_text() == "keep"
    fifo = tmp_path / "fifo.lock"
    os.mkfifo(fifo)
    with pytest.raises(OSError) as raised:
        hold_lock_file(str(fifo), 0.1)
    assert raised.value.errno == errno.EINVAL


def test_without_flock_filelock_s_soft_lock_takes_the_lock(tmp_path, monkeypatch):
    """A filesystem without flock: filelock's soft lock (an exclusively created <path>.soft)."""
    import fcntl

    def no_flock(fd, operation):
        raise OSError(errno.ENOSYS, "flock is not supported here")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    path = tmp_path / "x.lock"
    release = hold_lock_file(str(path), 1)
    assert (tmp_path / "x.lock.soft").exists()
    with pytest.raises(TimeoutError):
        hold_lock_file(str(path), 0.2)
    release()
    assert not (tmp_path / "x.lock.soft").exists()
    hold_lock_file(str(path), 0.2)()


def test_without_fcntl_as_on_windows_filelock_takes_the_same_path(tmp_path, monkeypatch):
    import filelock

    monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` fails, as on Windows
    taken = []
    real_acquire = filelock.FileLock.acquire
    monkeypatch.setattr(filelock.FileLock, "acquire",
                        lambda self, *a, **k: (taken.append(self.lock_file), real_acquire(self, *a, **k))[1])
    release = hold_lock_file(str(tmp_path / "x.lock"), 1)
    release()
    assert taken == [str(tmp_path / "x.lock")]

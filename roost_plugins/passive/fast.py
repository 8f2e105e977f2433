"""``roost statusline`` and ``roost hook`` without click or pluggy: they run after every turn.

Registered in the ``roost.fast`` entry-point group (docs/PLUGINS.md, "Fast
commands"): the launcher (roost_core.launch) calls ``statusline``/``hook``
before anything else is imported. With the files state backend and only the
built-in passive sources installed, this module parses the observation with
the built-in parsers and writes the reading into ``<config>/passive.json``
exactly as the backend would (the document's lock file, atomic replace,
0600). Anything else — another state backend, a config.toml that mentions the
backend or the passive plugins, a site's own passive source, ``--help`` or an
unknown flag — goes to the full CLI (roost_plugins.passive.commands).

Never fails the caller: whatever happens (``--help`` included) the exit status
is 0, nothing of roost's own is printed on an error, and the failure is noted
in ``<config>/debug.log``. Never probes, never touches the network.
"""

import os
import sys
import time

from .where import config_dir, debug_note, resolve_profile
from .where import private_dir as _private_dir

MAX_STDIN = 1 << 20
LOCK_WAIT_S = 2.0
BUILTIN_PASSIVE = "roost_plugins.passive."
# Words in config.toml that may change what these commands do: take the full path then.
CONFIG_WORDS = (b"backend", b"passive", b"statusline", b"hook", b"stream")
TEMP_SUFFIX = ".roost-tmp"  # roost_core.atomic's: a killed writer's temp file is swept by the next writer


def statusline(args: list) -> int:
    return main("statusline", args)


def hook(args: list) -> int:
    return main("hook", args)


def main(kind: str, args: list) -> int:
    """The fast path, else the full CLI; exit 0 whatever happens (claude's status line and hook)."""
    try:
        if run(kind, args) is not None:
            return 0
        from roost_core.api import run_cli

        code = run_cli([kind, *args])
        if code not in (0, None):
            debug_note(os.environ, f"{kind}: the full path ended with {code}")
    except SystemExit as exc:
        if exc.code not in (0, None):
            debug_note(os.environ, f"{kind}: exit {exc.code}")
    except BaseException as exc:  # never fail claude's status line or hook
        debug_note(os.environ, f"{kind}: {type(exc).__name__}: {exc}")
    return 0


def run(kind: str, args: list) -> "int | None":
    """Handle ``roost statusline|hook ARGS``; None means "use the full CLI"."""
    env = os.environ
    parsed = _parse_args(kind, args)
    if parsed is False or not _fast_path_allowed(env):
        return None
    then, json_mode = parsed
    stdin = read_stdin()
    ours = ""
    seen: dict = {}
    try:
        ours = observe(kind, stdin, env, time.time(), seen)
    except Exception as exc:  # the status line must never fail: note it, print nothing of ours
        debug_note(env, f"{kind}: {type(exc).__name__}: {exc}")
        ours, seen["note"] = "", f"{type(exc).__name__}: {exc}"
    theirs = run_then(then, stdin, env) if kind == "statusline" and then else ""
    if json_mode:
        print_envelope(kind, seen, ours, theirs)
    elif kind == "statusline":
        print_status(ours, theirs)
    return 0


def read_stdin() -> bytes:
    """What claude piped in (at most MAX_STDIN); nothing from a terminal (run by hand: never wait on a person)."""
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return b""
        return sys.stdin.buffer.read(MAX_STDIN)
    except (OSError, ValueError, AttributeError):
        return b""


def _parse_args(kind: str, args: list):
    """(``--then CMD`` (statusline only), ``--json``); False for anything the full CLI must parse."""
    then, json_mode = None, False
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if kind == "statusline" and arg == "--then":
            then = rest.pop(0) if rest else None  # a bare --then: no command to run (never click's usage error)
        elif kind == "statusline" and arg.startswith("--then="):
            then = arg[len("--then="):]
        elif arg == "--json":
            json_mode = True
        else:
            return False
    return then, json_mode


def _fast_path_allowed(env) -> bool:
    if sys.platform == "win32":  # another config dir and no fcntl: the full path knows both
        return False
    if env.get("CLAUDE_LB_STATE_BACKEND", "files") not in ("", "files"):
        return False
    try:
        with open(os.path.join(config_dir(env), "config.toml"), "rb") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = b""
    except OSError:
        return False
    if any(word in text for word in CONFIG_WORDS):
        return False
    return not _site_passive_sources()


def _site_passive_sources() -> bool:
    """True when an installed distribution declares a passive source that is not built in."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if not (name.endswith(".dist-info") or name.endswith(".egg-info")):
                continue
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt"), "rb") as handle:
                    text = handle.read()
            except OSError:
                continue
            if b"passive." not in text:
                continue
            for line in text.splitlines():
                key, sep, value = line.partition(b"=")
                if sep and key.strip().startswith(b"passive.") and \
                        not value.strip().startswith(BUILTIN_PASSIVE.encode()):
                    return True
    return False


# -- the observation ------------------------------------------------------------------

def observe(kind: str, stdin: bytes, env, now: float, seen: "dict | None" = None) -> str:
    """Parse, record for the current profile; return roost's part of the status line.

    ``seen`` (for ``--json``) gets the profile, the reading and what went wrong.
    """
    import json

    from . import parsers

    seen = {} if seen is None else seen
    found = seen["profile"] = resolve_profile(env)
    try:
        doc = json.loads(stdin) if stdin.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        debug_note(env, f"{kind}: stdin is not a JSON document ({len(stdin)} bytes)")
        doc = None
    if kind == "hook":
        from .transcript import with_transcript_quota

        doc = with_transcript_quota(doc)  # the window of a rate_limit, from the failed turn's transcript row
    reading = seen["reading"] = (parsers.parse_statusline if kind == "statusline" else parsers.parse_hook)(doc, now)
    if found is None:
        seen["note"] = "not running under a roost profile: nothing recorded"
    elif reading is None:
        seen["note"] = (parsers.statusline_problem(doc, stdin) if kind == "statusline"
                        else "not a StopFailure event roost acts on") + "; nothing recorded"
    if found is not None and reading is not None:
        name, directory = found
        record(env, name, reading, _mtime_ns(os.path.join(directory, ".credentials.json")))
        seen["recorded"] = True
    if kind != "statusline" or found is None:
        return ""
    if reading is None:  # an error, or no rate_limits yet: nothing of roost's own
        debug_note(env, f"statusline: {seen['note']}")
        return ""
    return parsers.short_line(found[0], reading)


def _mtime_ns(path: str):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def record(env, name: str, reading: dict, cred_mtime_ns) -> None:
    """Read-modify-write ``passive.json`` under the document's lock (the files backend's way)."""
    import fcntl
    import json

    from . import doc as passive_doc

    directory = config_dir(env)
    locks = os.path.join(directory, "locks")
    _private_dir(directory)
    _private_dir(locks)
    fd = os.open(os.path.join(locks, passive_doc.LOCK_FILE), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                 0o600)
    try:
        _flock(fcntl, fd)
        path = os.path.join(directory, passive_doc.DOC + ".json")
        try:
            with open(path, "rb") as handle:
                doc = json.loads(handle.read())
        except FileNotFoundError:
            doc = {}
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            debug_note(env, f"passive.json unreadable ({type(exc).__name__}); rebuilding it")
            doc = {}
        if passive_doc.repeats(doc, name, reading, cred_mtime_ns):
            return  # the same figures a moment ago: no write (a status line may run every second)
        new = passive_doc.with_reading(doc, name, reading, cred_mtime_ns)
        _replace(path, (json.dumps(new, indent=1, sort_keys=True) + "\n").encode())
    finally:
        os.close(fd)  # releases the flock


def _flock(fcntl, fd: int) -> None:
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError("the passive document's lock is held by another process") from None
            time.sleep(0.01)



def _replace(path: str, data: bytes) -> None:
    """Same-dir temp (the name roost_core.atomic sweeps), fsync, rename: readers see old or new."""
    tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.{os.getpid()}x{time.monotonic_ns() % 10**9}{TEMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# -- output ----------------------------------------------------------------------------

def run_then(command: str, stdin: bytes, env) -> str:
    """The user's own status line command, given the same stdin; its output, or '' on any failure."""
    import subprocess

    try:
        done = subprocess.run(command, shell=True, input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=10, env=dict(env))
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        debug_note(env, f"statusline --then: {type(exc).__name__}: {exc}")
        return ""
    if done.returncode != 0:
        debug_note(env, f"statusline --then exited {done.returncode}")
    return done.stdout.decode("utf-8", "replace").rstrip("\n")


def envelope(kind: str, seen: dict, ours: str, theirs: str) -> dict:
    """``--json``: {data: {profile, recorded, reading, line?, note}, meta: {command}}; times in ISO 8601."""
    found, reading = seen.get("profile"), seen.get("reading")
    data = {"profile": found[0] if found else None, "recorded": bool(seen.get("recorded")),
            "reading": _iso_reading(reading) if reading else None, "note": seen.get("note")}
    if kind == "statusline":
        data["line"] = f"{ours} · {theirs}" if ours and theirs else ours or theirs
    return {"data": data, "meta": {"command": kind}}


def _iso(epoch):
    from datetime import datetime, timezone

    if not isinstance(epoch, (int, float)) or isinstance(epoch, bool):
        return epoch
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _iso_reading(reading: dict) -> dict:
    windows = {name: {**block, "resets_at": _iso(block.get("resets_at")), "observed_at": _iso(block.get("observed_at"))}
               for name, block in (reading.get("windows") or {}).items() if isinstance(block, dict)}
    return {**reading, "observed_at": _iso(reading.get("observed_at")), "until": _iso(reading.get("until")),
            "windows": windows}


def print_envelope(kind: str, seen: dict, ours: str, theirs: str) -> None:
    import json

    try:
        sys.stdout.write(json.dumps(envelope(kind, seen, ours, theirs), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError, TypeError):
        pass


def print_status(ours: str, theirs: str) -> None:
    """roost's part, then the user's command's output (after a separator on the first line)."""
    text = f"{ours} · {theirs}" if ours and theirs else ours or theirs
    if not text:
        return
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass

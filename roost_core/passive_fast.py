"""``roost statusline`` and ``roost hook`` without click or pluggy: they run after every turn.

The launcher (roost_core.launch) calls ``run`` before anything else is
imported. With the files state backend and only the built-in passive sources
installed, this module parses the observation with the built-in parsers and
writes the reading into ``<config>/passive.json`` exactly as the backend
would (the document's lock file, atomic replace, 0600). Anything else — another
state backend, a config.toml that mentions the backend or the passive plugins, a
site's own passive source, ``--help`` or an unknown flag — returns None and the
full CLI (roost_plugins.passive.commands) handles the call.

Never fails the caller: an error prints nothing of roost's own, exits 0 and
is noted in ``<config>/debug.log``. Never probes, never touches the network.
"""

import os
import sys
import time

MAX_STDIN = 1 << 20
DEBUG_LOG = "debug.log"
DEBUG_LOG_MAX = 1 << 20
LOCK_WAIT_S = 2.0
BUILTIN_PASSIVE = "roost_plugins.passive."
# Words in config.toml that may change what these commands do: take the full path then.
CONFIG_WORDS = (b"backend", b"passive", b"statusline", b"hook", b"stream")
TEMP_SUFFIX = ".roost-tmp"  # roost_core.atomic's: a killed writer's temp file is swept by the next writer


def run(kind: str, args: list) -> "int | None":
    """Handle ``roost statusline|hook ARGS``; None means "use the full CLI"."""
    env = os.environ
    then = _parse_args(kind, args)
    if then is False or not _fast_path_allowed(env):
        return None
    try:
        stdin = sys.stdin.buffer.read(MAX_STDIN) if sys.stdin is not None else b""
    except (OSError, ValueError):
        stdin = b""
    ours = ""
    try:
        ours = observe(kind, stdin, env, time.time())
    except Exception as exc:  # the status line must never fail: note it, print nothing of ours
        debug_note(env, f"{kind}: {type(exc).__name__}: {exc}")
        ours = ""
    if kind == "statusline":
        print_status(ours, run_then(then, stdin, env) if then else "")
    return 0


def _parse_args(kind: str, args: list):
    """``--then CMD`` (statusline only); False for anything the full CLI must parse."""
    then = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if kind == "statusline" and arg == "--then" and rest:
            then = rest.pop(0)
        elif kind == "statusline" and arg.startswith("--then="):
            then = arg[len("--then="):]
        else:
            return False
    return then


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


# -- where things are ---------------------------------------------------------------

def config_dir(env) -> str:
    """roost_core.paths.config_dir without pathlib (POSIX; Windows takes the full path)."""
    xdg = env.get("XDG_CONFIG_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "claude-lb")


def profiles_tree(env) -> str:
    override = env.get("CLAUDE_LB_PROFILES_DIR")
    return os.path.expanduser(override) if override else os.path.join(os.path.expanduser("~"), ".claude-profiles")


def _valid_name(name: str) -> bool:
    import re

    return bool(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}", name)) and not name.endswith(".lock")


def resolve_profile(env) -> "tuple[str, str] | None":
    """(name, directory) of the roost profile this claude runs under, else None.

    ``AXIOM_CLAUDE_PROFILE`` first (set by roost exec / pick --export), else the
    profile whose directory is ``CLAUDE_CONFIG_DIR``. Only a profile with a
    credentials file counts: nothing is recorded outside a roost profile.
    """
    tree = profiles_tree(env)
    name = env.get("AXIOM_CLAUDE_PROFILE", "")
    single = env.get("CLAUDE_CONFIG_DIR", "")
    if name:
        if not _valid_name(name):
            return None
        directory = os.path.join(tree, name)
        if os.path.isfile(os.path.join(directory, ".credentials.json")):
            return name, directory
        if name == "default" and single and os.path.isfile(os.path.join(single, ".credentials.json")):
            return name, os.path.expanduser(single)
        return None
    if not single:
        return None
    real = os.path.realpath(os.path.expanduser(single))
    guess = os.path.basename(real.rstrip(os.sep))
    candidates = [guess] if os.path.realpath(os.path.join(tree, guess)) == real else []
    if not candidates:
        try:
            candidates = [n for n in sorted(os.listdir(tree)) if os.path.realpath(os.path.join(tree, n)) == real]
        except OSError:
            candidates = []
    for candidate in candidates:
        directory = os.path.join(tree, candidate)
        if _valid_name(candidate) and os.path.isfile(os.path.join(directory, ".credentials.json")):
            return candidate, directory
    # roost's single-profile fallback: $CLAUDE_CONFIG_DIR with its own credentials is profile "default"
    # (roost_core.profiles.discover), unless the tree has a profile of that name.
    if os.path.isfile(os.path.join(real, ".credentials.json")) and \
            not os.path.isfile(os.path.join(tree, "default", ".credentials.json")):
        return "default", os.path.expanduser(single)
    return None


# -- the observation ------------------------------------------------------------------

def observe(kind: str, stdin: bytes, env, now: float) -> str:
    """Parse, record for the current profile; return roost's part of the status line."""
    import json

    from roost_plugins.passive import parsers

    found = resolve_profile(env)
    try:
        doc = json.loads(stdin) if stdin.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        debug_note(env, f"{kind}: stdin is not a JSON document ({len(stdin)} bytes)")
        doc = None
    reading = (parsers.parse_statusline if kind == "statusline" else parsers.parse_hook)(doc, now)
    if found is not None and reading is not None:
        name, directory = found
        record(env, name, reading, _mtime_ns(os.path.join(directory, ".credentials.json")))
    if kind != "statusline" or found is None:
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

    from . import passive_doc

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


def _private_dir(directory: str) -> None:
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)


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


def debug_note(env, message: str) -> None:
    """One line in ``<config>/debug.log`` (O_APPEND, 0600, emptied past 1 MiB); never raises."""
    try:
        directory = config_dir(env)
        _private_dir(directory)
        path = os.path.join(directory, DEBUG_LOG)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            if os.fstat(fd).st_size > DEBUG_LOG_MAX:
                os.ftruncate(fd, 0)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            os.write(fd, f"{stamp} pid={os.getpid()} {message}\n".encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except Exception:
        pass

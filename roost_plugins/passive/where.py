"""Where a running claude's roost profile is, and roost's debug log: stdlib only, no pluggy.

Shared by the passive plugin's two paths: the ``roost statusline`` / ``roost
hook`` fast path (fast.py, run by the launcher before click or pluggy is
imported) and the full path (recording.py, through the state backend).
POSIX paths: on Windows the full path takes over.
"""

import os
import time

DEBUG_LOG = "debug.log"
DEBUG_LOG_MAX = 1 << 20
CREDENTIALS = ".credentials.json"
# roost_core.profiles.KEYCHAIN_MARKER: a profile whose login claude keeps in the macOS keychain (no file).
KEYCHAIN_MARKER = ".roost-keychain"


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
    profile whose directory is ``CLAUDE_CONFIG_DIR``. Only a profile as roost
    discovers one counts (a credentials file, or the keychain marker of a login
    claude keeps in the macOS keychain): nothing is recorded outside a roost profile.
    """
    tree = profiles_tree(env)
    name = env.get("AXIOM_CLAUDE_PROFILE", "")
    single = env.get("CLAUDE_CONFIG_DIR", "")
    if name:
        if not _valid_name(name):
            return None
        directory = os.path.join(tree, name)
        if _is_profile(directory):
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
        if _valid_name(candidate) and _is_profile(directory):
            return candidate, directory
    # roost's single-profile fallback: $CLAUDE_CONFIG_DIR with its own credentials is profile "default"
    # (roost_core.profiles.discover), unless the tree has a profile of that name.
    if os.path.isfile(os.path.join(real, ".credentials.json")) and \
            not _is_profile(os.path.join(tree, "default")):
        return "default", os.path.expanduser(single)
    return None


def _is_profile(directory: str) -> bool:
    """A profile of the tree, as roost_core.profiles.discover counts one: a login file or the keychain marker."""
    return os.path.isfile(os.path.join(directory, CREDENTIALS)) or \
        os.path.isfile(os.path.join(directory, KEYCHAIN_MARKER))


def private_dir(directory: str) -> None:
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)



def debug_note(env, message: str) -> None:
    """One line in ``<config>/debug.log`` (O_APPEND, 0600, emptied past 1 MiB); never raises."""
    try:
        directory = config_dir(env)
        private_dir(directory)
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

"""Which filesystem a path lives on, from ``/proc/self/mountinfo`` (Linux).

File locks do not exclude across machines, so a profiles tree on a network
or sync filesystem (NFS, CIFS, FUSE: sshfs, rclone, ...) can be refreshed
from two machines at once, and a refresh token is single-use. ``doctor``
warns about it (docs/RELIABILITY.md, "Limits"); ``network_kind`` is the shared test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

_NETWORK_TYPES = frozenset({"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "ncpfs", "afs", "9p",
                            "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "davfs", "ocfs2", "gfs2"})


@dataclass(frozen=True)
class Mount:
    mount_point: str
    fstype: str
    source: str


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as ``\\ooo`` octal."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and len(field[i + 1:i + 4]) == 3 and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    """Each line: ``id parent maj:min root mount_point options [optional...] - fstype source super``."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or not tail:
            continue
        mounts.append(Mount(_unescape(fields[4]), tail[0], _unescape(tail[1]) if len(tail) > 1 else ""))
    return mounts


def mount_for(path: str, mounts: list[Mount]) -> Mount | None:
    """The mount holding ``path`` (longest mount point that is a prefix; the last one wins on ties)."""
    best: Mount | None = None
    for mount in mounts:
        point = mount.mount_point
        inside = point == "/" or path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best.mount_point)):
            best = mount
    return best


def network_kind(fstype: str) -> str | None:
    """``"network"`` or ``"fuse"`` for filesystems shared beyond this machine, else None."""
    base = fstype.lower()
    if base in _NETWORK_TYPES or base.split(".")[0] in _NETWORK_TYPES:
        return "network"
    if base == "fuse" or base.startswith("fuse."):  # fuseblk is a local disk (ntfs-3g)
        return "fuse"
    return None


def filesystem_of(path: Path, mountinfo: Path = MOUNTINFO) -> Mount | None:
    """The mount holding ``path`` (its nearest existing ancestor), or None off Linux."""
    try:
        text = mountinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return mount_for(os.path.realpath(probe), parse_mountinfo(text))

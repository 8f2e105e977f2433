"""Run one roost command on a nearly full filesystem (F9, G6). Needs root and ``unshare -m``.

    unshare -m python diskfull.py WORLD MOUNTPOINT OUT FREE_BYTES -- ROOST_ARGV...

Inside a private mount namespace: mount a 512 KiB tmpfs on MOUNTPOINT, copy
WORLD into it, fill it until only FREE_BYTES (rounded down to pages) remain,
run ROOST_ARGV with ``{WORLD}`` in the environment pointing at the copy,
then copy the world back out to OUT (the tmpfs vanishes with the namespace).
Prints {"rc", "stdout", "stderr"} as JSON.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PAGE = 4096


def fill(mount: Path, free_bytes: int) -> None:
    path = mount / "filler"
    block = b"\0" * PAGE
    with open(path, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(block)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        size = handle.tell()
        handle.truncate(max(0, size - (free_bytes // PAGE) * PAGE))


def main(argv: list[str]) -> int:
    world, mount, out, free_bytes = Path(argv[0]), Path(argv[1]), Path(argv[2]), int(argv[3])
    roost_argv = argv[argv.index("--") + 1:]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", str(mount)], check=True)
    copy = mount / "world"
    shutil.copytree(world, copy, symlinks=True)
    fill(mount, free_bytes)
    env = {k: v.replace("{WORLD}", str(copy)) for k, v in os.environ.items()}
    proc = subprocess.run(roost_argv, env=env, capture_output=True, text=True, timeout=120)
    (mount / "filler").unlink()
    shutil.copytree(copy, out, symlinks=True)
    print(json.dumps({"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""G12 / F10: everything roost creates or rewrites is 0600 (files) / 0700 (dirs).

Under umask 000, 022 and 077, roost itself builds a world from nothing: the
profiles tree and profiles (add), the health cache and platform status
(status), last-pick and picks.log (pick), a refresh over a credentials file
someone made 0644 (refresh), leases (exec), a snapshot, a rename, the usage
log and its marker, and the lock files. Then every file and directory under
the config dir and the tree, and the snapshot, is checked.
"""

from __future__ import annotations

import os
import stat

from relkit import files

UMASKS = (0o000, 0o022, 0o077)


def build_under_umask(rel, mask: int) -> tuple[object, list[str], str]:
    world = rel.sibling(f"umask{mask:03o}")
    seed = f"seed{mask:03o}"
    rel.profile(seed)  # its own tokens, registered with the FTS: each world refreshes its own chain
    source = world.roost_env.home / "src.json"
    source.write_bytes(rel.creds_bytes(seed))
    source.chmod(0o600)
    snapshot = world.roost_env.home / "snap.json"
    world.credential_copies |= {source, snapshot}
    steps = [["add", "a", "--from", str(source)], ["add", "b", "--from", str(source)],
             ["status", "--json"], ["pick", "--json"], ["chmod-a"], ["refresh", "a", "--json"],
             ["exec", "--", "true"], ["snapshot", "a", str(snapshot)], ["rename", "b", "c"],
             ["config", "usage-log", "on"], ["status", "--json"]]
    failures = []
    replaced_mode = ""
    for argv in steps:
        if argv == ["chmod-a"]:  # someone made the credentials world-readable; a refresh must not keep that
            (world.profiles / "a" / ".credentials.json").chmod(0o644)
            continue
        run = world.run(*argv, umask=mask)
        if run.rc != 0:
            failures.append(f"{argv}: {run}")
    replaced_mode = oct(stat.S_IMODE(os.stat(world.profiles / "a" / ".credentials.json").st_mode))
    problems = files.mode_problems([world.config, world.profiles])
    if snapshot.exists() and stat.S_IMODE(os.stat(snapshot).st_mode) != 0o600:
        problems.append(f"{snapshot}: mode {stat.S_IMODE(os.stat(snapshot).st_mode):04o}")
    return world, failures + problems, replaced_mode


def test_g12_modes_under_umask_000_022_077(rel):
    counts, problems, replaced = {}, [], {}
    for mask in UMASKS:
        world, found, replaced[f"{mask:03o}"] = build_under_umask(rel, mask)
        counts[f"{mask:03o}"] = sum(len(d) + len(f) for root in (world.config, world.profiles)
                                    for _, d, f in os.walk(root))
        problems += [f"umask {mask:03o}: {p}" for p in found]
    message = (f"G12: entries checked per umask={counts} -> wrong modes or failed steps={len(problems)}; "
               f"0644 credentials after a refresh became {replaced}")
    print(message)
    assert not problems, message + "\n" + "\n".join(problems[:20])
    assert set(replaced.values()) == {"0o600"}, message

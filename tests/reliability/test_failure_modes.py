"""F4, F5, F6, F12: lost answers, out-of-band rotation, two machines, symlinked credentials.

* F4: the server rotates and the answer is lost (``drop_after_commit``): the
  file is unchanged, exit 8 ("needs a check"), no retry POST.
* F5: another party (a claude child) rotates and writes the file while roost's
  POST is in flight: roost's invalid_grant is not auth_dead, it adopts the new
  pair, and the profile is healthy afterwards.
* F6: two "machines" (two config trees, copies of one login, separate locks):
  the second refresh gets invalid_grant and says so clearly (exit 2).
* F12: two profiles whose credentials are symlinks to one file: concurrent
  refreshes of both make one POST, the links stay links, the target holds the
  live pair; a symlink planted at roost's lock path leaves its victim untouched.
"""

from __future__ import annotations

import json
import os
import shutil

from roost_plugins.fakeserver import TokenBehaviour


def test_f4_answer_lost_after_the_server_rotated(rel):
    rel.profile("p")
    rel.fake.set_token_behaviour("p", TokenBehaviour(drop_after_commit=True))
    before = rel.creds_bytes("p")
    run = rel.run("refresh", "p", "--json")
    posts = len(rel.fake.posts_for("p"))
    print(f"F4: answer dropped after rotation -> rc={run.rc}, file unchanged={rel.creds_bytes('p') == before}, "
          f"POSTs={posts}, needs_check={'needs_check' in run.stdout}")
    assert run.rc == 8 and "needs_check" in run.stdout
    assert rel.creds_bytes("p") == before and posts == 1


def test_f5_out_of_band_rotation_is_adopted_not_auth_dead(rel):
    rel.profile("p")
    path = rel.creds_path("p")

    def claude_refreshes_meanwhile(label: str) -> None:
        access, refresh = rel.fake.rotate_out_of_band(label)
        document = json.loads(path.read_text())
        document["claudeAiOauth"].update(accessToken=access, refreshToken=refresh)
        tmp = path.with_name("claude-writes.tmp")
        tmp.write_text(json.dumps(document))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    rel.fake.set_token_behaviour("p", TokenBehaviour(before_commit=claude_refreshes_meanwhile))
    run = rel.run("refresh", "p", "--json")
    rel.fake.set_token_behaviour("p", TokenBehaviour())
    status = rel.run("status", "--json").json()["data"]
    rows = status if isinstance(status, list) else status.get("profiles", [])
    health = {r["name"]: r["health"] for r in rows}
    print(f"F5: rotated out of band during roost's POST -> rc={run.rc} status="
          f"{run.json().get('data', {}).get('status')}, health afterwards={health.get('p')}, "
          f"file holds the live pair={rel.stored_refresh('p') == rel.fake.live_refresh_token('p')}")
    assert run.rc == 0 and "auth_dead" not in run.stdout
    assert health.get("p") == "ok" and rel.stored_refresh("p") == rel.fake.live_refresh_token("p")


def test_f6_two_machines_sharing_one_login(rel):
    rel.profile("p")
    other = rel.sibling("machine-b")
    (other.profiles / "p").mkdir(parents=True, mode=0o700)
    shutil.copy2(rel.creds_path("p"), other.profiles / "p" / ".credentials.json")
    first = rel.run("refresh", "p", "--json")
    second = other.run("refresh", "p", "--json")
    message = (f"F6: machine A refresh rc={first.rc}; machine B (same login, own locks) rc={second.rc} "
               f"invalid_grant={'invalid_grant' in second.stdout}, server reuse={rel.fake.reuse_count}")
    print(message)
    assert first.rc == 0 and second.rc == 2 and "invalid_grant" in second.stdout, message
    assert "claude login" in second.stdout  # says what to do


def test_f6_network_filesystems_are_recognised():
    from roost_core.mounts import network_kind

    kinds = {fs: network_kind(fs) for fs in ("nfs4", "cifs", "fuse.sshfs", "fuse.rclone", "ext4", "tmpfs", "btrfs")}
    print(f"F6: filesystem classifier -> {kinds}")
    assert all(kinds[fs] for fs in ("nfs4", "cifs", "fuse.sshfs", "fuse.rclone"))
    assert not any(kinds[fs] for fs in ("ext4", "tmpfs", "btrfs"))


def test_f12_symlinked_profiles_share_one_lock_and_one_post(rel):
    rel.profile("shared")
    target = rel.root / "store" / ".credentials.json"
    target.parent.mkdir(mode=0o700)
    shutil.move(str(rel.creds_path("shared")), target)
    os.rmdir(rel.profiles / "shared")
    for name in ("one", "two"):
        (rel.profiles / name).mkdir(mode=0o700)
        (rel.profiles / name / ".credentials.json").symlink_to(target)
    rel.fake.set_token_behaviour("shared", TokenBehaviour(delay_s=0.4))
    runs = rel.run_many([["refresh", "one", "--json"], ["refresh", "two", "--json"]] * 5)
    links = all((rel.profiles / n / ".credentials.json").is_symlink() for n in ("one", "two"))
    stored = json.loads(target.read_text())["claudeAiOauth"]["refreshToken"]
    posts = len(rel.fake.posts_for("shared"))
    message = (f"F12: 10 refreshes of two profiles linked to one file -> POSTs={posts}, links kept={links}, "
               f"target holds the live pair={stored == rel.fake.live_refresh_token('shared')}, "
               f"exit codes={sorted({r.rc for r in runs})}")
    print(message)
    rel.credential_copies.add(target)
    assert posts == 1 and links and stored == rel.fake.live_refresh_token("shared"), message
    assert all(r.rc == 0 for r in runs), message


def test_f12_a_planted_symlink_at_a_lock_path_leaves_its_victim_alone(rel):
    from roost_core.docstore import lock_file_name as _lock_file_name

    rel.profile("p")
    victim = rel.root / "victim.txt"
    victim.write_text("precious\n")
    assert rel.run("status", "--json").rc == 0  # creates <config>/locks
    for name in ("doc:health", "doc:last-pick", "doc:refreshes",
                 "refresh:" + os.path.realpath(rel.creds_path("p"))):
        link = rel.config / "locks" / _lock_file_name(name)
        link.unlink(missing_ok=True)
        link.symlink_to(victim)
    runs = [rel.run("refresh", "p", "--json"), rel.run("pick", "--json")]
    print(f"F12: lock paths replaced by symlinks to a victim -> exit codes {[r.rc for r in runs]}, "
          f"victim unchanged={victim.read_text() == 'precious' + chr(10)}")
    assert victim.read_text() == "precious\n" and oct(victim.stat().st_mode & 0o777) == "0o644"
    assert all("Traceback" not in r.stderr + r.stdout and "unexpected " not in r.stderr + r.stdout for r in runs), runs
    assert runs[0].rc == 9 and "symbolic links" in runs[0].stdout, runs[0]  # a semantic code: never 1 (UNEXPECTED)

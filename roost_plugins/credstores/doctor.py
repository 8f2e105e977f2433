"""The ``credential-store`` doctor check: per profile, which store holds the live copy of its
login and whether a stray second copy exists; claude's orphaned lock directories.

Keychain items are inspected by their attributes only (``find-generic-password``
without ``-w``: no secret read, no access prompt). Never writes anything.
"""

from __future__ import annotations

import os
import time
from typing import Any

from roost_core.api import CheckResult, credential_store, current_platform, format_duration, hookimpl

LOCK_NAMES = (".oauth_refresh.lock", ".storage-write.lock")


def orphan_locks(directory: Any, stale_s: float, now: float) -> list[dict[str, Any]]:
    """claude's lock directories for ``directory`` that nobody has touched for ``stale_s``.

    A killed claude leaves them behind; on Windows claude never reclaims them
    (every refresh then fails). roost's next refresh of the profile takes them
    over by the same rule it uses everywhere (stale window, or an owner record
    proving the holder dead).
    """
    found = []
    legacy = os.path.realpath(directory) + ".lock"
    for path in [os.path.join(directory, name) for name in LOCK_NAMES] + [legacy]:
        try:
            age = now - os.lstat(path).st_mtime
        except OSError:
            continue
        if age > stale_s:
            found.append({"path": path, "age_s": round(age, 1)})
    return found


class CredentialStoreCheck:
    name = "credential-store"
    needs_network = False

    def run(self, ctx: Any) -> list[CheckResult]:
        platform = current_platform(ctx)
        try:
            store = credential_store(ctx)
        except Exception as exc:  # a broken store plugin is a finding
            return [CheckResult(self.name, "fail", getattr(exc, "message", str(exc)), {"platform": platform})]
        stale = float(ctx.settings.get("lock_stale"))
        results = []
        for profile in ctx.profiles():
            results.append(self._one(profile, store, platform, stale))
        return results or [CheckResult(self.name, "skip", f"no profiles ({store.name} store, {platform})",
                                       {"platform": platform, "store": store.name})]

    def _one(self, profile: Any, store: Any, platform: str, stale: float) -> CheckResult:
        name = f"{self.name}:{profile.name}"
        report = dict(store.inspect(profile))
        report.update(profile=profile.name, platform=platform)
        orphans = orphan_locks(profile.directory, stale, time.time())
        report["orphan_locks"] = orphans
        live = report.get("live")
        where = {"keychain": f"keychain item {report.get('keychain_item')!r}",
                 "file": str(profile.credentials_path)}.get(live, live) if isinstance(live, str) else live
        problems = []
        if report.get("keychain") == "unavailable":
            problems.append(f"the keychain is unavailable ({report.get('reason')}): roost will not refresh "
                            "this profile until it answers")
        if report.get("stray"):
            problems.append(f"a stray second copy: {profile.credentials_path} beside the keychain item "
                            "(claude reads the keychain first; two copies of one refresh token drift apart). "
                            "The next refresh by roost or claude removes the file")
        for orphan in orphans:
            problems.append(f"orphaned claude lock {orphan['path']} (untouched for "
                            f"{format_duration(orphan['age_s'])}); roost's next refresh takes it over")
        if live is None and report.get("keychain") != "unavailable":
            problems.append("no store holds a login for it")
        if problems:
            return CheckResult(name, "warn", "; ".join(problems), report)
        message = f"live copy in {where}"
        if report.get("protection"):
            message += f" ({report['protection']})"
        return CheckResult(name, "ok", message, report)


@hookimpl
def roost_register_doctor_checks() -> CredentialStoreCheck:
    return CredentialStoreCheck()

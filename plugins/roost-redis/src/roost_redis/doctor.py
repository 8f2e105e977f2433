"""``roost doctor`` check for the redis state backend (skipped unless it is the configured one).

Reports: store reachable, initialised and not reset; persistence good enough
that an acknowledged rotation survives a crash (AOF + ``appendfsync always``,
read with CONFIG GET when the ACL allows it); TLS off loopback; local journal
entries pending or set aside; replicas, their lag, and every rotation not yet
on a replica (read from the store, naming the machine that rotated it).
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl
from roost_core.api import RoostError
from roost_core.api import CheckResult

NAME = "state-redis"


class RedisStateCheck:
    name = NAME
    needs_network = True

    def run(self, ctx: Any) -> list[CheckResult]:
        if ctx.settings.get("state_backend") != "redis":
            return [CheckResult(NAME, "skip", "state backend is not redis")]
        try:
            backend = ctx.state
            from .commands import local_only
            from .restore import store_status

            status = store_status(backend)
        except RoostError as exc:
            return [CheckResult(NAME, "fail", exc.message, {"backend": "redis"})]
        results = [CheckResult(f"{NAME}-reachable", "ok",
                               f"redis {status['server_version']} at {status['url']}", {"url": status["url"]})]
        if not status["initialised"]:
            results.append(CheckResult(f"{NAME}-epoch", "fail",
                                       "store not initialised or reset: run 'roost state init' (new fleet) "
                                       "or 'roost state restore' (after a reset)"))
        else:
            results.append(CheckResult(f"{NAME}-epoch", "ok", f"epoch {status['epoch']}"))
        if status["appendonly"] is None:
            results.append(CheckResult(f"{NAME}-persistence", "warn",
                                       "cannot read the persistence settings (CONFIG is not granted); make sure "
                                       "the server runs appendonly yes + appendfsync always"))
        elif status["appendonly"] != "yes" or status["appendfsync"] != "always":
            results.append(CheckResult(f"{NAME}-persistence", "warn",
                                       f"appendonly={status['appendonly']} appendfsync={status['appendfsync']}: "
                                       "a crash can lose an acknowledged rotation (and the account)"))
        else:
            results.append(CheckResult(f"{NAME}-persistence", "ok", "appendonly yes, appendfsync always"))
        if not status["tls"] and not local_only(backend.settings):
            results.append(CheckResult(f"{NAME}-tls", "warn", "credentials travel without TLS (use rediss://)"))
        if status["pending_journal"]:
            results.append(CheckResult(f"{NAME}-journal", "warn",
                                       f"{status['pending_journal']} rotated credential(s) not yet committed; "
                                       "the next refresh commits them"))
        from .commands import replication_lines, replication_warnings

        replication = replication_warnings(status)
        results.append(CheckResult(f"{NAME}-replication", "warn" if replication else "ok",
                                   "; ".join(replication) or "; ".join(replication_lines(status)[-3:]),
                                   {"replication": status["replication"], "unreplicated": status["unreplicated"]}))
        if status["journal_conflicts"]:
            results.append(CheckResult(f"{NAME}-journal", "fail",
                                       "journal entries set aside after a conflict: "
                                       + ", ".join(status["journal_conflicts"])))
        return results


@hookimpl
def roost_register_doctor_checks():
    return RedisStateCheck()

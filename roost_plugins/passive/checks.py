"""The ``passive-health`` doctor check: per profile, is passive health wired, and when did a reading last arrive.

Wired means the settings.json claude reads for the profile (its own, or the
shared base file it links to) holds roost's statusLine command and
StopFailure hook (``roost claude-setup --apply`` puts them there). Never
writes anything, never touches the network.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import CheckResult, format_duration, hookimpl, passive_summary


class PassiveHealthCheck:
    name = "passive-health"
    needs_network = False
    level = "warn"

    def run(self, ctx: Any) -> list[CheckResult]:
        from .setup import read_settings, settings_target, wired

        now = ctx.now()
        results = []
        for profile in ctx.profiles():
            target = settings_target(profile.directory)
            try:
                settings = read_settings(target.path) if not target.problem else None
            except Exception as exc:  # a broken settings.json is a finding, not a crash
                settings, target.problem = None, getattr(exc, "message", str(exc))
            state = wired(settings or {})
            summary = passive_summary(ctx, profile.name, now)
            ages = [r["age_s"] for r in summary["readings"].values()]
            last = (f"last passive reading {format_duration(min(ages))} ago" if ages
                    else "no passive reading yet")
            details = {"profile": profile.name, "settings": str(target.path), "shared": target.shared,
                       "statusline": state["statusline"], "hook": state["hook"],
                       "last_passive_at": summary["last_observed_at"],
                       "sources": sorted(summary["readings"])}
            if state["statusline"] and state["hook"]:
                level, what = "ok", "wired"
            else:
                missing = [k for k in ("statusline", "hook") if not state[k]]
                level = "warn"
                what = (f"not wired ({target.problem})" if target.problem
                        else f"not wired: no {' / '.join(missing)} in {target.path} (run 'roost claude-setup --apply')")
            results.append(CheckResult(f"passive-health:{profile.name}", level, f"{profile.name}: {what}; {last}",
                                       details))
        if not results:
            results.append(CheckResult("passive-health", "skip", "no profiles"))
        return results


@hookimpl
def roost_register_doctor_checks():
    return PassiveHealthCheck()

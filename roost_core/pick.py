"""roost pick: the filter ladder, strategy dispatch, explain rows and exit codes.

The ladder lives here, strategies only rank (docs/pick.md):

1. health: auth_dead/auth_expired and throttled profiles are excluded; ok
   profiles are candidates; network_error/unknown ones are candidates ranked
   after every ok one (a throttled record whose reset time has passed counts
   as unknown: it was not re-probed);
2. ``--avoid``; 3. ``--max-cost``; 4. ``--require-ok``; 5. ``--model``;
6. the strategy ranks the ok candidates, then the uncertain ones;
7. ``--count`` takes the first N; 8. ``--fallback`` when nothing survived.

No strategy is special-cased: each is looked up by name in the plugin host.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterable, NoReturn

from . import audit, lastpick
from .errors import AuthRequired, Conflict, Forbidden, RateLimited, RoostError, Unavailable, ValidationError
from .names import validate_name
from .recordbase import record
from .records import (AUTH_BAD, THROTTLED, AuditEvent, Candidate, Health, HealthRecord, LastPick,
                      PickRequest, PickResult, Profile, Ranking, Scored)

if TYPE_CHECKING:
    from .context import RoostContext

EXPORT_VAR = "AXIOM_CLAUDE_PROFILE"
USER_FILTERS = frozenset({"avoid", "max-cost", "model"})


@record
class PickOptions:
    """Every pick flag as given on the command line (None/False/() = not given)."""

    strategy: str | None = None
    count: int = 1
    avoid: tuple[str, ...] = ()
    max_cost: float | None = None
    require_ok: bool = False
    fallback: str | None = None
    warn_at: float | None = None
    stickiness: float | None = None
    model: str | None = None
    auto_refresh: bool = False
    explain: bool = False
    no_cache: bool = False


@record
class PickOutcome:
    results: list[PickResult]
    strategy: str
    rationale: str
    explain: list[dict]
    warnings: list[str]
    fallback_used: bool = False


@record(frozen=True)
class Resolved:
    """The options after settings precedence: flag > env > team > file > default."""

    strategy: str
    avoid: tuple[str, ...]
    max_cost: float | None
    require_ok: bool
    fallback: str | None
    warn_at: float | None
    stickiness_s: float
    count: int
    model: str | None


def resolve(ctx: "RoostContext", options: PickOptions) -> Resolved:
    settings = ctx.settings
    if options.count < 1:
        raise ValidationError(f"--count must be at least 1 (got {options.count})")
    avoid = tuple(settings.get("avoid", tuple(options.avoid) or None))
    for name in avoid:
        validate_name(name, "--avoid profile name")
    fallback = settings.get("fallback", options.fallback)
    if fallback is not None:
        validate_name(fallback, "--fallback profile name")
    model = options.model.strip() if options.model is not None else None
    if options.model is not None and not model:
        raise ValidationError("--model needs a model name (e.g. opus, sonnet)")
    return Resolved(
        strategy=settings.get("strategy", options.strategy),
        avoid=avoid,
        max_cost=settings.get("max_cost", options.max_cost),
        require_ok=bool(settings.get("require_ok", True if options.require_ok else None)),
        fallback=fallback,
        warn_at=settings.get("warn_at", options.warn_at),
        stickiness_s=float(settings.get("stickiness", options.stickiness)),
        count=options.count,
        model=model,
    )


# -- the ladder (pure) -----------------------------------------------------------

def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time (a trailing Z allowed; naive means UTC), or None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def recovery_time(record: HealthRecord) -> datetime | None:
    """When a throttled profile should be usable again, if known."""
    if record.health is Health.SESSION_LIMIT:
        return parse_time(record.session_resets_at) or parse_time(record.valid_until)
    if record.health is Health.WEEKLY_LIMIT:
        return parse_time(record.weekly_resets_at) or parse_time(record.valid_until)
    if record.health is Health.RATE_LIMITED:
        if record.next_probe_at:  # the usage 429 schedule: not before retry-after + 5-15 %
            return parse_time(record.next_probe_at)
        checked = parse_time(record.checked_at)
        if checked is not None and record.retry_after_s:
            from .numbers import server_duration

            wait = server_duration(record.retry_after_s)  # a cache written before the bound: a week at most
            try:
                return checked + timedelta(seconds=wait) if wait is not None else None
            except OverflowError:  # checked_at itself near year 9999
                return None
        return parse_time(record.valid_until)
    return None


def _health_rung(record: HealthRecord, opts: Resolved, now: datetime) -> str | None:
    if record.health in AUTH_BAD:
        return f"health={record.health.value}"
    if record.withheld:  # the state store withholds its credentials for now (its record says why)
        return f"withheld: {record.error}"
    if record.health in THROTTLED:
        until = recovery_time(record)
        if until is None or until > now:
            return f"health={record.health.value}" + (f" until {_iso(until)}" if until else "")
    return None


def _avoid_rung(record: HealthRecord, opts: Resolved, now: datetime) -> str | None:
    return "avoid (--avoid)" if record.name in opts.avoid else None


def _cost_rung(record: HealthRecord, opts: Resolved, now: datetime) -> str | None:
    # Profiles without overage data are never gated: there is no cost signal.
    if opts.max_cost is None or record.overage_pct is None or record.overage_pct < opts.max_cost:
        return None
    return f"overage {record.overage_pct:g}% >= --max-cost {opts.max_cost:g}%"


def _require_ok_rung(record: HealthRecord, opts: Resolved, now: datetime) -> str | None:
    return f"not ok: {record.health.value} (--require-ok)" if opts.require_ok and record.health is not Health.OK else None


# Model families as the limits[] names and the flat seven_day_<family> windows spell them; only
# opus and sonnet have a flat window (opus_pct, sonnet_pct).
MODEL_FAMILIES = ("opus", "sonnet", "haiku")
FLAT_FAMILIES = (("opus", "opus_pct"), ("sonnet", "sonnet_pct"))


def _model_words(label: str) -> list[str]:
    """The lower-case words of a model name or id: "claude-opus-4.5" and "Claude Opus 4.5" give the same."""
    return [w for w in re.split(r"[^a-z0-9.]+", label.lower()) if w]


def _limit_names(limit: dict[str, Any]) -> list[str]:
    """A model_limits entry's display name and id (entries cached before the id was kept have no id)."""
    return [str(limit[key]) for key in ("model", "id") if limit.get(key)]


def _limit_pct(limit: dict[str, Any]) -> float | None:
    percent = limit.get("pct", limit.get("percent"))  # "percent": records cached before 2026-12
    return float(percent) if isinstance(percent, (int, float)) and not isinstance(percent, bool) else None


def _names_match(names: Iterable[str], wanted: list[str]) -> bool:
    """NAME (its words) against a limit's display name and id: the same words, one word of either
    (``opus`` matches "Claude Opus 4.7" and "claude-opus-4-7"), or a limit named for a whole family
    ("Opus", as a passive reading records it) whose word is one of NAME's."""
    for name in names:
        words = _model_words(name)
        if words and (words == wanted or (len(wanted) == 1 and wanted[0] in words)
                      or (len(words) == 1 and words[0] in MODEL_FAMILIES and words[0] in wanted)):
            return True
    return False


def _limits(record: HealthRecord) -> list[dict[str, Any]]:
    return [limit for limit in record.model_limits or [] if isinstance(limit, dict)]


def _flat_families(record: HealthRecord, wanted: list[str]) -> list[tuple[str, float]]:
    """The flat family figures (opus_pct, sonnet_pct) NAME asks for: the family's word is one of its
    words. Only while no limits[] entry with a figure names that family: then the flat figure is a
    copy of such an entry (docs/wire.md, rule 3) and the entries decide, one model each."""
    found = []
    for family, attr in FLAT_FAMILIES:
        pct = getattr(record, attr)
        if pct is None or family not in wanted:
            continue
        if any(family in _model_words(name) for limit in _limits(record) if _limit_pct(limit) is not None
               for name in _limit_names(limit)):
            continue
        found.append((family, float(pct)))
    return found


def model_usage(record: HealthRecord, model: str) -> list[tuple[str, float, str | None]]:
    """(label, percent, resets_at) of every limit this record reports for ``model`` (docs/pick.md).

    The model-scoped ``limits[]`` entries match by display name or id, case-insensitively, as the
    same words or one word of either (``opus`` matches "Claude Opus 4.7"); a NAME whose words hold
    ``opus``/``sonnet`` also reads that family's flat figure while no entry names the family.
    """
    wanted = _model_words(model)
    found: list[tuple[str, float, str | None]] = []
    for limit in _limits(record):  # the limits[] entries first: they name the model
        pct = _limit_pct(limit)
        if pct is not None and _names_match(_limit_names(limit), wanted):
            found.append((_limit_names(limit)[0], pct, limit.get("resets_at")))
    found += [(family, pct, record.weekly_resets_at) for family, pct in _flat_families(record, wanted)]
    return found


def models_seen(records: Iterable[HealthRecord]) -> list[str]:
    """Every model name and id the records report a limit for (sorted, case-insensitively unique)."""
    seen: dict[str, str] = {}
    for record in records:
        names = [name for limit in _limits(record) for name in _limit_names(limit)]
        names += [family for family, attr in FLAT_FAMILIES if getattr(record, attr) is not None]
        for name in names:
            seen.setdefault(name.lower(), name)
    return sorted(seen.values(), key=str.lower)


def unknown_model_warning(records: list[HealthRecord], model: str | None) -> str | None:
    """The warning for a --model NAME no profile reports a limit for (it then filters nothing)."""
    if model is None:
        return None
    wanted = _model_words(model)
    for record in records:
        if any(_names_match(_limit_names(limit), wanted) for limit in _limits(record)) \
                or _flat_families(record, wanted):
            return None
    seen = models_seen(records)
    listed = ", ".join(seen) if seen else "none yet"
    return f"--model {model}: no profile reports a limit for this model (models seen: {listed})"


def _model_rung(record: HealthRecord, opts: Resolved, now: datetime) -> str | None:
    if opts.model is None:
        return None
    for label, pct, resets_at in model_usage(record, opts.model):
        until = parse_time(resets_at)
        if pct >= 100 and (until is None or until > now):
            until_text = f" until {_iso(until)}" if until else ""
            return f"{label} weekly limit at {pct:g}% (--model {opts.model}){until_text}"
    return None


Rung = Callable[[HealthRecord, Resolved, datetime], "str | None"]
LADDER: tuple[tuple[str, Rung], ...] = (
    ("health", _health_rung), ("avoid", _avoid_rung), ("max-cost", _cost_rung),
    ("require-ok", _require_ok_rung), ("model", _model_rung),
)


@record
class Decision:
    """What the ladder and the strategy made of the records."""

    ranked: list[Scored]
    rationale: str
    excluded: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (rung, reason)
    had_candidates: bool = False
    uncertain_only: bool = False


def first_exclusion(record: HealthRecord, opts: Resolved, now: datetime) -> tuple[str, str] | None:
    for rung, check in LADDER:
        reason = check(record, opts, now)
        if reason is not None:
            return rung, reason
    return None


def _call_strategy(strategy: Any, tier: list[Candidate], request: PickRequest) -> Ranking:
    try:
        ranking = strategy.rank(list(tier), request)
        order = list(ranking.order)
        rationale = str(ranking.rationale)
    except RoostError:  # a strategy may reject its own config with a proper exit code
        raise
    except Exception as exc:  # a plugin's bug: the user asked for it by name, so fail clearly
        raise RoostError(f"strategy {strategy.name!r} failed: {type(exc).__name__}: {exc}",
                         details={"strategy": strategy.name}) from None
    allowed = {id(c) for c in tier}
    seen: set[int] = set()
    clean: list[Scored] = []
    for item in order:  # keep only real candidates, once each
        scored = item if isinstance(item, Scored) else Scored(item)
        if id(scored.candidate) in allowed and id(scored.candidate) not in seen:
            seen.add(id(scored.candidate))
            clean.append(scored)
    return Ranking(clean, rationale)


def decide(records: list[HealthRecord], opts: Resolved, strategy: Any, request: PickRequest) -> Decision:
    """Run the ladder over ``records`` (discovery order) and rank the survivors. No I/O."""
    excluded: dict[str, tuple[str, str]] = {}
    ok_tier: list[Candidate] = []
    uncertain: list[Candidate] = []
    for index, record in enumerate(records):
        hit = first_exclusion(record, opts, request.now)
        if hit is not None:
            excluded[record.name] = hit
        else:
            (ok_tier if record.health is Health.OK else uncertain).append(Candidate(record, index))
    rankings = [_call_strategy(strategy, tier, request) for tier in (ok_tier, uncertain) if tier]
    ranked = [s for ranking in rankings for s in ranking.order]
    rationale = rankings[0].rationale if rankings else ""
    uncertain_only = not ok_tier and bool(uncertain)
    if uncertain_only:
        rationale += "; no ok profile, so picking among network_error/unknown"
    return Decision(ranked, rationale, excluded, bool(ok_tier or uncertain), uncertain_only)


# -- failures and their exit codes -----------------------------------------------

def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _earliest(records: Iterable[HealthRecord]) -> str | None:
    times = [t for t in (recovery_time(r) for r in records) if t is not None]
    return _iso(min(times)) if times else None


def diagnose(records: list[HealthRecord], decision: Decision, opts: Resolved, tree: str,
             strategy: str) -> RoostError:
    """The error for "nothing can be picked" (docs/pick.md, "When nothing can be picked")."""
    details: dict[str, Any] = {"strategy": strategy, "profiles": {r.name: r.health.value for r in records}}
    if not records:
        return Unavailable(f"no profiles found in {tree} (import one with 'roost add NAME')",
                           details={**details, "reason": "no_profiles"})
    if opts.require_ok:
        return Forbidden("no profile is ok (--require-ok); see 'roost status'",
                         details={**details, "reason": "require_ok_none", "earliest_recovery_at": _earliest(records)})
    if decision.had_candidates:
        return Unavailable(f"strategy {strategy!r} ranked none of the candidates",
                           details={**details, "reason": "strategy_declined"})
    considered = [r for r in records if decision.excluded.get(r.name, ("", ""))[0] not in USER_FILTERS]
    if not considered:
        return Unavailable("no profile left after --avoid/--max-cost/--model",
                           details={**details, "reason": "all_filtered"})
    if all(r.withheld for r in considered):
        first = considered[0]
        return Conflict(f"no profile can be used right now: {first.error}"
                        + (f" ({len(considered) - 1} more withheld)" if len(considered) > 1 else ""),
                        details={**details, "reason": "all_withheld"})
    healths = {r.health for r in considered}
    earliest = _earliest(considered)
    when = f"; earliest recovery {earliest}" if earliest else ""
    if healths <= AUTH_BAD:
        fix = _auth_fix(considered, tree)
        reason = "all_auth_expired" if healths == {Health.AUTH_EXPIRED} else "all_auth_dead"
        return AuthRequired(f"every profile needs authentication ({', '.join(sorted(h.value for h in healths))}); {fix}",
                            details={**details, "reason": reason})
    if healths == {Health.WEEKLY_LIMIT}:
        return Unavailable(f"every profile has exhausted its weekly limit{when}",
                           details={**details, "reason": "all_weekly_limit", "earliest_recovery_at": earliest})
    if healths & {Health.RATE_LIMITED, Health.SESSION_LIMIT}:  # some profile recovers soon: back off
        return RateLimited(f"every usable profile is throttled{when}; back off and retry",
                           details={**details, "reason": "all_throttled", "earliest_recovery_at": earliest})
    return Unavailable("no profile can be picked (each is auth-bad, exhausted or filtered out); see 'roost status'",
                       details={**details, "reason": "all_terminal", "earliest_recovery_at": earliest})


def _stale_copy(ctx: "RoostContext", error: RoostError) -> RoostError:
    """"Sign in again" is wrong when a shared store answers from this machine's last copy: another
    machine may have rotated those tokens meanwhile (a 401 on a retired one). Unavailable, not auth."""
    if not isinstance(error, AuthRequired):
        return error
    described = ctx.state.describe()
    if not described.get("degraded"):
        return error
    why = described.get("reason") or "the store is unreachable"
    return Unavailable(f"{error.message.split('; ')[0]}, but the state backend is answering from this machine's "
                       f"last copy ({why}), whose tokens another machine may have rotated since: retry once the "
                       "store is back before signing anything in again",
                       details={**error.details, "reason": "backend_degraded",
                                "auth_reason": error.details.get("reason")})


def _auth_fix(records: list[HealthRecord], tree: str) -> str:
    """The hint that works per state: a refresh for auth_expired; for auth_dead, and auth_expired
    without a refresh token (refresh skips both), claude login into the profile's directory, or a
    fresh login imported over it."""
    from .probe.local import needs_login

    dead = sorted(r.name for r in records if needs_login(r.health, r.error))
    fixes = []
    if any(r.health is Health.AUTH_EXPIRED and r.name not in dead for r in records):
        fixes.append("run 'roost refresh --expired' (or pick --auto-refresh)")
    if len(dead) == 1:
        fixes.append(f"sign {dead[0]} in again with 'CLAUDE_CONFIG_DIR={tree.rstrip('/')}/{dead[0]} claude login' "
                     f"(or run 'claude login', then 'roost add {dead[0]} --force')")
    elif dead:
        fixes.append(f"sign {', '.join(dead)} in again with 'CLAUDE_CONFIG_DIR={tree.rstrip('/')}/NAME claude login' "
                     "(or run 'claude login', then 'roost add NAME --force')")
    return "; ".join(fixes)


# -- explain rows ------------------------------------------------------------------

@record
class ExplainRow:
    profile: str
    health: str
    status: str  # "chosen" | "candidate" | "excluded"
    score: float | None = None
    reason: str = ""  # why excluded, or the strategy's note
    rank: int | None = None
    evidence: str = ""  # which evidence decided the health (a probe, the cache, a passive reading)

    def to_dict(self) -> dict[str, Any]:  # by hand: asdict() is slow over 1000 rows
        return {"profile": self.profile, "health": self.health, "status": self.status, "score": self.score,
                "reason": self.reason, "rank": self.rank, "evidence": self.evidence}


def explain_rows(records: list[HealthRecord], decision: Decision, chosen: list[str],
                 notes: dict[str, str], fallback: str | None = None) -> list[dict[str, Any]]:
    ranks = {s.candidate.name: (i + 1, s) for i, s in enumerate(decision.ranked)}
    rows = []
    for record in records:
        name = record.name
        status = "chosen" if name in chosen else "candidate" if name in ranks else "excluded"
        rank, scored = ranks.get(name, (None, None))
        reason = scored.note if scored else decision.excluded.get(name, ("", "not ranked"))[1]
        if scored and record.health in THROTTLED:
            reason = "; ".join(filter(None, [f"{record.health.value} reset time passed, not re-probed", reason]))
        if name in notes:
            reason = f"{reason} ({notes[name]})" if reason else notes[name]
        if name == fallback:
            reason = f"fallback (--fallback); {reason}" if reason else "fallback (--fallback)"
        binding = binding_text(record.binding_limit)
        if binding:
            reason = f"{reason}; {binding}" if reason else binding
        evidence = evidence_text(record)
        if record.evidence:  # a passive reading decided: say so in the table too
            reason = f"{reason}; {evidence}" if reason else evidence
        rows.append(ExplainRow(name, record.health.value, status, scored.score if scored else None,
                               reason, rank, evidence).to_dict())
    return rows


def evidence_text(record: HealthRecord) -> str:
    """Which evidence decided a record: the passive explanation, else its source and when."""
    if record.evidence:
        return record.evidence
    when = f" from {record.observed_at or record.checked_at}" if (record.observed_at or record.checked_at) else ""
    what = EVIDENCE_WORDS.get(f"{record.source} (stale)" if record.stale else record.source)
    return f"{record.source}{when}: {what} decided" if what else f"{record.source}{when}"


# Why a record not decided by a passive reading has its health (pick --explain's evidence).
EVIDENCE_WORDS = {"probe": "a probe just now (no newer passive reading)",
                  "cache": "the cached probe (still valid, no newer passive reading)",
                  "cache (stale)": "the last cached probe (stale: nothing newer could be had)",
                  "local": "the credentials file alone",
                  "store": "the state store, which withholds the credentials for now"}


def binding_text(limit: Any) -> str | None:
    """"binding limit: weekly_scoped (Fable) 100%": the limits[] entry is_active marks."""
    if not isinstance(limit, dict):
        return None
    label = str(limit.get("kind") or "limit")
    if limit.get("model"):
        label += f" ({limit['model']})"
    pct = limit.get("pct")
    shown = f" {pct:g}%" if isinstance(pct, (int, float)) and not isinstance(pct, bool) else ""
    return f"binding limit: {label}{shown}"


def explain_cell(row: dict[str, Any]) -> str:
    """The "Score / why" cell: the score (and note) of a ranked row, else the reason."""
    if row.get("score") is not None:
        cell = f"score={row['score']:.2f}"
        return f"{cell} · {row['reason']}" if row.get("reason") else cell
    return row.get("reason") or "—"


def show_explain(ctx: "RoostContext", strategy: str, rationale: str, rows: list[dict[str, Any]]) -> None:
    """The decision tree on stderr (text mode); JSON mode folds ``rows`` into the envelope instead."""
    from .render import plain_table, render

    data = {"strategy": strategy, "rationale": rationale, "rows": rows}
    if render(ctx, "explain", data, {}):
        return
    status = {"chosen": "<- chosen"}
    table = plain_table(["Profile", "Status", "Score / why"],
                        [[r["profile"], status.get(r["status"], r["status"]), explain_cell(r)] for r in rows])
    ctx.out.say(f"Pick decision (strategy={strategy})\n{table}\nRationale: {rationale}")


# -- I/O around the pure core --------------------------------------------------------

def _load_records(ctx: "RoostContext", profiles: list[Profile], *, force: bool, offline: bool) -> list[HealthRecord]:
    """One record per profile, in discovery order (a missing one reads as unknown)."""
    if not profiles:
        return []
    from .probe import get_records

    got = get_records(ctx, profiles, force=force, offline=offline)
    found = {r.name: r for r in (got.values() if isinstance(got, dict) else got)}
    return [found.get(p.name) or HealthRecord(p.name, Health.UNKNOWN, error="no health record", source="local")
            for p in profiles]


def _has_refresh_token(ctx: "RoostContext", profile: Profile) -> bool:
    from .credentials import Credentials

    try:
        return bool(Credentials.parse(ctx.state.read_credentials(profile)).refresh_token)
    except (OSError, RoostError):
        return False


def _auto_refresh(ctx: "RoostContext", profiles: list[Profile], records: list[HealthRecord],
                  notes: dict[str, str], say: Callable[[str], None]) -> list[HealthRecord]:
    """Refresh auth_expired profiles that hold a refresh token; a failure only leaves them excluded."""
    by_name = {p.name: p for p in profiles}
    targets = []
    for record in records:
        if record.health is not Health.AUTH_EXPIRED or record.name not in by_name:
            continue
        if _has_refresh_token(ctx, by_name[record.name]):
            targets.append(by_name[record.name])
        else:
            notes[record.name] = "no refresh token for --auto-refresh"
    if not targets:
        return records
    from .refresh import refresh_profile

    refreshed = []
    for profile in targets:
        try:
            # force=False: under the refresh lock a token another process just renewed is left alone.
            refresh_profile(ctx, profile, force=False)
        except RoostError as err:
            notes[profile.name] = f"auto-refresh failed: {err.message}"
            say(f"auto-refresh of {profile.name} failed: {err.message}")
        else:
            refreshed.append(profile)
    fresh = {r.name: r for r in _load_records(ctx, refreshed, force=True, offline=False)}
    for name in fresh:
        notes[name] = "refreshed by --auto-refresh"
    return [fresh.get(r.name, r) for r in records]


def _warn_at(results: list[PickResult], threshold: float | None) -> list[str]:
    messages = []
    for result in results if threshold is not None else []:
        record = result.record
        hot = [f"{label} {pct:g}%" for label, pct in
               (("session", record.session_pct if record else None), ("weekly", record.weekly_pct if record else None))
               if pct is not None and threshold is not None and pct >= threshold]
        if hot:
            messages.append(f"{result.name} is at {' and '.join(hot)} (--warn-at {threshold:g}%)")
    return messages


def _record_side_effects(ctx: "RoostContext", results: list[PickResult], strategy: str, now: float,
                         elapsed: float, *, log: bool, fallback: bool, say: Callable[[str], None],
                         sticky: bool = True) -> None:
    """last-pick.json for the primary pick (unless ``sticky`` is off), one picks.log line per returned profile."""
    at = datetime.fromtimestamp(now, tz=timezone.utc)
    try:
        if sticky:
            lastpick.write(ctx, LastPick(results[0].name, at, strategy))
    except (RoostError, OSError) as exc:  # stickiness is a hint: never fail the pick for it
        say(f"could not update last-pick.json: {getattr(exc, 'message', exc)}")
    if log:
        for position, result in enumerate(results, 1):
            note = " ".join(filter(None, ["fallback" if fallback else "",
                                          f"rank={position}/{len(results)}" if len(results) > 1 else ""]))
            _append(ctx, AuditEvent(audit.utc_now_iso(now), "pick", result.name, strategy, None,
                                    round(elapsed, 3), "", os.getpid(), note), say)


def _append(ctx: "RoostContext", event: AuditEvent, say: Callable[[str], None]) -> None:
    try:
        audit.append(ctx, event)
    except (RoostError, OSError) as exc:
        say(f"could not append to picks.log: {getattr(exc, 'message', exc)}")


def _strategy(ctx: "RoostContext", name: str, flag: str | None) -> Any:
    """The strategy plugin; an unknown name says where it was set (the flag, or config)."""
    host = ctx.host  # a broken [plugins] disable is its own error, not the strategy's
    try:
        return host.get("strategy", name, "strategy")
    except ValidationError as err:
        if flag is None:
            err.message += f" (set by {ctx.settings.where('strategy')})"
            err.details["source"] = ctx.settings.origin("strategy")
        else:
            err.message += " (set by flag --strategy)"
            err.details["source"] = "flag"
        raise


def run_pick(ctx: "RoostContext", options: PickOptions, *, side_effects: bool = True, log: bool = True,
             offline: bool = False, records: list[HealthRecord] | None = None,
             keep_sticky: bool = False) -> PickOutcome:
    """Pick per ``options``; raise the RoostError that says why nothing can be picked.

    ``side_effects=False`` (which, exec --dry-run) writes neither picks.log nor
    last-pick.json; ``log=False`` (exec) updates last-pick.json only;
    ``offline`` never probes. ``records`` replaces the health lookup (tests).
    ``keep_sticky`` leaves last-pick.json as it was (exec's one-off --avoid).
    """
    started = time.monotonic()
    opts = resolve(ctx, options)
    if side_effects and log:
        ctx.settings.get("picks_log_max_bytes")  # a bad value is VALIDATION now, not a lost audit line later
    strategy = _strategy(ctx, opts.strategy, options.strategy)
    profiles = ctx.profiles()
    warnings: list[str] = []

    def say(message: str) -> None:
        warnings.append(message)
        ctx.warn(message)

    known = {p.name for p in profiles}
    for name in (n for n in options.avoid if n not in known):
        say(f"--avoid {name}: no such profile")
    notes: dict[str, str] = {}  # extra explain text per profile (auto-refresh outcomes)
    if records is None:
        records = _load_records(ctx, profiles, force=options.no_cache, offline=offline)
    if options.auto_refresh and not offline:
        records = _auto_refresh(ctx, profiles, records, notes, say)
    now = ctx.now()
    request = PickRequest(strategy=strategy.name, now=datetime.fromtimestamp(now, tz=timezone.utc),
                          last_pick=lastpick.read(ctx), stickiness_s=opts.stickiness_s, count=opts.count,
                          model=opts.model, options=ctx.plugin_config(strategy.name))
    model_warning = unknown_model_warning(records, opts.model)
    if model_warning:
        say(model_warning)
    decision = decide(records, opts, strategy, request)
    results = [PickResult(s.candidate.name, s.candidate.record.health, strategy.name, decision.rationale,
                          s.candidate.record) for s in decision.ranked[:opts.count]]
    rationale, fallback = decision.rationale, None
    if not results:
        error = _stale_copy(ctx, diagnose(records, decision, opts, str(ctx.paths.profiles_tree), strategy.name))
        fallback = _usable_fallback(records, opts, say)
        if fallback is None:
            _fail(ctx, error, explain_rows(records, decision, [], notes), options.explain,
                  log=side_effects and log, now=now, elapsed=time.monotonic() - started, say=say)
        rationale = f"fallback: {error.message}"
        say(f"no profile could be picked ({error.message}); using --fallback {fallback.name}")
        results = [PickResult(fallback.name, fallback.health, strategy.name, rationale, fallback)]
    elif decision.uncertain_only:
        say(f"no profile is ok; picked {results[0].name} ({results[0].health.value})")
    for message in _warn_at(results, opts.warn_at):
        say(message)
    rows = explain_rows(records, decision, [r.name for r in results], notes, fallback.name if fallback else None)
    if options.explain and not ctx.out.json_mode:
        show_explain(ctx, strategy.name, rationale, rows)
    if side_effects:
        _record_side_effects(ctx, results, strategy.name, now, time.monotonic() - started,
                             log=log, fallback=fallback is not None, say=say, sticky=not keep_sticky)
    return PickOutcome(results, strategy.name, rationale, rows, warnings, fallback is not None)


def _fail(ctx: "RoostContext", error: RoostError, rows: list[dict[str, Any]], explain: bool, *, log: bool,
          now: float, elapsed: float, say: Callable[[str], None]) -> NoReturn:
    """Explain (if asked), log the failed pick with its exit code, and raise."""
    strategy = error.details.get("strategy", "")
    if explain:
        error.details["explain"] = rows
        if not ctx.out.json_mode:
            show_explain(ctx, strategy, f"nothing picked ({error.code}, exit {int(error.exit_code)})", rows)
    if log:
        _append(ctx, AuditEvent(audit.utc_now_iso(now), "pick", "", strategy, int(error.exit_code),
                                round(elapsed, 3), "", os.getpid(), error.code), say)
    raise error


def _usable_fallback(records: list[HealthRecord], opts: Resolved, say: Callable[[str], None]) -> HealthRecord | None:
    """The --fallback record, honoured only if it exists and is not avoided (typos must not succeed)."""
    if opts.fallback is None:
        return None
    record = next((r for r in records if r.name == opts.fallback), None)
    if record is None:
        say(f"--fallback {opts.fallback} ignored: no such profile")
    elif opts.fallback in opts.avoid:
        say(f"--fallback {opts.fallback} ignored: it is also in --avoid")
        return None
    return record

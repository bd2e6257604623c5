"""The decision engine: given a policy, the time, what monitoring observed and what the ledger
holds, which retraining runs are due. Pure: no clock, no database, no randomness, so a
controller, a backtest on a simulated clock and a test all get the same answer.

The rules, in the order they apply:

1. **What fired.** ``manual`` requests; ``performance``: in the latest judged monitoring window
   since the last run, the metric dropped by more than ``max_drop`` (with fewer than
   ``min_labeled`` labeled rows it is a skip: the drop is not believed); ``drift``: at least
   ``min_features`` features (the score counts as one) were in the band in *each* of the last
   ``persistence`` monitoring runs since the last run; ``volume``: the monitoring windows since
   the last run hold at least ``new_labeled`` labeled rows; ``schedule``: the latest slot at or
   before now (missed older slots fold into it: a controller that was down runs once, not once
   per missed slot).
2. **Once.** An occasion whose key ``(policy, trigger, window)`` is in the ledger, decided run
   or skip, is not decided again. Evidence counts only from monitoring windows that ended after
   the last run was decided, so a run's own evidence never starts another.
3. **One at a time.** While a run of the policy is in flight (decided, training... up to
   ``canary_proposed``), every trigger is skipped; so is every trigger after the first that
   runs in the same evaluation (manual, performance, drift, volume, schedule, in that order).
4. **Cooldown and budget.** A trigger other than manual is skipped less than ``cooldown`` after
   the last run, or when ``budget.max_runs`` runs were decided in the last ``budget.period``.
   A manual request is a person's decision: it passes both, and counts toward them.

Every decision, run or skip, is returned once and meant to be recorded: a skipped occasion
stays skipped (the next monitoring window or slot is a new occasion).

Example
-------
>>> from cairn.retraining.policy import parse_policies
>>> policy = parse_policies({"policies": {"credit": {
...     "deployment": "credit", "schedule": {"cron": "0 6 * * MON"}}}})["credit"]
>>> monday_7am = 1_773_039_600_000_000  # 2026-03-09 07:00 UTC
>>> [d.describe() for d in decide("credit", policy, now=monday_7am)]
['credit: run schedule [2026-03-09T06:00:00Z]: slot 2026-03-09T06:00:00Z of 0 6 * * MON (UTC) is due']
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cairn.core.timeutil import from_micros, to_micros
from cairn.core.types import Micros
from cairn.retraining.decision import Action, Decision, Trigger, window_of
from cairn.retraining.entry import LedgerEntry
from cairn.retraining.inputs import ManualRequest, Observation
from cairn.retraining.policy import Policy

__all__ = ["decide", "describe_duration"]

_MINUTE = 60_000_000


@dataclass(frozen=True)
class _Fired:
    """A trigger that fired, before the rules of one-at-a-time, cooldown and budget."""

    trigger: Trigger
    window: str
    reason: str
    numbers: dict[str, Any]
    blocked: bool = False  # fired, but its own evidence says skip (too few labels)


def decide(
    name: str,
    policy: Policy,
    *,
    now: Micros,
    observations: Sequence[Observation] = (),
    past: Sequence[LedgerEntry] = (),
    manual: Sequence[ManualRequest] = (),
) -> list[Decision]:
    """The decisions due for policy ``name`` at ``now``.

    Parameters
    ----------
    name, policy:
        The policy and its name in ``retraining.yaml``.
    now:
        The engine's clock (µs since the epoch, UTC).
    observations:
        Monitoring runs (any order; those of other deployments and those ending after
        ``now`` are ignored).
    past:
        The policy's ledger entries (others are ignored).
    manual:
        Requests for a run.

    Returns
    -------
    list[Decision]
        New decisions, in the order of the rules (at most one ``run``); none when nothing new
        fired.
    """
    mine = [e for e in past if e.policy == name]
    seen = {(e.trigger, e.window) for e in mine}
    runs = sorted((e for e in mine if e.runs), key=lambda e: (e.decided_at, e.id))
    last = runs[-1] if runs else None
    since = last.decided_at if last is not None else None
    seen_obs = sorted(
        (
            o
            for o in observations
            if o.deployment == policy.deployment and o.at <= now and (since is None or o.at > since)
        ),
        key=lambda o: (o.at, o.run_id),
    )
    fired = [
        *(_manual(r) for r in manual),
        *_performance(policy, seen_obs),
        *_drift(policy, seen_obs),
        *_volume(policy, seen_obs),
        *_schedule(policy, now),
    ]
    out: list[Decision] = []
    running: Decision | None = None
    for f in fired:
        if (f.trigger, f.window) in seen or any(d.key[1:] == (f.trigger, f.window) for d in out):
            continue
        why = _held(f, policy, now, runs, running)
        action: Action = "skip" if why else "run"
        reason = f"{f.reason}; skipped: {why}" if why else f.reason
        decision = Decision(name, f.trigger, f.window, action, reason, now, dict(f.numbers))
        if decision.runs:
            running = decision
        out.append(decision)
    return out


def describe_duration(us: Micros) -> str:
    """A duration for people, rounded up to the minute.

    Example
    -------
    >>> describe_duration(2 * 86_400_000_000 + 4 * 3_600_000_000 + 1)
    '2d 4h 1m'
    >>> describe_duration(0)
    '0m'
    """
    minutes = -(-us // _MINUTE)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (mins, "m")) if v]
    return " ".join(parts) or "0m"


# -- the rules ---------------------------------------------------------------------------------


def _held(
    f: _Fired,
    policy: Policy,
    now: Micros,
    runs: Sequence[LedgerEntry],
    running: Decision | None,
) -> str | None:
    """Why a fired trigger must not run now (None: it runs)."""
    if f.blocked:
        return "the evidence is not enough"
    if running is not None:
        return f"{running.trigger} [{running.window}] runs in this evaluation"
    flying = [e for e in runs if e.in_flight]
    if flying:
        e = flying[-1]
        return f"run #{e.id} ({e.trigger} [{e.window}]) is still in state {e.state}"
    if f.trigger == "manual":
        return None
    last = runs[-1] if runs else None
    if last is not None and now - last.decided_at < policy.cooldown:
        left = describe_duration(last.decided_at + policy.cooldown - now)
        return f"cooldown: {left} left after run #{last.id} ({last.trigger} [{last.window}])"
    budget = policy.budget
    recent = [e for e in runs if e.decided_at > now - budget.period]
    if len(recent) >= budget.max_runs:
        return (
            f"budget: {len(recent)} runs in the last {describe_duration(budget.period)} "
            f"(at most {budget.max_runs})"
        )
    return None


def _manual(request: ManualRequest) -> _Fired:
    who = f" by {request.by}" if request.by else ""
    return _Fired(
        "manual",
        request.key,
        f"asked{who}: {request.reason}",
        {"reason": request.reason, "by": request.by},
    )


def _performance(policy: Policy, seen: Sequence[Observation]) -> list[_Fired]:
    rule = policy.triggers.performance
    judged = [o for o in seen if rule is not None and rule.metric in o.drops]
    if rule is None or not judged:
        return []
    o = judged[-1]
    drop = float(o.drops[rule.metric])
    if drop <= rule.max_drop:
        return []
    numbers = {
        "metric": rule.metric,
        "drop": drop,
        "max_drop": rule.max_drop,
        "labeled": o.labeled,
        "min_labeled": rule.min_labeled,
        "monitor_run": o.run_id,
    }
    text = f"{rule.metric} dropped by {drop:.4f} (> {rule.max_drop:g})"
    if o.labeled < rule.min_labeled:
        text += f" on only {o.labeled} labeled rows (needs {rule.min_labeled})"
        return [_Fired("performance", window_of(o.at), text, numbers, blocked=True)]
    return [_Fired("performance", window_of(o.at), f"{text} on {o.labeled} labeled rows", numbers)]


def _drift(policy: Policy, seen: Sequence[Observation]) -> list[_Fired]:
    rule = policy.triggers.drift
    if rule is None or len(seen) < rule.persistence:
        return []
    streak = seen[-rule.persistence :]
    together = frozenset.intersection(
        *(o.subjects(rule.kinds, rule.band, segments=rule.segments) for o in streak)
    )
    if len(together) < rule.min_features:
        return []
    latest = streak[-1]
    values = {
        s.subject: s.value
        for s in latest.signals
        if s.subject in together and (rule.segments or s.segment is None)
    }
    features = sorted(together)
    return [
        _Fired(
            "drift",
            window_of(latest.at),
            f"{len(features)} feature(s) in band {rule.band} or worse for {rule.persistence} "
            f"monitoring runs: {', '.join(features)}",
            {
                "features": features,
                "values": values,
                "band": rule.band,
                "min_features": rule.min_features,
                "persistence": rule.persistence,
                "monitor_runs": [o.run_id for o in streak],
            },
        )
    ]


def _volume(policy: Policy, seen: Sequence[Observation]) -> list[_Fired]:
    rule = policy.triggers.volume
    if rule is None or not seen:
        return []
    labeled = sum({o.run_id: o.labeled for o in seen}.values())
    if labeled < rule.new_labeled:
        return []
    return [
        _Fired(
            "volume",
            window_of(seen[-1].at),
            f"{labeled} new labeled rows since the last run (>= {rule.new_labeled})",
            {"labeled": labeled, "new_labeled": rule.new_labeled, "monitor_runs": len(seen)},
        )
    ]


def _schedule(policy: Policy, now: Micros) -> list[_Fired]:
    schedule = policy.when
    if schedule is None:
        return []
    slot = schedule.latest(from_micros(now))
    if slot is None:
        return []
    window = window_of(to_micros(slot))
    return [
        _Fired(
            "schedule",
            window,
            f"slot {window} of {schedule.cron} ({schedule.timezone}) is due",
            {"slot": window, "cron": schedule.cron, "timezone": schedule.timezone},
        )
    ]

"""Retraining: when to retrain a deployment's model, decided from a policy, and remembered.

A policy in ``retraining.yaml`` (:mod:`~cairn.retraining.policy`) names a deployment, the
training config, a cron schedule in a time zone (:mod:`~cairn.retraining.schedule`), monitoring
triggers (persistent drift, a performance drop, new labeled volume), a cooldown, a budget, the
data window, the gates a candidate must pass and its promotion path. The decision engine
(:func:`~cairn.retraining.decide.decide`) is pure: policy, clock, monitoring observations and
the ledger's past entries in, :class:`~cairn.retraining.decision.Decision` values out. The
ledger (:class:`~cairn.retraining.ledger.Ledger`) records each decision once under its key
``(policy, trigger, window)`` and follows its run through the states of
:mod:`~cairn.retraining.entry`.

The controller that trains, gates and proposes promotions builds on these.
"""

from __future__ import annotations

from cairn.retraining.decide import decide, describe_duration
from cairn.retraining.decision import ACTIONS, TRIGGERS, Action, Decision, Trigger, window_of
from cairn.retraining.entry import (
    IN_FLIGHT,
    STATES,
    TERMINAL,
    TRANSITIONS,
    LedgerEntry,
    State,
    can_move,
)
from cairn.retraining.inputs import ManualRequest, Observation
from cairn.retraining.ledger import Ledger, LedgerConflict, TransitionError
from cairn.retraining.policy import (
    RETRAINING_FILE,
    Policy,
    RetrainingFile,
    load_policies,
    parse_policies,
    retraining_schema,
)
from cairn.retraining.schedule import Schedule

__all__ = [
    "ACTIONS",
    "IN_FLIGHT",
    "RETRAINING_FILE",
    "STATES",
    "TERMINAL",
    "TRANSITIONS",
    "TRIGGERS",
    "Action",
    "Decision",
    "Ledger",
    "LedgerConflict",
    "LedgerEntry",
    "ManualRequest",
    "Observation",
    "Policy",
    "RetrainingFile",
    "Schedule",
    "State",
    "TransitionError",
    "Trigger",
    "can_move",
    "decide",
    "describe_duration",
    "load_policies",
    "parse_policies",
    "retraining_schema",
    "window_of",
]

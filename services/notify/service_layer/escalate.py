"""Deciding escalation steps and setting the thresholds: notify's escalation commands.

Each case is decided on its escalation stream, loaded from notify's event store: the decision
(notify/domain/ladder.py) is appended at the version it was made on, and the scheduler's bookkeeping
row commits with it. A pass decides the cases due in batches, each batch in one transaction
(decide_cases); a batch that fails is decided again case by case, each in its own (decide_case).
Another scheduler (or this one restarted after a kill -9) that decided on the same version fails on
the store's UNIQUE (stream, version) index, rolls back and decides again on the history as it now
is: a step is never issued twice, and since every crossed step is issued in order, none is skipped.

A supervision letter (督办函) is a formal document: it gets the year's next number (文号) from the
office's pattern in the transaction that issues it, so a letter rolled back gives its number back and
the year's letters are numbered without gaps (docs/ESCALATION.md "Numbered supervision letters").
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Callable, Mapping

from zfcommon import logs, metrics, officecalendar
from zfcommon.clock import Clock
from zfcommon.events.catalogue import ESCALATION_CONFIG_STREAM
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.workdays import WorkCalendar, local_date

from ..adapters import escalations
from ..domain import document, ladder, stage_cases
from . import configs, letters
from .uow import UnitOfWork

log = logging.getLogger(__name__)
ACTOR = "notify:escalation"       # how the scheduler appears on the trail
ATTEMPTS = 5


@dataclass(frozen=True)
class Thresholds:
    config: dict[str, Any]
    version: int                  # the config stream's version (0: the defaults)
    set_by: str | None = None
    set_at: datetime | None = None


class VersionMismatch(Exception):
    def __init__(self, expected: int, actual: int):
        super().__init__(f"督办阈值当前为第 {actual} 版，不是第 {expected} 版：请重新读取后再改")
        self.actual = actual


def thresholds(uow: UnitOfWork) -> Thresholds:
    """The thresholds set last, or the defaults; configs.ConfigUnusable when the stored ones cannot be used."""
    last = configs.last(uow, ESCALATION_CONFIG_STREAM, "督办阈值")
    if last is None:
        return Thresholds(ladder.DEFAULT_CONFIG, 0)
    return Thresholds(ladder.current_config([(last.type, last.data)]), last.streamversion, last.actor, last.time)


def set_thresholds(uow: UnitOfWork, config: Mapping[str, Any], *, actor: str, correlation_id: str, now: datetime,
                   expected_version: int | None = None) -> Thresholds:
    """Record new thresholds (validated by the catalogue's schema on the way in). The same thresholds
    again record nothing. ConcurrencyConflict when another change got in first."""
    try:
        current = thresholds(uow)
    except configs.ConfigUnusable as exc:        # the office sets them again: that is the way out
        current = Thresholds({}, exc.version)
    if expected_version is not None and expected_version != current.version:
        raise VersionMismatch(expected_version, current.version)
    if dict(config) == current.config:
        return current
    uow.events.record(ESCALATION_CONFIG_STREAM, current.version, [(ladder.CONFIG_SET, dict(config))],
                      correlation_id=correlation_id, actor=actor, time=now)
    uow.commit()
    return Thresholds(dict(config), current.version + 1, actor, now)


@dataclass(frozen=True)
class Basis:
    """What every decision of one pass is made with."""
    today: date
    now: datetime
    config: Mapping[str, Any]
    calendar: WorkCalendar
    key: str                      # changes whenever the thresholds or the calendar may have
    office: document.Office       # who signs the supervision letters, and their number pattern


def basis(uow: UnitOfWork, clock: Clock, office: document.Office | None = None) -> Basis:
    now = clock.now()
    config = thresholds(uow)
    return Basis(local_date(now), now, config.config, officecalendar.calendar(uow.conn),
                 f"thresholds:{config.version}/calendar:{officecalendar.version(uow.conn)}",
                 office or letters.default_office())


OpenCase = Callable[[str, str], str | None]      # (project id, stage) -> the case intake opened, or None


def decide_case(uow: UnitOfWork, case_id: str, on: Basis, open_case: OpenCase | None = None) -> int:
    """Decide one case (or task, or project stage) and commit; returns how many events were appended.
    Retries on a conflict."""
    for _ in range(ATTEMPTS):
        try:
            return _decide_once(uow, case_id, on, open_case)
        except ConcurrencyConflict:
            uow.conn.rollback()
            log.info("escalation_conflict_deciding_again", extra={"case_id": case_id})
    raise ConcurrencyConflict(case_id, -1)


def _decide_once(uow: UnitOfWork, case_id: str, on: Basis, open_case: OpenCase | None = None) -> int:
    row = escalations.watched(uow.conn, case_id)
    if row is None:
        return 0
    if row["view"] is None:
        # A case event for a case notify never saw received, or a row from before views: nothing to count.
        escalations.checked(uow.conn, [(case_id, row["seen_version"], ladder.Decision())], on.key, on.now)
        uow.commit()
        return 0
    history = uow.events.load(case_id)
    decided = _decide(uow, case_id, row, history, on)
    escalations.checked(uow.conn, [(case_id, row["seen_version"], decided.decision)], on.key, on.now)
    uow.commit()
    decided.follow_up(open_case)
    return len(decided.events)


def decide_cases(uow: UnitOfWork, case_ids: list[str], on: Basis, open_case: OpenCase | None = None) -> int:
    """Decide a batch of cases as decide_case decides each, in one transaction: their rows (locked in
    case_id order, the order the consumer takes them in) and their histories read by one statement
    each, every decision's events appended and every check written, then one commit. Returns how many
    events were appended. Whatever goes wrong (another scheduler appended first, a case that cannot be
    decided) is raised after a rollback, and the caller decides those cases one by one instead."""
    if not case_ids:
        return 0
    try:
        rows = escalations.watched_many(uow.conn, case_ids)
        histories = uow.events.load_many([case_id for case_id, row in rows.items() if row["view"] is not None])
        checks, decided = [], []
        for case_id, row in rows.items():
            if row["view"] is None:
                checks.append((case_id, row["seen_version"], ladder.Decision()))
                continue
            decided.append(_decide(uow, case_id, row, histories.get(case_id, []), on))
            checks.append((case_id, row["seen_version"], decided[-1].decision))
        escalations.checked(uow.conn, checks, on.key, on.now)
        uow.commit()
    except BaseException:
        uow.conn.rollback()
        raise
    for d in decided:
        d.follow_up(open_case)
    return sum(len(d.events) for d in decided)


@dataclass
class _Decided:
    """One case decided and its events appended (not yet committed); what follows the commit."""
    case_id: str
    decision: ladder.Decision
    events: list
    opening: stage_cases.Opening
    view: dict

    def follow_up(self, open_case: OpenCase | None) -> None:
        for e in self.events:
            log.info("escalation_" + ("step_issued" if e.type == ladder.STEP_ISSUED else "stopped"),
                     extra={"case_id": self.case_id, "ladder": e.data["ladder"], "step": e.data.get("step"),
                            "reason": e.data.get("reason")})
        if self.decision.gap:
            logs.warn_once(log, "escalation_calendar_gap", (self.case_id, self.decision.gap),
                           case_id=self.case_id, gap=self.decision.gap)
        if self.opening.now and open_case is not None:
            _open(open_case, self.view)


def _decide(uow: UnitOfWork, case_id: str, row: dict, history: list, on: Basis) -> _Decided:
    """The case's decision from its history and view, its events appended at the version it was
    made on."""
    version = history[-1].streamversion if history else 0
    decision = ladder.decide(ladder.fold((e.type, e.data) for e in history), ladder.Case.from_view(row["view"]),
                             on.config, on.calendar, on.today)
    # A project stage past its limit and grace becomes a case (docs/CAMPAIGNS.md): looked at again today
    # until intake has opened it (its event then stops the stage's ladder), else on the day it is due.
    opening = stage_cases.opening(row["view"], on.calendar, on.today)
    wake = [d for d in (decision.next_check, on.today if opening.now else opening.day) if d is not None]
    decision = replace(decision, next_check=min(wake, default=None))
    changes = letters.numbered(uow.conn, [change.event() for change in decision.changes], on.office, on.today)
    events = uow.events.record(case_id, version, changes, correlation_id=str(uuid.uuid4()), actor=ACTOR, time=on.now)
    return _Decided(case_id, decision, events, opening, row["view"])


def _open(open_case: OpenCase, view: dict) -> None:
    """Ask intake for the stage's case; a failure is logged and asked again at the next pass."""
    try:
        opened = open_case(view["project_id"], view["stage"])
        log.info("stage_case_requested", extra={"case_id": opened, "project_id": view["project_id"],
                                                "stage": view["stage"]})
    except Exception as exc:       # intake away or refusing: the check stays due today
        log.warning("stage_case_request_failed", extra={"project_id": view["project_id"], "stage": view["stage"],
                                                        "error": str(exc)[:300]})


def run_once(uow: UnitOfWork, clock: Clock, batch: int = 200, open_case: OpenCase | None = None,
             office: document.Office | None = None) -> int:
    """One pass over every case due now; returns how many events were appended. A case whose
    decision fails is logged and left for the next pass: one bad case never stops the others; unusable
    thresholds skip the pass (logged and counted) until the office sets them again."""
    try:
        on = basis(uow, clock, office)
    except configs.ConfigUnusable as exc:
        uow.conn.rollback()
        metrics.SCHEDULER_SKIPPED.labels("escalation_config").inc()
        log.warning("escalation_config_skipped", extra={"version": exc.version, "reason": exc.problems})
        return 0
    appended, failed = 0, []
    while True:
        cases = due_now = escalations.due(uow.conn, on.today, on.key, batch, failed)
        uow.conn.rollback()            # end the read's transaction before deciding
        try:
            appended += decide_cases(uow, cases, on, open_case)
            cases = []
        except Exception as exc:
            log.info("escalation_batch_deciding_one_by_one", extra={"cases": len(cases),
                                                                    "reason": f"{type(exc).__name__}: {exc}"[:300]})
        for case_id in cases:
            try:
                appended += decide_case(uow, case_id, on, open_case)
            except Exception:
                uow.conn.rollback()
                failed.append(case_id)
                metrics.SCHEDULER_SKIPPED.labels("escalation_case").inc()
                log.exception("escalation_decision_failed", extra={"case_id": case_id})
        if len(due_now) < batch:
            return appended

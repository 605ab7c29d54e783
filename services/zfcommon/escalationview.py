"""A case's escalation ladders as notify's escalation events tell them (docs/ESCALATION.md).

One projection for every reader, like caseview: notify keeps it to answer /v1/escalations, ledger to
show the ladder on the case and in the overdue list. Both have the two tables in one layout (notify's
migration 0010, ledger's 0010): `escalation_ladders`, each ladder's latest round per case, and
`escalation_history`, every step and stop in stream order. Rows carry the escalation stream's
version, so a redelivered or replayed older event never undoes a newer one.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import psycopg
from marshmallow import Schema, fields, validate

from .events.catalogue import ESCALATION_STEPS, HANDLING_MODES, LADDERS, STOP_REASONS

STEP_ISSUED = "cn.zhengfeng.escalation.step_issued.v1"
STOPPED = "cn.zhengfeng.escalation.stopped.v1"
Row = dict[str, Any]
STEP_ORDER = {step: i for i, step in enumerate(ESCALATION_STEPS)}


def apply(conn: psycopg.Connection, event) -> None:
    """Project a step or a stop (other escalation types, e.g. the thresholds, change no ladder)."""
    if event.type not in (STEP_ISSUED, STOPPED):
        return
    d, step = event.data, event.type == STEP_ISSUED
    conn.execute(
        "INSERT INTO escalation_history (case_id, version, event_id, kind, ladder, round, step, reason, unit, due,"
        " working_days_overdue, threshold, handling_mode, crossed_on, document_number, time, actor)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (event.subject, event.streamversion, event.id, "step" if step else "stop", d["ladder"], d["round"],
         d["step"] if step else d["last_step"], d.get("reason"), d.get("unit"), d.get("due"),
         d.get("working_days_overdue"), d.get("threshold"), d.get("handling_mode"), d.get("crossed_on"),
         (d.get("document") or {}).get("number"), event.time, event.actor))
    if step:
        conn.execute(
            "INSERT INTO escalation_ladders (case_id, ladder, round, state, step, unit, due, handling_mode,"
            " working_days_overdue, stop_reason, updated_at, version)"
            " VALUES (%s, %s, %s, 'running', %s, %s, %s, %s, %s, NULL, %s, %s) ON CONFLICT (case_id, ladder)"
            " DO UPDATE SET round = EXCLUDED.round, state = 'running', step = EXCLUDED.step, unit = EXCLUDED.unit,"
            " due = EXCLUDED.due, handling_mode = EXCLUDED.handling_mode,"
            " working_days_overdue = EXCLUDED.working_days_overdue, stop_reason = NULL,"
            " updated_at = EXCLUDED.updated_at, version = EXCLUDED.version"
            " WHERE escalation_ladders.version < EXCLUDED.version",
            (event.subject, d["ladder"], d["round"], d["step"], d["unit"], d["due"], d["handling_mode"],
             d["working_days_overdue"], event.time, event.streamversion))
    else:
        conn.execute("UPDATE escalation_ladders SET state = 'stopped', stop_reason = %s, updated_at = %s,"
                     " version = %s WHERE case_id = %s AND ladder = %s AND round = %s AND version < %s",
                     (d["reason"], event.time, event.streamversion, event.subject, d["ladder"], d["round"],
                      event.streamversion))


def of_case(conn: psycopg.Connection, case_id: str) -> tuple[list[Row], list[Row]]:
    """A case's ladders, and its escalation history in order."""
    ladders = conn.execute("SELECT * FROM escalation_ladders WHERE case_id = %s ORDER BY ladder",
                           (case_id,)).fetchall()
    history = conn.execute("SELECT * FROM escalation_history WHERE case_id = %s ORDER BY version",
                           (case_id,)).fetchall()
    return ladders, history


def as_of(history: Iterable[Row], at: datetime) -> tuple[list[Row], list[Row]]:
    """A case's ladders and history as they stood at `at`, folded from its history rows the way
    `apply` keeps the ladders (each ladder's latest round; a stop ends that round only)."""
    seen = [h for h in history if h["time"] <= at]
    ladders: dict[str, Row] = {}
    for h in seen:
        if h["kind"] == "step":
            ladders[h["ladder"]] = {
                "case_id": h["case_id"], "ladder": h["ladder"], "round": h["round"], "state": "running",
                "step": h["step"], "unit": h["unit"], "due": h["due"], "handling_mode": h["handling_mode"],
                "working_days_overdue": h["working_days_overdue"], "stop_reason": None, "updated_at": h["time"],
                "version": h["version"]}
        elif h["ladder"] in ladders and ladders[h["ladder"]]["round"] == h["round"]:
            ladders[h["ladder"]].update(state="stopped", stop_reason=h["reason"], updated_at=h["time"],
                                        version=h["version"])
    return [ladders[k] for k in sorted(ladders)], seen


def ladders_of(conn: psycopg.Connection, case_ids: Iterable[str]) -> dict[str, list[Row]]:
    """The ladders of several cases at once (a page of a list), by case."""
    found: dict[str, list[Row]] = {}
    for row in conn.execute("SELECT * FROM escalation_ladders WHERE case_id = ANY(%s) ORDER BY case_id, ladder",
                            (list(case_ids),)):
        found.setdefault(row["case_id"], []).append(row)
    return found


def current_step(ladders: Iterable[Row]) -> str | None:
    """The highest step of the ladders still running: how far the case has escalated now."""
    running = [r["step"] for r in ladders if r["state"] == "running"]
    return max(running, key=STEP_ORDER.__getitem__, default=None)


# -- how the API shows them (notify's /v1/escalations, ledger's case views) ------------------------
class LadderOut(Schema):
    case_id = fields.String(required=True)
    ladder = fields.String(required=True, validate=validate.OneOf(LADDERS))
    round = fields.Integer(required=True, metadata={"description": "a new deadline or sign-for date starts the next"})
    state = fields.String(required=True, validate=validate.OneOf(["running", "stopped"]))
    step = fields.String(required=True, validate=validate.OneOf(ESCALATION_STEPS),
                         metadata={"description": "the last step issued in the round"})
    unit = fields.String(required=True)
    due = fields.Date(required=True, metadata={"description": "the deadline or sign-for date counted from"})
    handling_mode = fields.String(required=True, validate=validate.OneOf(HANDLING_MODES))
    working_days_overdue = fields.Integer(required=True, metadata={"description": "when the step was issued"})
    stop_reason = fields.String(allow_none=True, validate=validate.OneOf(STOP_REASONS))
    updated_at = fields.DateTime(required=True)


class HistoryEntry(Schema):
    version = fields.Integer(required=True, metadata={"description": "in the case's escalation stream"})
    kind = fields.String(required=True, validate=validate.OneOf(["step", "stop"]))
    ladder = fields.String(required=True, validate=validate.OneOf(LADDERS))
    round = fields.Integer(required=True)
    step = fields.String(required=True, metadata={"description": "the step issued, or the last one of a stopped round"})
    reason = fields.String(allow_none=True, metadata={"description": "why a round stopped"})
    unit = fields.String(allow_none=True)
    due = fields.Date(allow_none=True)
    working_days_overdue = fields.Integer(allow_none=True)
    threshold = fields.Integer(allow_none=True, metadata={"description": "working days overdue (a reminder's: "
                                                                        "minus its lead time)"})
    handling_mode = fields.String(allow_none=True)
    crossed_on = fields.Date(allow_none=True, metadata={"description": "the day the threshold was crossed"})
    document_number = fields.String(allow_none=True, metadata={
        "description": "a supervision letter's number (文号); null for other steps and for letters issued "
                       "before letters were numbered"})
    time = fields.DateTime(required=True)
    actor = fields.String(required=True)

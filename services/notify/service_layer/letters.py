"""Numbering supervision letters (督办函) as the scheduler issues them: one sequence a year for every
letter notify sends — a case's, a task's or a project stage's ladder reaching its letter, and a unit
whose weekly reports stay missing (docs/ESCALATION.md "Numbered supervision letters").

A letter's number is given in the transaction that issues it: the year's last number is read from
notify's own store under an advisory lock (adapters.escalations.last_letter), so a decision rolled back
gives its numbers back and the year's letters are numbered without gaps; the store's partial UNIQUE
index refuses a number given twice.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from types import SimpleNamespace
from typing import Any

import psycopg

from zfcommon.settings import Settings

from ..adapters import escalations
from ..domain import document

Change = tuple[str, dict[str, Any]]


def default_office() -> document.Office:
    """The office as notify's settings make it when nothing is set (a pass run without settings: tests,
    tools); the scheduler passes the one its settings make."""
    defaults = {f.name: f.default for f in dataclasses.fields(Settings) if f.default is not dataclasses.MISSING}
    return document.office_from(SimpleNamespace(**defaults))


def numbered(conn: psycopg.Connection, changes: list[Change], office: document.Office, day: date) -> list[Change]:
    """The changes, each supervision letter with its number: the year's next after the letters in the
    store (which hold those this transaction issued already), then the next for a second letter of the
    same decision (both ladders of a case may reach their letter at once)."""
    letters = [i for i, (type_, data) in enumerate(changes)
               if type_ in escalations.LETTER_TYPES and data.get("step") == "supervision_letter"]
    if not letters:
        return changes
    last, out = escalations.last_letter(conn, day.year), list(changes)
    for sequence, i in enumerate(letters, start=last + 1):
        type_, data = changes[i]
        out[i] = type_, {**data, "document": office.issue("letter", day, sequence)}
    return out

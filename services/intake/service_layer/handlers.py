"""Command handlers: load the case (and the directory) from their events, let the domain decide,
append what it decided — all in the caller's unit of work (one transaction)."""
from __future__ import annotations

import copy
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from zfcommon.events import new_event
from zfcommon.events.catalogue import COMPLAINANT_STREAM, DIRECTORY_STREAM
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.redaction import Identity
from zfcommon.workdays import local_date

from ..domain import campaign as campaign_domain
from ..domain import case as domain
from ..domain import directory as directory_domain
from ..domain import lifecycle
from .uow import UnitOfWork


@dataclass(frozen=True)
class Context:
    actor: str                   # role:subject, recorded on every event
    correlation_id: str
    now: datetime
    role: str = "office"
    unit: str | None = None

    def domain_context(self, directory: directory_domain.Directory,
                       identity: Identity | None = None) -> lifecycle.Context:
        return lifecycle.Context(today=local_date(self.now), directory=directory,
                                 actor=lifecycle.Actor(self.role, self.unit, self.actor),
                                 nonce=secrets.token_hex(16), new_id=lambda: str(uuid.uuid4()), identity=identity)


class CaseNotFound(Exception):
    def __init__(self, case_id: str):
        super().__init__(f"没有案件 {case_id}")
        self.case_id = case_id


def load_case(uow: UnitOfWork, case_id: str) -> domain.Case:
    history = uow.events.load(case_id)
    if not history or history[0].type != domain.RECEIVED:     # another aggregate's stream (task-…) is no case
        raise CaseNotFound(case_id)
    return domain.Case.replay(case_id, [(e.type, e.data) for e in history], received_by=history[0].actor)


def complainant_identity(uow: UnitOfWork, case: domain.Case) -> Identity | None:
    """The case's complainant, opened from its sealed record to mask free text others will read; None
    for an anonymous case, an empty identity once the record was erased. Used and dropped."""
    sealed = case.facts.get("complainant")
    return Identity.of(uow.contacts.open(case.case_id, sealed)) if sealed else None


class DirectoryCache:
    """The replayed directory, per process. Every command reads the directory, which rarely changes:
    the stream's version, read by the command (with its Idempotency-Key when it has one, else on its
    own), tells whether the copy is current, and only newer events are replayed, so the cache is never
    stale and the common case costs no statement of its own."""

    def __init__(self):
        self.lock = threading.Lock()
        self.directory = directory_domain.Directory()

    def current(self, uow: UnitOfWork) -> directory_domain.Directory:
        version = uow.idempotency.read_along.pop("directory_version", None)
        if version is None:
            version = uow.events.version(DIRECTORY_STREAM)
        with self.lock:
            if version != self.directory.version:
                known = self.directory.version if version > self.directory.version else 0
                history = [(e.type, e.data) for e in uow.events.load(DIRECTORY_STREAM, after=known)]
                self.directory = (directory_domain.Directory.replay(history) if known == 0
                                  else self.directory.extended(history))
            return self.directory


DIRECTORIES = DirectoryCache()


def load_directory(uow: UnitOfWork) -> directory_domain.Directory:
    """The directory as of the caller's transaction. Shared: callers must not change it."""
    return DIRECTORIES.current(uow)


def _append(uow: UnitOfWork, versions: dict[str, int], decided: list[domain.NewEvent], ctx: Context,
            default_stream: str) -> None:
    """Append decided events per stream, each after the version its aggregate was loaded at."""
    by_stream: dict[str, list[domain.NewEvent]] = {}
    for d in decided:
        by_stream.setdefault(d.stream or default_stream, []).append(d)
    for stream, items in by_stream.items():
        base = versions.get(stream, 0)
        uow.events.append(stream, base, [
            new_event(service="intake", type=d.type, subject=stream, data=d.data, streamversion=base + i + 1,
                      correlationid=ctx.correlation_id, actor=ctx.actor, time=ctx.now)
            for i, d in enumerate(items)])


def receive_case(cmd: domain.ReceiveComplaint, uow: UnitOfWork, ctx: Context,
                 case_id: str | None = None) -> domain.Case:
    """A new case under its case number; `case_id` when the channel already told its client the id
    (Open311's origin ref). The number is taken last, once the lead is known to be valid, so a refused
    lead costs no number (a receipt that fails later, or rolls back, still does: docs/DECISIONS.md)."""
    case = domain.Case(case_id or str(uuid.uuid4()))
    directory = load_directory(uow)
    if cmd.category not in directory.categories:
        raise domain.InvalidCommand({"category": [f"不在正风办的问题类别中：{cmd.category}"]},
                                    code="case.category_unknown")
    if cmd.campaign_id is not None:
        campaign_domain.check_member(load_campaign(uow, cmd.campaign_id), cmd.campaign_id)
    number = uow.case_numbers.issue(ctx.now)
    # Sealing writes the data key, held back to be sent with the events (zfcommon.uow): after the
    # number, which is read, so that the receipt's writes go as one statement.
    sealed = uow.contacts.seal(case.case_id, cmd.complainant) if cmd.complainant else None
    decided = domain.receive(case, cmd, sealed, number)
    _append(uow, {}, decided, ctx, case.case_id)
    for d in decided:
        case.apply(d.type, d.data)
    return case


def number_case(uow: UnitOfWork, case_id: str, received_at: datetime, ctx: Context) -> str:
    """Give a case received before case numbers its number, from its receipt's year (one-off)."""
    case = load_case(uow, case_id)
    decided = domain.number_case(case, uow.case_numbers.issue(received_at))
    _append(uow, {case.case_id: case.version}, decided, ctx, case.case_id)
    return decided[0].data["case_number"]


def number_earlier_cases(new_uow: Callable[[], UnitOfWork], ctx: Context, batch: int = 500) -> int:
    """Number every case received before case numbers existed, in the order they were received, each
    by a case.numbered event in a transaction of its own (so intake may serve meanwhile: a case a live
    command moved on in between is simply taken again on the next pass). Returns how many; 0 when none
    is left, which makes it safe to run at every start."""
    numbered = 0
    while True:
        with new_uow() as uow:
            pending = uow.case_numbers.unnumbered(batch)
        done = 0
        for row in pending:
            with new_uow() as uow:
                try:
                    number_case(uow, row["case_id"], row["received_at"], ctx)
                except ConcurrencyConflict:
                    continue
                uow.commit()
                done += 1
        numbered += done
        if not done:
            return numbered


def run_case_command(uow: UnitOfWork, case_id: str, command: str, args: dict[str, Any], ctx: Context,
                     expected_version: int | None = None) -> domain.Case:
    """Decide and store one lifecycle command; returns the case as it is afterwards."""
    case = load_case(uow, case_id)
    if expected_version is not None and expected_version != case.version:
        raise ConcurrencyConflict(case_id, expected_version)
    target = None
    if command in ("merge", "dismiss_duplicate"):
        other = args["into_case_id" if command == "merge" else "candidate_case_id"]
        target = domain.Case.replay(other, [(e.type, e.data) for e in uow.events.load(other)])
    if command == "set_campaign":
        args = {**args, "campaign": load_campaign(uow, args.get("campaign_id"))}
    decided = lifecycle.decide(case, command, args,
                               ctx.domain_context(load_directory(uow), complainant_identity(uow, case)), target)
    versions = {case.case_id: case.version, **({target.case_id: target.version} if target else {})}
    _append(uow, versions, decided, ctx, case.case_id)
    for d in decided:
        if (d.stream or case.case_id) == case.case_id:
            case.apply(d.type, d.data)
    return case


def load_campaign(uow: UnitOfWork, campaign_id: str | None) -> campaign_domain.Campaign | None:
    """The campaign with this id, or None (no id, or no campaign has it)."""
    if not campaign_id or not campaign_id.startswith(campaign_domain.STREAM_PREFIX):
        return None
    history = uow.events.load(campaign_id)
    return campaign_domain.Campaign.replay(campaign_id, [(e.type, e.data, e.time) for e in history]) if history else None


def erase_complainant(uow: UnitOfWork, case_id: str, reason: str, ctx: Context) -> domain.Case:
    """Destroy the case's data key and record the erasure, in one transaction."""
    case = load_case(uow, case_id)
    decided = domain.erase_complainant(case, reason)
    uow.contacts.destroy(decided[0].data["kid"])
    _append(uow, {case.case_id: case.version}, decided, ctx, case.case_id)
    case.apply(decided[0].type, decided[0].data)
    return case


REVEALED = "cn.zhengfeng.complainant.revealed.v1"


def reveal_complainant(uow: UnitOfWork, case_id: str, reason: str, ctx: Context) -> dict[str, Any]:
    """Open the case's sealed complainant record and record that it was opened — who (the actor), when,
    why — in the same transaction: no answer without its record. The event holds no personal data."""
    case = load_case(uow, case_id)
    sealed = case.facts.get("complainant")
    contact = uow.contacts.open(case_id, sealed) if sealed else None
    outcome = "anonymous" if not sealed else "revealed" if contact is not None else "erased"
    stream = COMPLAINANT_STREAM.format(case_id=case_id)
    # Reveals depend on no state, so two at once must both be recorded, never one refused: they queue
    # on a lock of the reveal stream (held to the end of the transaction) before reading its version.
    uow.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (stream,))
    event = domain.NewEvent(REVEALED, {"case_id": case_id, "reason": reason, "outcome": outcome}, stream)
    _append(uow, {stream: uow.events.version(stream)}, [event], ctx, stream)
    return {"case_id": case_id, "erased": outcome == "erased", "complainant": contact, "outcome": outcome,
            "revealed_at": ctx.now, "revealed_by": ctx.actor}


def reveals(uow: UnitOfWork, case_id: str) -> list[dict[str, Any]]:
    """Every reveal of the case's complainant record, oldest first: who, when, why — never the data."""
    load_case(uow, case_id)
    return [{"time": e.time, "actor": e.actor, "reason": e.data["reason"], "outcome": e.data["outcome"]}
            for e in uow.events.load(COMPLAINANT_STREAM.format(case_id=case_id))]


def record_accountability(uow: UnitOfWork, args: dict[str, Any], ctx: Context) -> str:
    decided = lifecycle.record_accountability(args, ctx.domain_context(load_directory(uow)))
    _append(uow, {}, decided, ctx, decided[0].stream)
    return decided[0].stream


def change_directory(uow: UnitOfWork, decide, ctx: Context, *args) -> directory_domain.Directory:
    """Apply one directory decision (register_unit, add_category, …) to the directory stream."""
    directory = copy.deepcopy(load_directory(uow))
    decided = decide(directory, *args)
    if directory.version == 0:
        # The first change records the defaults it was decided against, so replaying the stream
        # gives the same directory that every service saw before.
        decided = directory_domain.seed_events() + decided
    _append(uow, {DIRECTORY_STREAM: directory.version}, decided, ctx, DIRECTORY_STREAM)
    for d in decided:
        directory.apply(d.type, d.data)
    return directory


def seed_directory(uow: UnitOfWork, ctx: Context) -> int:
    """Record the seed taxonomy and default limits as events, once, for a new office."""
    if uow.events.load(DIRECTORY_STREAM):
        return 0
    decided = directory_domain.seed_events()
    _append(uow, {}, decided, ctx, DIRECTORY_STREAM)
    return len(decided)

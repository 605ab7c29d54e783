"""Command handlers: load the case (and the directory) from their events, let the domain decide,
append what it decided — all in the caller's unit of work (one transaction)."""
from __future__ import annotations

import copy
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zfcommon.events import new_event
from zfcommon.events.catalogue import DIRECTORY_STREAM
from zfcommon.workdays import local_date

from zfcommon.eventstore import ConcurrencyConflict
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

    def domain_context(self, directory: directory_domain.Directory) -> lifecycle.Context:
        return lifecycle.Context(today=local_date(self.now), directory=directory,
                                 actor=lifecycle.Actor(self.role, self.unit, self.actor),
                                 nonce=secrets.token_hex(16), new_id=lambda: str(uuid.uuid4()))


class CaseNotFound(Exception):
    def __init__(self, case_id: str):
        super().__init__(f"no case {case_id}")
        self.case_id = case_id


def load_case(uow: UnitOfWork, case_id: str) -> domain.Case:
    history = uow.events.load(case_id)
    if not history:
        raise CaseNotFound(case_id)
    return domain.Case.replay(case_id, [(e.type, e.data) for e in history])


class DirectoryCache:
    """The replayed directory, per process. Every command reads the directory, which rarely changes:
    a version lookup in the command's own transaction tells whether the copy is current, and only
    newer events are replayed, so the cache is never stale and the common case costs one query."""

    def __init__(self):
        self.lock = threading.Lock()
        self.directory = directory_domain.Directory()

    def current(self, uow: UnitOfWork) -> directory_domain.Directory:
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


def receive_case(cmd: domain.ReceiveComplaint, uow: UnitOfWork, ctx: Context, case_id: str | None = None) -> str:
    """A new case; `case_id` when the channel already told its client the id (Open311's origin ref)."""
    case = domain.Case(case_id or str(uuid.uuid4()))
    sealed = uow.contacts.seal(case.case_id, cmd.complainant) if cmd.complainant else None
    directory = load_directory(uow)
    if cmd.category not in directory.categories:
        raise domain.InvalidCommand({"category": [f"not in the office's category taxonomy: {cmd.category}"]})
    if cmd.campaign_id is not None:
        campaign_domain.check_member(load_campaign(uow, cmd.campaign_id), cmd.campaign_id)
    _append(uow, {}, domain.receive(case, cmd, sealed), ctx, case.case_id)
    return case.case_id


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
    decided = lifecycle.decide(case, command, args, ctx.domain_context(load_directory(uow)), target)
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

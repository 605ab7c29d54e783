"""Commands on public exposures of typical cases, each in one unit of work.

A decision is taken on the state folded from the exposure's own stream and appended at the version it
was read at: a racing second approval or publication gets ConcurrencyConflict (409) instead of a
second event. The events are applied to notify's tables in the same transaction, so the office reads
its preview at once; when they come back from Kafka the projection sees their versions already
applied and changes nothing.

The case's facts come from notify's own projection of cases, which never holds the complainant. The
complainant's identity is asked of intake when the text is redacted and again when it is published,
used to find it in the text, and dropped: no table, event or log line receives it.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Callable, Mapping

from zfcommon import redaction
from zfcommon.events.catalogue import EXPOSURE_FIELDS, validate_data
from zfcommon.redaction import Finding
from zfcommon.workdays import local_date

from ..adapters import exposures as tables
from ..adapters import repository
from ..adapters.complainants import ComplainantClient, IntakeUnavailable
from ..domain import exposure
from .bulletins import Context, Invalid   # notify's command context; 422 naming the fields
from .uow import UnitOfWork

Row = dict[str, Any]
TYPE = "cn.zhengfeng.exposure.{name}.v1"


class NotFound(Exception):
    pass


class AlreadyExposed(Exception):
    """The case already has an exposure that is not withdrawn (409 naming it)."""

    def __init__(self, case_id: str, row: Row):
        super().__init__(f"案件 {case_id} 已有典型案例曝光 {row['id']}（{exposure.STATES[row['state']]}），请先撤回")
        self.exposure_id, self.state = row["id"], row["state"]


class RevisionMismatch(Exception):
    def __init__(self, expected: int, actual: int | None):
        super().__init__(f"审核的是第 {expected} 版脱敏文本，当前为第 {actual} 版：请重新查看预览")
        self.actual = actual


class PersonalDataRemains(Exception):
    """The publish check found personal data in the text (422 naming each finding, masked)."""

    def __init__(self, found: list[Finding]):
        self.findings = found
        super().__init__("文本中仍有个人信息："
                         + "；".join(f"{f.field}：{redaction.LABELS[f.kind]} {f.masked}" for f in found))


def _record(uow: UnitOfWork, exposure_id: str, version: int, name: str, data: Row, ctx: Context) -> Row:
    event_type = TYPE.format(name=name)
    if errors := validate_data(event_type, data):
        raise Invalid("脱敏后的内容不符合要求", errors)
    stream = exposure.stream(exposure_id)
    for event in uow.events.record(stream, version, [(event_type, data)], correlation_id=ctx.correlation_id,
                                   actor=ctx.actor, time=ctx.now, subject=stream):
        tables.apply(uow.conn, event)
    return tables.get(uow.conn, exposure_id)


def _current(uow: UnitOfWork, exposure_id: str, action: str) -> Row:
    """The exposure as its stream in notify's event store has it, checked for `action`."""
    row = exposure.replay(uow.events.load(exposure.stream(exposure_id)))
    if row is None:
        raise NotFound(f"没有典型案例曝光 {exposure_id}")
    exposure.check(row, action)
    return row


def _case_view(uow: UnitOfWork, case_id: str) -> Row:
    watched = repository.get(uow.conn, case_id)
    if watched is None or watched.get("view") is None:
        raise Invalid(f"通知服务尚未收到案件 {case_id}", {"case_id": [f"没有案件 {case_id}（或尚未同步）"]})
    return watched["view"]


def _complainants(intake: ComplainantClient, case_id: str, view: Mapping[str, Any],
                  reason: str) -> list[redaction.Identity]:
    """The complainants of the case and of the duplicates merged into it: the text may quote them all.
    Each is a reveal recorded by intake with `reason`."""
    return intake.identities([case_id, *view.get("duplicates", ())], reason)


def select(uow: UnitOfWork, body: Row, ctx: Context, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> Row:
    """Select a case as a typical case to expose: its public facts from notify's projection, the
    office's title, category and lesson. Nothing is public yet."""
    case_id = body["case_id"]
    view = _case_view(uow, case_id)
    tables.lock_case(uow.conn, case_id)
    if (active := tables.active_for_case(uow.conn, case_id)) is not None:
        raise AlreadyExposed(case_id, active)
    exposure_id = new_id()
    facts = {"category": view["category"], "channel": view["channel"],
             "unit": view["lead_unit"] or view["subject_unit"], "status": view["status"],
             "received_on": local_date(datetime.fromisoformat(view["received_at"])).isoformat(),
             "case_number": view.get("case_number")}
    return _record(uow, exposure_id, 0, "selected", {
        "exposure_id": exposure_id, "case_id": case_id, "title": body["title"],
        "category": body.get("category") or view["category"], "lesson": body.get("lesson"), "case": facts}, ctx)


def _marks(body: Mapping[str, Any]) -> redaction.Marks:
    return redaction.Marks(phrases=tuple(body.get("remove", ())), addresses=tuple(body.get("addresses", ())),
                           spans=tuple((s["start"], s["end"]) for s in body.get("spans", ())))


def redact(uow: UnitOfWork, intake: ComplainantClient, exposure_id: str, body: Row, ctx: Context) -> Row:
    """Redact the text to publish (the case's description unless the office wrote its own) and the
    title, category and lesson: the office's marks, the complainant's identity as intake has it, and
    everything the scanner finds. If intake does not answer, the draft is redacted without it and
    says so; publishing will ask again and refuses without it."""
    row = _current(uow, exposure_id, "redact")
    view = _case_view(uow, row["case_id"])
    fields = {"title": body.get("title") or row["title"], "category": body.get("category") or row["category"],
              "text": body.get("text") or view["description"],
              "lesson": body["lesson"] if "lesson" in body else row["lesson"]}
    try:
        people, checked = _complainants(intake, row["case_id"], view, "典型案例曝光脱敏：核对举报人信息"), True
    except IntakeUnavailable:
        people, checked = [], False
    try:
        out = redaction.redact(fields, people, _marks(body))
    except redaction.MarkNotFound as exc:
        raise Invalid(str(exc), {exc.what: {str(exc.index): ["标题、类别、正文和点评中都没有这段文字"]}}) from None
    public = {"unit": row["case"]["unit"], "case_number": row["case"].get("case_number"),
              **{f: out.fields[f] for f in EXPOSURE_FIELDS}}
    return _record(uow, exposure_id, row["version"], "redacted", {
        "exposure_id": exposure_id, "public": public, "removed": out.removed, "complainant_checked": checked}, ctx)


def approve(uow: UnitOfWork, exposure_id: str, ctx: Context, revision: int | None = None) -> Row:
    """A second office user approves the redacted text as it stands (`revision`: the one they read)."""
    row = _current(uow, exposure_id, "approve")
    exposure.check_approver(row, ctx.actor)
    if revision is not None and revision != row["revision"]:
        raise RevisionMismatch(revision, row["revision"])
    return _record(uow, exposure_id, row["version"], "approved", {
        "exposure_id": exposure_id, "revision": row["revision"], "redacted_by": row["redacted_by"]}, ctx)


def publish(uow: UnitOfWork, intake: ComplainantClient, exposure_id: str, ctx: Context) -> Row:
    """Publish the approved text after checking it once more for personal data, the complainant's
    identity included (asked of intake now: IntakeUnavailable if it does not answer)."""
    row = _current(uow, exposure_id, "publish")
    public = row["draft"]
    found = redaction.remaining({f: public[f] for f in EXPOSURE_FIELDS},
                                _complainants(intake, row["case_id"], _case_view(uow, row["case_id"]),
                                              "典型案例曝光发布前：核对举报人信息"))
    if found:
        raise PersonalDataRemains(found)
    return _record(uow, exposure_id, row["version"], "published", {
        "exposure_id": exposure_id, "case_id": row["case_id"], "revision": row["approved_revision"],
        "public": public, "digest": exposure.digest(public)}, ctx)


def withdraw(uow: UnitOfWork, exposure_id: str, reason: str, ctx: Context) -> Row:
    row = _current(uow, exposure_id, "withdraw")
    return _record(uow, exposure_id, row["version"], "withdrawn", {
        "exposure_id": exposure_id, "reason": reason, "was_published": row["state"] == "published"}, ctx)

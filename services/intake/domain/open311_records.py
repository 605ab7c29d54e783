"""Open311 service requests as the public may read them (docs/OPEN311.md): a case's index row, its
GeoReport record, and the GET requests query. Pure.

The public record says where a case stands, never who raised it or what they wrote: submitter fields
stay sealed, and the description is withheld too, because a complaint about named officials often
identifies the person who made it (举报人保护). Where it happened is told to street level only: the
address is cut as exposures cut addresses (zfcommon.redaction.street_level) and the coordinates are
rounded to 3 decimals (about 100 m), so a flat or a house cannot be read from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from zfcommon.redaction import street_level
from zfcommon.workdays import SHANGHAI

from .case import TERMINAL
from .open311 import SERVICE_NOTICE, Form, Open311Error, parse_datetime, present, service_code, single

WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
PUBLIC_DECIMALS = 3       # about 100 m: the street, not the house
STATUSES = ("open", "closed")
NOTES = {
    "received": "已受理,待交办",
    "assigned": "已交办{lead_unit},待签收",
    "returned": "承办单位退回,待重新交办",
    "in_progress": "{lead_unit}正在办理",
    "rectification_reported": "承办单位已报送整改情况,待正风办核验",
    "dismissal_reported": "承办单位已报送核查情况,待正风办审核",
    "closed": "已整改到位,销号",
    "dismissed": "经核查,反映问题不属实",
    "merged": "已并入问题线索 {merged_into} 一并办理",
}


def index_row(view: Mapping[str, Any]) -> dict[str, Any]:
    """What the request index keeps of a case, from its zfcommon.caseview row."""
    origin = view.get("origin") or {}
    extra = (origin.get("extra") or {}) if origin.get("system") == "open311" else {}
    location = view.get("location") or {}
    return {"service_request_id": view["case_id"], "status": "closed" if view["status"] in TERMINAL else "open",
            "case_status": view["status"], "merged_into": view["merged_into"], "category": view["category"],
            "service_code": service_code(view["category"]), "lead_unit": view["lead_unit"],
            "requested_at": view["received_at"], "updated_at": view["updated_at"], "deadline": view["deadline"],
            "address": location.get("address"), "lat": location.get("lat"), "lon": location.get("lon"),
            "address_id": extra.get("address_id"), "media_url": extra.get("media_url"), "version": view["version"],
            "case_number": view.get("case_number")}


def w3c(at: datetime) -> str:
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")


def expected(deadline: date | None) -> str | None:
    # The deadline is a whole day (a case closed on it is on time): expected by its last second.
    return w3c(datetime.combine(deadline, time(23, 59, 59), SHANGHAI)) if deadline else None


def record(row: Mapping[str, Any]) -> dict[str, Any]:
    """The GeoReport v2 record of an index row, every field of the spec in its order, then the case number."""
    note = NOTES.get(row["case_status"])
    return {"service_request_id": row["service_request_id"], "status": row["status"],
            "status_notes": note.format(**row) if note else None, "service_name": row["category"],
            "service_code": row["service_code"], "description": None, "agency_responsible": row["lead_unit"],
            "service_notice": SERVICE_NOTICE, "requested_datetime": w3c(row["requested_at"]),
            "updated_datetime": w3c(row["updated_at"]), "expected_datetime": expected(row["deadline"]),
            "address": street_level(row["address"]), "address_id": row["address_id"], "zipcode": None,
            "lat": _coarse(row["lat"]), "long": _coarse(row["lon"]), "media_url": row["media_url"],
            "case_number": row["case_number"]}     # our extension, after the spec's fields (docs/OPEN311.md)


def _coarse(degrees: float | None) -> float | None:
    return None if degrees is None else round(degrees, PUBLIC_DECIMALS)


@dataclass(frozen=True)
class Query:
    """GET requests: the listed ids (which override everything else), or the other filters."""
    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = STATUSES

    # Records show requested_datetime to the second, while a case is received some microseconds into
    # it: both bounds hold their whole second, so a record's own time given back as end_date (or
    # start_date) finds it — the spec's bounds are inclusive as people read them.
    @property
    def since(self) -> datetime:
        return self.start.replace(microsecond=0)

    @property
    def until(self) -> datetime:
        """The first instant after the window (exclusive)."""
        return self.end.replace(microsecond=0) + timedelta(seconds=1)


def _listed(form: Form, name: str) -> tuple[str, ...]:
    # "can be declared multiple times, comma delimited": both, in any mix.
    items = (item.strip() for v in present(form.get(name, [])) for item in v.split(","))
    return tuple(dict.fromkeys(i for i in items if i))


def _bound(form: Form, name: str, end: bool, errors: list[tuple[str, str]]) -> datetime | None:
    raw = single(form, name, errors, 40)
    if raw is None:
        return None
    try:
        if len(raw) == 10:       # a bare date: from its first or through its last instant in China
            day = datetime.combine(date.fromisoformat(raw), time.min, SHANGHAI)
            return day + timedelta(days=1, microseconds=-1) if end else day
        if datetime.fromisoformat(raw).tzinfo is None:
            errors.append((name, "日期时间须带时区(Z 或 +08:00),如 2026-11-01T00:00:00+08:00"))
            return None
        return parse_datetime(raw)
    except ValueError:
        errors.append((name, "应为 w3c 日期时间,如 2026-11-01T00:00:00+08:00"))
        return None


def query(form: Form, now: datetime) -> Query:
    """Check GET requests' parameters; 400 naming each wrong one. Without dates the window is the
    last 90 days; with one date it runs 90 days from (or to) it; it may never span more."""
    ids = _listed(form, "service_request_id")
    if len(ids) > MAX_RESULTS:
        raise Open311Error(400, [("service_request_id", f"一次最多查询{MAX_RESULTS}件")])
    if ids:
        return Query(ids=ids)
    errors: list[tuple[str, str]] = []
    statuses = _listed(form, "status") or STATUSES
    if set(statuses) - set(STATUSES):
        errors.append(("status", "可选值为 open、closed(可用逗号分隔多个)"))
    start, end = _bound(form, "start_date", False, errors), _bound(form, "end_date", True, errors)
    if errors:
        raise Open311Error(400, errors)
    start, end = start or (end - WINDOW if end else now - WINDOW), end or (start + WINDOW if start else now)
    if end < start:
        raise Open311Error(400, [("end_date", "不能早于 start_date")])
    if end - start > WINDOW:
        raise Open311Error(400, [("end_date", "查询时间跨度不能超过90天")])
    return Query(codes=_listed(form, "service_code"), start=start, end=end, statuses=statuses)

"""notify over HTTP: notices, weekly and quarterly reports and spot checks, appraisals, escalation thresholds, bulletins, exposures
and departments' webhook subscriptions, with the logged-in person's token."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .services import ServiceError, Services


def notices(s: Services, **filters: Any) -> list[dict[str, Any]]:
    return s.get("notify", "/v1/notices", **filters)


def weekly_reports(s: Services, **filters: Any) -> dict[str, Any]:
    return s.get("notify", "/v1/weekly-reports", **filters)


def file_weekly_report(s: Services, body: dict[str, Any], key: str) -> dict[str, Any]:
    return s.post("notify", "/v1/weekly-reports", body, key=key)


def week_overview(s: Services, week: str | None) -> dict[str, Any]:
    return s.get("notify", "/v1/weekly-reports/overview", week=week)


def quarterly_reports(s: Services, **filters: Any) -> dict[str, Any]:
    return s.get("notify", "/v1/quarterly-reports", **filters)


def quarterly_report(s: Services, unit: str, quarter: str) -> dict[str, Any]:
    return s.get("notify", f"/v1/quarterly-reports/{quote(unit, safe='')}/{quote(quarter, safe='')}")


def file_quarterly_report(s: Services, body: dict[str, Any], key: str) -> dict[str, Any]:
    return s.post("notify", "/v1/quarterly-reports", body, key=key)


def quarterly_export(s: Services, fmt: str, quarter: str | None):
    """A quarter's reports as a spreadsheet, streamed (passed on by web.passthrough)."""
    return s.request("notify", "GET", f"/v1/quarterly-reports/export.{fmt}",
                     params={"quarter": quarter} if quarter else None, stream=True)


def quarter_overview(s: Services, quarter: str | None) -> dict[str, Any]:
    return s.get("notify", "/v1/quarterly-reports/overview", quarter=quarter)


def record_enforcement(s: Services, body: dict[str, Any], key: str) -> dict[str, Any]:
    return s.post("notify", "/v1/enforcement-actions", body, key=key)


def enforcement_actions(s: Services, **filters: Any) -> dict[str, Any]:
    return s.get("notify", "/v1/enforcement-actions", **filters)


def roster(s: Services, unit: str) -> dict[str, Any] | None:
    """The unit's published enforcement staff (公述民评 公示); None when it has published none."""
    try:
        return s.get("notify", f"/v1/enforcement-staff/{quote(unit, safe='')}")
    except ServiceError as exc:
        if exc.status == 404:
            return None
        raise


def publish_roster(s: Services, unit: str, staff: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return s.put("notify", f"/v1/enforcement-staff/{quote(unit, safe='')}", {"staff": staff}, key=key)


def rosters(s: Services) -> list[dict[str, Any]]:
    return s.get("notify", "/v1/enforcement-staff")["items"]


def enforcement_ratings(s: Services, period: str | None) -> dict[str, Any]:
    return s.get("notify", "/v1/enforcement-ratings", period=period)


def enforcement_export(s: Services, fmt: str, period: str | None):
    """A period's SMS ratings as a spreadsheet, streamed (passed on by web.passthrough)."""
    return s.request("notify", "GET", f"/v1/enforcement-ratings/export.{fmt}",
                     params={"period": period} if period else None, stream=True)


def spot_checks(s: Services) -> list[dict[str, Any]]:
    return s.get("notify", "/v1/spot-checks")


def draw_spot_check(s: Services, month: str, key: str) -> dict[str, Any]:
    return s.post("notify", "/v1/spot-checks", {"month": month}, key=key)


def record_spot_check(s: Services, month: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    return s.post("notify", f"/v1/spot-checks/{month}/results", body, key=key)


def escalation_config(s: Services) -> dict[str, Any]:
    return s.get("notify", "/v1/escalation/config")


def set_escalation_config(s: Services, config: dict[str, Any], key: str) -> dict[str, Any]:
    return s.put("notify", "/v1/escalation/config", config, key=key)


def bulletins(s: Services) -> list[dict[str, Any]]:
    return s.get("notify", "/v1/bulletins")["items"]


def bulletin(s: Services, month: str) -> dict[str, Any]:
    return s.get("notify", f"/v1/bulletins/{month}")


def bulletin_file(s: Services, month: str, fmt: str):
    return s.request("notify", "GET", f"/v1/bulletins/{month}.{fmt}", stream=True)


def bulletin_step(s: Services, month: str | None, step: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    """draft (month None: POST /v1/bulletins), redraft, review or publish."""
    path = "/v1/bulletins" if step == "draft" else f"/v1/bulletins/{month}/{step}"
    return s.post("notify", path, body, key=key)


def appraisals(s: Services) -> list[dict[str, Any]]:
    return s.get("notify", "/v1/appraisals")["items"]


def appraisal(s: Services, period: str) -> dict[str, Any]:
    return s.get("notify", f"/v1/appraisals/{quote(period, safe='')}")


def appraisal_ballots(s: Services, period: str, limit: int = 50) -> dict[str, Any]:
    return s.get("notify", f"/v1/appraisals/{quote(period, safe='')}/ballots", limit=limit)


def appraisal_file(s: Services, period: str, fmt: str):
    return s.request("notify", "GET", f"/v1/appraisals/{quote(period, safe='')}.{fmt}", stream=True)


def appraisal_import(s: Services, period: str, name: str, data: bytes, content_type: str, *, dry_run: bool,
                     key: str) -> dict[str, Any]:
    """A questionnaire table: dry run (the report), or entered whole."""
    path = f"/v1/appraisals/{quote(period, safe='')}/ballots/import" + ("?dry_run=true" if dry_run else "")
    return s.post("notify", path, key=key, files={"file": (name, data, content_type)})


def appraisal_template(s: Services, period: str):
    return s.request("notify", "GET", f"/v1/appraisals/{quote(period, safe='')}/ballots/template.xlsx", stream=True)


def appraisal_step(s: Services, period: str | None, step: str, body: dict[str, Any] | None, key: str) -> Any:
    """open (period None: POST /v1/appraisals), ballots, draft, redraft, review or publish."""
    path = "/v1/appraisals" if step == "open" else f"/v1/appraisals/{quote(period or '', safe='')}/{step}"
    return s.post("notify", path, body, key=key)


def notice(s: Services, notice_id: int) -> dict[str, Any]:
    return s.get("notify", f"/v1/notices/{notice_id}")


def letters(s: Services, **filters: Any) -> dict[str, Any]:
    """The register of supervision letters of a year, by number (督办函登记)."""
    return s.get("notify", "/v1/letters", **filters)


def letters_export(s: Services, fmt: str, **filters: Any):
    """The register as a spreadsheet, streamed (passed on by web.passthrough)."""
    return s.request("notify", "GET", f"/v1/letters/export.{fmt}", params=filters, stream=True)


def exposures(s: Services, **filters: Any) -> list[dict[str, Any]]:
    return s.get("notify", "/v1/exposures", **filters)["items"]


def exposure(s: Services, exposure_id: str) -> dict[str, Any]:
    return s.get("notify", f"/v1/exposures/{exposure_id}")


def exposure_step(s: Services, exposure_id: str | None, step: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    """select (exposure_id None: POST /v1/exposures), redaction, approve, publish or withdraw."""
    path = "/v1/exposures" if step == "select" else f"/v1/exposures/{exposure_id}/{step}"
    return s.post("notify", path, body, key=key)


def subscriptions(s: Services) -> list[dict[str, Any]]:
    return s.get("notify", "/v1/subscriptions")


def subscribe(s: Services, body: dict[str, Any], key: str) -> dict[str, Any]:
    return s.post("notify", "/v1/subscriptions", body, key=key)


def subscription_step(s: Services, sub_id: str, step: str, key: str) -> dict[str, Any]:
    """disable, enable, test or rotate-secret."""
    return s.post("notify", f"/v1/subscriptions/{sub_id}/{step}", {}, key=key)

"""intake over HTTP: receiving leads, the case's commands, evidence files, the directory and the office's
other write-side resources (inspections, campaigns, tasks, key projects, look-backs …), with the logged-in
person's token."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .services import Services


def receive(s: Services, body: dict[str, Any], key: str) -> dict[str, Any]:
    return s.post("intake", "/v1/cases", body, key=key)


def case(s: Services, case_id: str) -> dict[str, Any]:
    """The case straight from its events, with `permitted_commands` for the caller."""
    return s.get("intake", f"/v1/cases/{case_id}")


def command(s: Services, case_id: str, name: str, body: dict[str, Any], *, version: int | None, key: str) -> dict[str, Any]:
    headers = {"If-Match": f'"{version}"'} if version is not None else None
    return s.post("intake", f"/v1/cases/{case_id}/{name.replace('_', '-')}", body, key=key, headers=headers)


def reveal_complainant(s: Services, case_id: str, reason: str) -> dict[str, Any]:
    """The complainant of a case, for the office only: intake records the reveal (who — the person, by
    their token — when and why) in the same transaction as it answers, so it is in the trail."""
    return s.post("intake", f"/v1/cases/{case_id}/complainant/reveal", {"reason": reason})


def reveals(s: Services, case_id: str) -> list[dict[str, Any]]:
    """Every recorded reveal of the case's complainant: time, actor, reason, outcome — never the data."""
    return s.get("intake", f"/v1/cases/{case_id}/complainant/reveals")["items"]


def upload(s: Services, what: str, item_id: str, name: str, data: bytes, content_type: str, key: str) -> dict[str, Any]:
    """An evidence file of a case or a task (what: cases, tasks): its url and sha256 go into the report."""
    return s.post("intake", f"/v1/{what}/{item_id}/files", key=key, files={"file": (name, data, content_type)})


def file(s: Services, what: str, item_id: str, file_id: str):
    return s.request("intake", "GET", f"/v1/{what}/{item_id}/files/{file_id}", stream=True)


def directory(s: Services) -> dict[str, Any]:
    return s.get("intake", "/v1/directory")


def deadline_preview(s: Services, handling_mode: str, priority: str) -> dict[str, Any]:
    return s.get("intake", "/v1/directory/deadline", handling_mode=handling_mode, priority=priority)


def change_directory(s: Services, what: str, body: dict[str, Any] | None, key: str, *, name: str = "",
                     year: int | None = None) -> dict[str, Any]:
    """unit, category, remove_category, limits or calendar: intake records each change as an event."""
    if what == "unit":
        return s.post("intake", "/v1/directory/units", body, key=key)
    if what == "category":
        return s.post("intake", "/v1/directory/categories", body, key=key)
    if what == "remove_category":
        return s.delete("intake", f"/v1/directory/categories/{name}")
    if what == "limits":
        return s.put("intake", "/v1/directory/limits", body, key=key)
    return s.put("intake", f"/v1/directory/calendar/{year}", body, key=key)


def import_table(s: Services, what: str, name: str, data: bytes, content_type: str, *, dry_run: bool, key: str,
                 **params: str) -> dict[str, Any]:
    """A ledger (what: imports) or a task table (task-imports, with campaign_id): dry run, or the import."""
    query = urlencode({**({"dry_run": "true"} if dry_run else {}), **{k: v for k, v in params.items() if v}})
    return s.post("intake", f"/v1/{what}" + (f"?{query}" if query else ""), key=key,
                  files={"file": (name, data, content_type)})


def listing(s: Services, what: str, **params: Any) -> dict[str, Any]:
    """inspections, monitoring-points, clients or project-types."""
    return s.get("intake", f"/v1/{what}", **params)


def one(s: Services, what: str, item_id: str) -> dict[str, Any]:
    return s.get("intake", f"/v1/{what}/{item_id}")


def create(s: Services, what: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    return s.post("intake", f"/v1/{what}", body, key=key)


def step(s: Services, what: str, item_id: str, action: str, body: dict[str, Any], key: str,
         version: int | None = None) -> dict[str, Any]:
    """An action on an inspection, a monitoring point, a client, a task, a project or a look-back (findings,
    complete, cancel, submissions, deactivate, rotate, revoke, sign-off, enter-stage …); with `version`, only
    if the item is still as the form showed it (If-Match)."""
    headers = {"If-Match": f'"{version}"'} if version is not None else None
    return s.post("intake", f"/v1/{what}/{item_id}/{action.replace('_', '-')}", body, key=key, headers=headers)


def set_project_type(s: Services, name: str, stages: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return s.put("intake", f"/v1/project-types/{name}", {"stages": stages}, key=key)

"""One case's page: its facts and lights from the ledger, its timeline and escalation ladder, and as forms
only the commands intake says the person may issue now; the complainant only on an explicit, recorded reveal."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import flash, redirect, request, url_for

from zfcommon.workdays import SHANGHAI

from ..adapters import intake, ledger
from ..adapters.services import ServiceError
from ..domain import messages
from . import commands, evidence, forms, web
from .web import FormErrors, Refused


def _load(case_id: str) -> dict[str, Any]:
    """The case as the ledger and intake see it. A case the person's token cannot read is the 403 page:
    the services answer 404 for another unit's case (so as not to reveal it exists); the console says
    plainly that the person may not see it."""
    s, who = web.services(), web.account()
    try:
        written = intake.case(s, case_id)
    except ServiceError as exc:
        if exc.status == 404 and who.role == "unit":
            raise Refused() from None
        raise
    try:
        view = ledger.case(s, case_id)
        timeline = ledger.timeline(s, case_id)
    except ServiceError as exc:
        if exc.status != 404:
            raise
        view, timeline = None, []       # received a moment ago: the ledger has not projected it yet
    return {"written": written, "view": view, "timeline": timeline}


def render(case_id: str, *, errors: dict[str, FormErrors] | None = None, form: Any = None,
           complainant: dict[str, Any] | None = None, status: int = 200):
    data = _load(case_id)
    who = web.account()
    permitted = data["written"].get("permitted_commands") or []
    shown = [c for c in permitted if c not in commands.APART]
    own = [c for c in shown if who.role != "office" or c not in commands.UNIT_COMMANDS]
    on_behalf = [c for c in shown if who.role == "office" and c in commands.UNIT_COMMANDS]
    directory = intake.directory(web.services()) if who.role == "office" and permitted else None
    reveals = intake.reveals(web.services(), case_id) if who.role in ("office", "auditor") else []
    failed = next(iter(errors), None) if errors else None
    return web.page("cases/case.html", status, case_id=case_id, **data, own=own, on_behalf=on_behalf,
                    forms=commands.FORMS, directory=directory, errors=errors or {}, failed=failed,
                    values=commands.values(failed, form) if failed else {}, complainant=complainant, reveals=reveals,
                    suggestions=_suggestions(case_id, permitted), campaigns=_campaigns(data["written"], permitted),
                    # the office tells a complainant who asks (a unit or auditor has no use for it)
                    tracking_code=data["written"].get("tracking_code") if who.role == "office" else None,
                    idem=str(uuid.uuid4()))


def _suggestions(case_id: str, permitted: list[str]) -> list[dict[str, Any]] | None:
    """The ledger's duplicate suggestions (并单建议) while the case may still be merged or a suggestion
    dismissed; None where neither is offered (the ledger answers the office only)."""
    if not {"merge", "dismiss_duplicate"} & set(permitted):
        return None
    try:
        return ledger.duplicate_suggestions(web.services(), case_id)
    except ServiceError as exc:
        if exc.status != 404:
            raise
        return []                # received a moment ago: the ledger has not projected it yet


def _campaigns(written: dict[str, Any], permitted: list[str]) -> dict[str, str]:
    """The campaigns a case may join (its set-campaign form) or the one it is in (its facts): id -> name."""
    if "set_campaign" not in permitted and not written.get("campaign_id"):
        return {}
    return web.campaign_names()


def run_command(case_id: str, command: str):
    if command not in commands.FORMS:
        raise Refused()
    s = web.services()
    try:
        attachments = evidence.uploaded("cases", case_id, "attachments")
        body = commands.body(command, request.form, attachments)
        intake.command(s, case_id, command, body, version=forms.version(request.form),
                       key=request.form.get("idem") or str(uuid.uuid4()))
    except ServiceError as exc:
        if exc.status not in (409, 413, 415, 422):
            raise
        names = [f.name for f in commands.FORMS[command]]
        return render(case_id, errors={command: FormErrors.of(exc, names)}, form=request.form, status=exc.status)
    flash(f"已{messages.COMMANDS[command]}")
    return redirect(url_for("cases.case", case_id=case_id))


def reveal(case_id: str):
    """Show the complainant once, on this response only. intake records the reveal as an event of the
    trail (who, when, the reason given here); the console keeps no copy of the record or the data."""
    shown = intake.reveal_complainant(web.services(), case_id, request.form.get("reason", "").strip()[:500])
    return render(case_id, complainant=shown)


def instant(text: str) -> str:
    """A datetime-local value (China time) as an RFC 3339 instant for the services."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text          # the service names the field
    return (at if at.tzinfo else at.replace(tzinfo=SHANGHAI)).isoformat()


def as_of_page(fetch, template: str, case_id: str):
    """A case as it stood at the instant the form names, as the ledger or the trail rebuilds it."""
    at = request.args.get("at", "").strip()
    view, errors = None, None
    if at:
        try:
            view = fetch(web.services(), case_id, instant(at))
        except ServiceError as exc:
            if exc.status not in (404, 422):
                raise
            errors = FormErrors.of(exc, ("at",))
    return web.page(template, 200 if view or not at else 422, case_id=case_id, at=at, view=view, errors=errors)

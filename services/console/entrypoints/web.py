"""What every console page shares: the logged-in account, the services called on its behalf, role guards,
the office's settings, and turning a service's problem into Chinese next to the field it names."""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Mapping

from flask import Response, current_app, flash, g, render_template, request, stream_with_context
from werkzeug.exceptions import HTTPException

from zfcommon import jwks, logs

from ..adapters import intake, ledger
from ..adapters.repository import UnitOfWork
from ..adapters.services import Caller, ServiceError, Services
from ..domain import messages
from ..domain.accounts import Account, Policy
from ..domain.lights import DEFAULT_YELLOW_DAYS


class Refused(HTTPException):
    """A page the person may not see: rendered as the 403 page, never an empty page."""
    code = 403
    description = messages.PROBLEM_STATUS[403]


def uow() -> UnitOfWork:
    return UnitOfWork(current_app.extensions["zf_pool"])


def now():
    return current_app.extensions["zf_clock"].now()


def policy() -> Policy:
    return current_app.extensions["console_policy"]


def account() -> Account | None:
    return g.get("account")


def services() -> Services:
    """The services, called with a token minted for the logged-in person (actor = role:login)."""
    if "services" not in g:
        who = account()
        settings = current_app.extensions["zf_settings"]
        g.services = Services(urls=current_app.extensions["console_urls"], secret=jwks.signer(settings),
                              caller=Caller(who.role, who.login, who.unit),
                              correlation_id=logs.correlation_id.get() or "")
    return g.services


def roles(*allowed: str) -> Callable:
    """Only these roles reach the page; anyone else gets the 403 page."""
    def wrap(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            who = account()
            if who is None or who.role not in allowed:
                raise Refused()
            return view(*args, **kwargs)
        guarded.console_roles = allowed
        return guarded
    return wrap


def written(what: str, item_id: str) -> dict[str, Any]:
    """A task, project or campaign as intake has it now (with what the person may do next). One the person's
    token may not read is the 403 page: the services answer a unit 404 so as not to reveal it exists."""
    try:
        return intake.one(services(), what, item_id)
    except ServiceError as exc:
        if exc.status == 404 and account().role == "unit":
            raise Refused() from None
        raise


def projected(what: str, item_id: str) -> dict[str, Any] | None:
    """The ledger's view of it (overdue, ladders, figures, timeline), or None while the ledger has not yet
    projected what intake recorded a moment ago."""
    try:
        return ledger.one(services(), what, item_id)
    except ServiceError as exc:
        if exc.status != 404:
            raise
        return None


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def campaign_names(also: str = "") -> dict[str, str]:
    """Every campaign's id and name (the ledger's), for choosing one and naming it where an id is given.
    `also`: a campaign the page was asked for (the one launched a moment ago, from its own page), read
    from intake while the ledger has not projected it yet, so it is there to choose; one the person
    may not read is left out."""
    if "campaign_names" not in g:
        g.campaign_names = {c["campaign_id"]: c["name"] for c in ledger.listing(services(), "campaigns")["items"]}
    if also and also not in g.campaign_names:
        try:
            g.campaign_names[also] = intake.one(services(), "campaigns", also)["name"]
        except ServiceError:
            pass
    return g.campaign_names


def yellow_days() -> int:
    """The office's yellow-light threshold in working days (its setting; 3 until it sets one)."""
    if "yellow_days" not in g:
        with uow() as u:
            value = u.store.setting("yellow_days")
        g.yellow_days = DEFAULT_YELLOW_DAYS if value is None else int(value)
    return g.yellow_days


class FormErrors(dict):
    """Field -> messages in Chinese, plus `general` for what names no field."""

    @classmethod
    def of(cls, exc: ServiceError, fields: Iterable[str] = (), renamed: Mapping[str, str] | None = None) -> "FormErrors":
        """The problem's errors against the form's fields; `renamed` moves a service's field name to the form's
        (an item of a list to the row it came from: forms.row_errors)."""
        errors = cls()
        general = messages.problem_text(exc.status, exc.body)
        renamed = renamed or {}
        known = set(fields) | set(renamed.values())
        for service_name, msgs in _flatten(exc.errors):
            name = _place(service_name, renamed, known)
            target = name if name in known or not known else None
            texts = [messages.field_message(m) for m in msgs]
            if target:
                errors.setdefault(target, []).extend(texts)
            else:
                label = messages.FIELDS.get(name.split(".")[0], "")
                errors.setdefault("general", []).extend(f"{label}：{t}" if label else t for t in texts)
        errors.setdefault("general", []).insert(0, general)
        return errors


def _flatten(errors: Mapping[str, Any], prefix: str = "") -> list[tuple[str, list[str]]]:
    """Each message list with its full dotted name (complainant.phone, attachments.0.url, phases.1.ends_on)."""
    out = []
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out.append((name, [str(v) for v in value]))
        else:
            out.append((name, [str(value)]))
    return out


def _place(name: str, renamed: Mapping[str, str], known: set[str]) -> str:
    """The form's field for a service's dotted name: where `renamed` puts it or a prefix of it (an item of a
    list: its row), else the name itself if the form has it, else its top field (complainant.phone is shown
    against complainant)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if (head := ".".join(parts[:end])) in renamed:
            return renamed[head]
    return name if name in known else parts[0]


def attempt(action: Callable[[], Any], done: str, fields: Iterable[str] = (), renamed: Mapping[str, str] | None = None,
            explain: Callable[[ServiceError], str | None] | None = None) -> tuple[Any, FormErrors | None]:
    """Run a service call for a form: on success flash `done` and return its answer; a refusal (403, 404,
    409, 413, 415, 422) comes back as the form's errors in Chinese, next to the fields it names (`explain`:
    a page's own wording for a refusal it can say better)."""
    try:
        answer = action()
        flash(done)
        return answer, None
    except ServiceError as exc:
        if exc.status not in (403, 404, 409, 413, 415, 422):
            raise
        errors = FormErrors.of(exc, fields, renamed)
        if explain and (better := explain(exc)):
            errors["general"][0] = better
        return None, errors


def page(template: str, code: int = 200, **context: Any):
    return render_template(template, **context), code


def wants_partial() -> bool:
    """An htmx request for a fragment (the same template renders the full page without JavaScript)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def passthrough(upstream, keep: Iterable[str] = ("content-type", "content-disposition")) -> Response:
    """A service's file (an export, evidence, a PDF, the audit bundle) streamed on to the browser as it comes."""
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in keep}
    return Response(stream_with_context(upstream.iter_content(64 * 1024)), headers=headers)

"""What every console page shares: the logged-in account, the services called on its behalf, role guards,
the office's settings, and turning a service's problem into Chinese next to the field it names."""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Mapping

from flask import Response, current_app, g, render_template, request, stream_with_context
from werkzeug.exceptions import HTTPException

from zfcommon import jwks, logs

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
    def of(cls, exc: ServiceError, fields: Iterable[str] = ()) -> "FormErrors":
        errors = cls()
        general = messages.problem_text(exc.status, exc.body)
        known = set(fields)
        for name, msgs in _flatten(exc.errors):
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
    out = []
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            # nested fields (complainant.phone, attachments.0.url): shown against their top field
            out.extend((name.split(".")[0] if not prefix else prefix.rstrip("."), v)
                       for _, v in _flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out.append((name, [str(v) for v in value]))
        else:
            out.append((name, [str(value)]))
    return out


def page(template: str, code: int = 200, **context: Any):
    return render_template(template, **context), code


def wants_partial() -> bool:
    """An htmx request for a fragment (the same template renders the full page without JavaScript)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def passthrough(upstream, keep: Iterable[str] = ("content-type", "content-disposition")) -> Response:
    """A service's file (an export, evidence, a PDF, the audit bundle) streamed on to the browser as it comes."""
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in keep}
    return Response(stream_with_context(upstream.iter_content(64 * 1024)), headers=headers)

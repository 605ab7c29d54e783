"""flask-smorest's Blueprint as every service uses it: arguments are parsed by the request-validation
layer (zfcommon.inputs), and who may call an operation is declared with `roles` and checked before
anything of the request is read.

    @blp.route("/<case_id>/assign", methods=["POST"])
    @blp.roles("office")
    @blp.arguments(AssignIn)
    def assign(body, case_id): ...

The check runs in create_base_app's before_request, after authentication and before flask-smorest
parses the query or the body: an auditor posting `{}` to an office-only write is told 403, not which
fields are missing. A rule that also depends on the path (a monitoring point's token acts only on its
own point) is given as `also(principal, view_args)`, run at the same moment. The OpenAPI document lists
the roles of each operation (`x-roles`).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import flask_smorest
from flask import Flask, Request

from .auth import ROLES, Principal, role_refused
from .inputs import RequestParser

EVERYONE = ROLES
ROLES_ATTRIBUTE = "zf_roles"
Rule = Callable[[Principal, Mapping[str, Any]], None]


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = RequestParser()

    def roles(self, *roles: str, also: Rule | None = None) -> Callable:
        """Declare who may call the decorated view (any position among its decorators: functools.wraps
        carries the declaration outwards); `also` raises a Problem for a finer rule on the path."""
        if not roles or set(roles) - set(ROLES):
            raise ValueError(f"roles must be among {ROLES}: {roles}")

        def decorator(func: Callable) -> Callable:
            documented = self.doc(**{"x-roles": list(roles)})(func)
            setattr(documented, ROLES_ATTRIBUTE, (tuple(roles), also))
            return documented
        return decorator


def declared_roles(app: Flask, req: Request) -> tuple[tuple[str, ...], Rule | None] | None:
    """The roles (and finer rule) the matched view declared, or None (not a /v1 view, or one that
    declares none)."""
    view = app.view_functions.get(req.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = req.method.lower()
        view = getattr(view_class, method, None) or (getattr(view_class, "get", None) if method == "head" else None)
    return getattr(view, ROLES_ATTRIBUTE, None)


def check_role(app: Flask, req: Request, who: Principal) -> None:
    declared = declared_roles(app, req)
    if declared is None:
        return
    roles, also = declared
    if who.role not in roles:
        raise role_refused(who.role, roles)
    if also is not None:
        also(who, req.view_args or {})

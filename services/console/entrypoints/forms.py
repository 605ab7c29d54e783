"""Small helpers shared by the office's form pages: a form's text fields, lists and numbers as a body."""
from __future__ import annotations

from typing import Any, Iterable

from flask import request


def text(*names: str) -> dict[str, Any]:
    """The named fields that are filled in, trimmed."""
    return {n: request.form[n].strip() for n in names if request.form.get(n, "").strip()}


def lines(name: str) -> list[str]:
    return [line.strip() for line in request.form.get(name, "").replace("，", "\n").replace("、", "\n").splitlines()
            if line.strip()]


def number(name: str) -> Any:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return raw          # the service names the field


def picked(name: str) -> list[str]:
    return [v for v in request.form.getlist(name) if v]


def without_empty(body: dict[str, Any], keep: Iterable[str] = ()) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k in keep or v not in (None, "", [])}

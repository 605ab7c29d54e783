"""Small helpers shared by the office's form pages: a form's text fields, lists and numbers as a body, and
groups of rows (a campaign's phases, a task's milestones, a project type's stages)."""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

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


def finite(raw: str | None) -> Any:
    """A number typed on a form; what is not a finite number (三, nan, 1e309) as typed: the service
    names the field (JSON cannot carry NaN or infinity, so they never reach the HTTP client)."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def share(name: str) -> Any:
    """A percentage typed on the form (20 for 20 %) as the share the services take (0.2)."""
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    value = finite(raw)
    return value / 100 if isinstance(value, float) else value


def picked(name: str) -> list[str]:
    return [v for v in request.form.getlist(name) if v]


def without_empty(body: dict[str, Any], keep: Iterable[str] = ()) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k in keep or v not in (None, "", [])}


Rows = list[tuple[int, dict[str, str]]]


def rows(form: Mapping[str, str], prefix: str, names: Sequence[str], count: int) -> Rows:
    """The filled rows of a repeated group (phase-1-name, phase-1-starts_on …, up to `count`): each as its
    row number on the form and its values; a row left wholly empty is not one."""
    found = []
    for number in range(1, count + 1):
        row = {n: (form.get(f"{prefix}-{number}-{n}") or "").strip() for n in names}
        if any(row.values()):
            found.append((number, row))
    return found


def row_errors(field: str, prefix: str, filled: Rows) -> dict[str, str]:
    """Where a service's errors about each item of a list belong: `phases.1` (the second phase sent) is the
    form's row it came from (`phase-3` when row 2 was left empty)."""
    return {f"{field}.{index}": f"{prefix}-{number}" for index, (number, _) in enumerate(filled)}


def version(form: Mapping[str, str]) -> int | None:
    """The version of the item the form showed (its If-Match); None when absent or not a number."""
    value = (form.get("version") or "").strip()
    return int(value) if value.isdigit() else None

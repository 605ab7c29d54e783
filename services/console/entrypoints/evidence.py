"""Evidence files a report names (a case's attachments, a task's evidence): uploaded to intake with the
person's token as the form is submitted, and read back through the console by whoever may read the case
or task."""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from flask import request

from ..adapters import intake
from . import web


def uploaded(what: str, item_id: str, field: str, keep: Iterable[str] = ("name", "url")) -> list[dict[str, Any]]:
    """Every file chosen in the form's `field`, kept by intake as evidence of the case or task (what: cases,
    tasks); each as the report names it (`keep`: name, url, and sha256 where the report takes it)."""
    return [_upload(what, item_id, part, tuple(keep)) for part in request.files.getlist(field)
            if part and part.filename]


def _upload(what: str, item_id: str, part, keep: tuple[str, ...]) -> dict[str, Any]:
    data = part.read()
    # Keyed by the form and the file's bytes (ASCII: a header), so a resubmitted form stores each file once.
    key = f"{request.form.get('idem', '')}:{hashlib.sha256(data).hexdigest()[:32]}"
    stored = intake.upload(web.services(), what, item_id, part.filename, data,
                           part.mimetype or "application/octet-stream", key=key)
    return {k: stored[k] for k in keep}


def download(what: str, item_id: str, file_id: str):
    return web.passthrough(intake.file(web.services(), what, item_id, file_id),
                           ("content-type", "content-disposition", "x-content-type-options"))

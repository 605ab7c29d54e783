"""The keyset paging cursor: the (received_at, case_id) of a page's last case, opaque to clients."""
from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Mapping


def encode_cursor(row: Mapping[str, Any]) -> str:
    raw = json.dumps([row["received_at"].isoformat(), row["case_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError on a cursor we did not make."""
    if len(cursor) > 300:
        raise ValueError("not a cursor from this API")
    try:
        received, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(received)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError("not a cursor from this API") from exc
    if at.tzinfo is None:
        raise ValueError("not a cursor from this API")
    return at, str(case_id)

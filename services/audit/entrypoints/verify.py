"""`python -m audit.entrypoints.verify`: recompute the whole hash chain and name the first broken entry.

Exit status 0 when the trail verifies, 1 when it does not.
"""
from __future__ import annotations

import sys

from zfcommon import db
from zfcommon.settings import Settings

from ..domain.chain import first_break


def main() -> int:
    settings = Settings.from_env("audit")
    with db.connect(settings.database_url) as conn:
        with conn.cursor(name="verify") as cur:   # server-side cursor: constant memory
            cur.itersize = 5000
            cur.execute("SELECT seq, event, prev_hash, hash FROM trail ORDER BY seq")
            rows = ((r["seq"], r["event"].encode("utf-8"), bytes(r["prev_hash"]), bytes(r["hash"])) for r in cur)
            broken = first_break(rows)
        total = conn.execute("SELECT count(*) AS n FROM trail").fetchone()["n"]
    if broken is None:
        print(f"trail verified: {total} entries chain from genesis")
        return 0
    print(f"trail BROKEN at seq {broken} (of {total} entries)")
    return 1


if __name__ == "__main__":
    sys.exit(main())

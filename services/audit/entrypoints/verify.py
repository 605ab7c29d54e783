"""`python -m audit.entrypoints.verify`: recompute the trail, the Merkle tree and every signed tree
head from the stored events, and name everything that disagrees (service_layer/verify.py).

Needs only DATABASE_URL (the audit database). Exit status 0 when the log verifies, 1 when it does not.
"""
from __future__ import annotations

import sys

from zfcommon import db
from zfcommon.settings import Settings, run_entrypoint

from ..service_layer.verify import verify


def progress_bar(done: int, total: int) -> None:
    width = 40
    filled = width * done // total if total else width
    sys.stderr.write(f"\rverifying [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


def main() -> int:
    settings = Settings.from_env("audit", database_only=True)
    with db.connect(settings.database_url) as conn:
        problems = verify(conn, progress_bar if sys.stderr.isatty() else lambda *_: None)
        total = conn.execute("SELECT count(*) AS n FROM trail").fetchone()["n"]
        heads = conn.execute("SELECT count(*) AS n FROM tree_heads").fetchone()["n"]
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if not problems:
        print(f"log verified: {total} entries, Merkle tree and {heads} signed tree heads recomputed")
        return 0
    print(f"log BROKEN ({len(problems)} problems):")
    for p in problems[:100]:
        print(f"  {p}")
    return 1


if __name__ == "__main__":
    run_entrypoint(main)

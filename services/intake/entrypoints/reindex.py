"""`python -m intake.entrypoints.reindex`: build the Open311 request index from the event store.

Needed once for a database that held cases before migration 0003; harmless at any other time (every
row is written only if it is newer than the one there, so it may run while intake serves requests)."""
from __future__ import annotations

from zfcommon import db
from zfcommon.settings import Settings, run_entrypoint

from ..adapters.request_index import rebuild


def main() -> None:
    settings = Settings.from_env("intake")
    with db.connect(settings.database_url) as conn:
        n = rebuild(conn)
        conn.commit()
    print(f"open311 request index: {n} cases indexed")


if __name__ == "__main__":
    run_entrypoint(main)

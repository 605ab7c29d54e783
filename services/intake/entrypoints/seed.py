"""`python -m intake.entrypoints.seed`: record the seed taxonomy and default limits once, so every
service learns them from events; and give every case received before case numbers existed its number
(docs/DECISIONS.md "Case numbers"). Run by `zf up` and the compose migrate job after migrations; a second
run finds nothing to do."""
from __future__ import annotations

from zfcommon import db
from zfcommon.clock import clock_for
from zfcommon.settings import Settings, run_entrypoint

from ..adapters.contacts import load_master_key
from ..service_layer import handlers
from ..service_layer.uow import UnitOfWork


def main() -> None:
    settings = Settings.from_env("intake")
    pool = db.make_pool(settings.database_url, max_size=1, name="intake-seed")
    pool.open()
    try:
        key = load_master_key(settings.contact_key)

        def new_uow() -> UnitOfWork:
            return UnitOfWork(pool, key, settings.case_number_prefix)
        ctx = handlers.Context(actor="system:seed", correlation_id="seed", now=clock_for(settings.clock_file).now())
        with new_uow() as uow:
            n = handlers.seed_directory(uow, ctx)
            uow.commit()
        print(f"directory seeded with {n} events" if n else "directory already seeded")
        numbered = handlers.number_earlier_cases(new_uow, ctx)
        if numbered:
            print(f"{numbered} cases received before case numbers were numbered")
    finally:
        pool.close()


if __name__ == "__main__":
    run_entrypoint(main)

"""`python -m ledger.entrypoints.consumer`: projects case events into the ledger."""
from zfcommon.consumer import run_service_consumer
from zfcommon.events.catalogue import TOPICS
from zfcommon.settings import Settings

from ..adapters.repository import apply, apply_batch


def main() -> None:
    run_service_consumer(Settings.from_env("ledger"), "ledger", list(TOPICS), apply, apply_batch)


if __name__ == "__main__":
    main()

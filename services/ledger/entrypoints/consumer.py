"""`python -m ledger.entrypoints.consumer`: projects case events into the ledger.

It subscribes to the topics the ledger projects (repository.APPLY), not to all twelve: each fetch
names every partition of every subscribed topic, and kafka-python decodes them all (docs/BENCHMARKS.md,
fifth round: 0.314 → 0.296 ms of CPU per event at 500 events/s)."""
from zfcommon.consumer import run_service_consumer
from zfcommon.settings import Settings, run_entrypoint

from ..adapters.repository import APPLY, apply, apply_batch


def main() -> None:
    run_service_consumer(Settings.from_env("ledger"), "ledger", list(APPLY), apply, apply_batch)


if __name__ == "__main__":
    run_entrypoint(main)

"""`python -m audit.entrypoints.consumer`: appends every event of every topic to the trail."""
from zfcommon.consumer import run_service_consumer
from zfcommon.events.catalogue import TOPICS
from zfcommon.settings import Settings, run_entrypoint

from ..adapters.trail import apply, apply_batch


def main() -> None:
    run_service_consumer(Settings.from_env("audit"), "audit", list(TOPICS), apply, apply_batch)


if __name__ == "__main__":
    run_entrypoint(main)

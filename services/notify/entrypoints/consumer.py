"""`python -m notify.entrypoints.consumer`: keeps notify's projection of cases."""
from zfcommon.consumer import run_service_consumer
from zfcommon.events.catalogue import TOPICS
from zfcommon.settings import Settings

from ..adapters.repository import apply


def main() -> None:
    run_service_consumer(Settings.from_env("notify"), "notify", list(TOPICS), apply)


if __name__ == "__main__":
    main()

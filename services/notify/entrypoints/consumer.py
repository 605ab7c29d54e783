"""`python -m notify.entrypoints.consumer`: keeps notify's projection of cases and queues the webhook
deliveries each case event calls for (sent by `notify.entrypoints.dispatcher`)."""
from zfcommon.consumer import run_service_consumer
from zfcommon.events.catalogue import TOPICS
from zfcommon.settings import Settings, run_entrypoint

from ..service_layer.fanout import applier, batch_applier


def main() -> None:
    settings = Settings.from_env("notify")
    hotline_on = bool(settings.hotline_callback_url)
    run_service_consumer(settings, "notify", list(TOPICS), applier(hotline_on), batch_applier(hotline_on))


if __name__ == "__main__":
    run_entrypoint(main)

"""`python -m notify.entrypoints.relay`: notify's outbox relay process (zfcommon.relay)."""
from zfcommon.relay import main
from zfcommon.settings import run_entrypoint

if __name__ == "__main__":
    run_entrypoint(main, "notify")

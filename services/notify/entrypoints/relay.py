"""`python -m notify.entrypoints.relay`: notify's outbox relay process (zfcommon.relay)."""
from zfcommon.relay import main

if __name__ == "__main__":
    main("notify")

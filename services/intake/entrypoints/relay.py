"""`python -m intake.entrypoints.relay`: intake's outbox relay process (zfcommon.relay)."""
from zfcommon.relay import main

if __name__ == "__main__":
    main("intake")

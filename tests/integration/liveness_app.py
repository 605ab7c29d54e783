"""A service app (zfcommon.web.create_base_app) with three slow routes, for the liveness test under a
real gunicorn (tests/integration/test_liveness.py). Not a test module."""
from __future__ import annotations

import os
import time

from flask import Response

from zfcommon import liveness
from zfcommon.db import make_pool
from zfcommon.settings import Settings
from zfcommon.web import create_base_app

SECONDS = float(os.environ["PROBE_SECONDS"])
settings = Settings(service="probe", database_url=os.environ["DATABASE_URL"], kafka_bootstrap_servers="127.0.0.1:1",
                    jwt_algorithm="HS256", jwt_secret="probe-secret-probe-secret-probe-secret")
app, _ = create_base_app(settings, title="probe", pool=make_pool(settings.database_url))


@app.get("/stream")
def stream():
    """Sent in pieces for SECONDS, the way an export goes out: nothing here beats by itself."""
    def pieces():
        ends = time.monotonic() + SECONDS
        while time.monotonic() < ends:
            time.sleep(0.2)
            yield b"row\n"
    return Response(pieces(), mimetype="text/plain")


@app.get("/wait")
def wait():
    """Waits SECONDS for another service's answer, bounded."""
    with liveness.beating_while(SECONDS + 5):
        time.sleep(SECONDS)
    return "waited"


@app.get("/stuck")
def stuck():
    """Makes no progress for SECONDS."""
    time.sleep(SECONDS)
    return "too late"

"""gunicorn settings shared by the four HTTP services (`--config python:zfcommon.gunicorn_conf`)."""
from prometheus_client import multiprocess

accesslog = None          # access lines come from our JSON request log
graceful_timeout = 10
timeout = 30


def child_exit(server, worker):
    # A dead worker's live gauges must not linger in the multiprocess metrics directory.
    multiprocess.mark_process_dead(worker.pid)

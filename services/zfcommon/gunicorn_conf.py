"""gunicorn settings shared by the four HTTP services (`--config python:zfcommon.gunicorn_conf`)."""
from prometheus_client import multiprocess

accesslog = None          # access lines come from our JSON request log
graceful_timeout = 10
timeout = 30
# gunicorn 27's control socket lives at one path per user (~/.gunicorn/gunicorn.ctl) by default, so
# every stack on a machine (tests start several) would fight over it; we do not use it.
control_socket_disable = True


def post_worker_init(worker):
    # A worker making progress on a long response beats (zfcommon.liveness).
    from zfcommon import liveness
    liveness.WORKER = worker


def child_exit(server, worker):
    # A dead worker's live gauges must not linger in the multiprocess metrics directory.
    multiprocess.mark_process_dead(worker.pid)

"""Responses streamed from the database: a pooled connection held until the response is closed."""
from __future__ import annotations

from typing import Callable, Iterator

import psycopg
from flask import Response, current_app

Prepare = Callable[[psycopg.Connection], tuple[Iterator[bytes], dict[str, str]]]


def streamed(prepare: Prepare, mimetype: str) -> Response:
    """`prepare(conn)` gives the body's chunks (read from conn as they are sent) and the headers; it
    may raise, before the first byte, to refuse the request. The connection goes back to the pool
    once the body is sent, or when the server closes the response, whichever comes first."""
    pool = current_app.extensions["zf_pool"]
    conn = pool.getconn()
    try:
        body, headers = prepare(conn)
    except BaseException:
        pool.putconn(conn)
        raise

    released = []

    def release() -> None:
        if released:
            return
        released.append(True)
        try:
            getattr(body, "close", lambda: None)()
            conn.rollback()
        finally:
            pool.putconn(conn)

    def sent() -> Iterator[bytes]:
        try:
            yield from body
        finally:
            release()       # as soon as the last byte is out (a client may never close the response)
    response = Response(sent(), mimetype=mimetype, headers=headers)
    response.call_on_close(release)     # the client left before the end, or never read
    return response

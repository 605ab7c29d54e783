"""The benchmark's anchor: a bare Flask app doing what intake's POST /v1/cases must at least do.

One request = parse a JSON body, INSERT it as one row, COMMIT. Same server, same gunicorn flags and
worker count, same pool size (4, opened per worker after fork) as intake, so `intake ÷ anchor` says
how much of the floor cost intake's extra work (validation, auth, events, outbox, idempotency,
logging, metrics) adds. Run by bench/intake_load.py:

    gunicorn --pythonpath bench 'anchor_app:create_app()'     (BENCH_DATABASE_URL set)

The table is made by the load generator (it has the administrator's URL):

    CREATE SCHEMA bench_anchor; CREATE TABLE bench_anchor.rows (id bigserial PRIMARY KEY,
        body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

SCHEMA_SQL = (
    "CREATE SCHEMA IF NOT EXISTS bench_anchor;"
    "CREATE TABLE IF NOT EXISTS bench_anchor.rows (id bigserial PRIMARY KEY, body jsonb NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())"
)
DROP_SQL = "DROP SCHEMA IF EXISTS bench_anchor CASCADE"


def create_app() -> Flask:
    url = os.environ["BENCH_DATABASE_URL"]
    # Opened here, i.e. in each gunicorn worker after fork (no --preload), like intake's pool.
    pool = ConnectionPool(url, min_size=1, max_size=4, open=True, name="anchor")
    app = Flask("anchor")

    @app.post("/anchor")
    def anchor():
        body = request.get_json()
        with pool.connection() as conn:    # commits on leaving the block
            row = conn.execute("INSERT INTO bench_anchor.rows (body) VALUES (%s) RETURNING id",
                               (Jsonb(body),)).fetchone()
        return jsonify(id=row[0]), 201

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app

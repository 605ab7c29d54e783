"""The error statuses each operation's shape documents (zfcommon.openapi): every /v1 write may answer
409 — a refused transition naming the state, a version changed since it was read, a key already taken
(found by a deep schemathesis run: POST /v1/interim-reports answered an undocumented 409)."""
from __future__ import annotations

from zfcommon.openapi import error_statuses

BODY = {"requestBody": {"content": {"application/json": {"schema": {}}}}}


def test_every_v1_write_documents_409():
    for method in ("post", "put", "patch", "delete"):
        assert 409 in error_statuses("/v1/interim-reports", BODY, method)
        assert 409 in error_statuses("/v1/cases/{case_id}/accept", BODY, method)


def test_reads_and_other_paths_do_not():
    assert 409 not in error_statuses("/v1/cases", {}, "get")
    assert 409 not in error_statuses("/public/track", {}, "get")
    assert 409 not in error_statuses("/healthz", {}, "post")

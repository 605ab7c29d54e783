"""The audit transparency log on the real PostgreSQL: leaves follow the trail, heads are signed,
the API serves RFC 6962-shaped proofs that verify, and `verify` catches every kind of tampering."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.adapters import heads, trail
from audit.domain import checkpoint, merkle
from audit.entrypoints.http import create_app
from audit.service_layer.verify import verify
from zfcommon import db

from ..conftest import settings_for
from ..support import bearer
from .test_event_store import received

pytestmark = pytest.mark.integration
ORIGIN = "test.zhengfeng/audit"
KEY = heads.load_signing_key(base64.b64encode(bytes(range(32))).decode())


def fill(url: str, n: int, sign_every: int = 0) -> None:
    with db.connect(url) as conn:
        key_id = heads.register_key(conn, ORIGIN, KEY)
        for i in range(n):
            trail.apply(conn, received(f"case-{i}"))
            if sign_every and (i + 1) % sign_every == 0:
                heads.sign_if_grown(conn, ORIGIN, KEY, key_id)
        heads.sign_if_grown(conn, ORIGIN, KEY, key_id)
        conn.commit()


def tamper(admin_url: str, *statements: str) -> None:
    with db.connect(admin_url) as conn:
        conn.execute("SET session_replication_role = replica")    # a superuser bypassing the triggers
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def problems(url: str) -> list[str]:
    with db.connect(url) as conn:
        return verify(conn)


@pytest.fixture
def log(urls):
    fill(urls["audit"], 12, sign_every=5)
    return urls["audit"]


def test_an_untouched_log_verifies(log):
    assert problems(log) == []


@pytest.mark.parametrize("kind,statements,expected", [
    ("changed", ["UPDATE audit.trail SET event = replace(event, 'case-3', 'case-X') WHERE seq = 4"],
     "seq 4: hash chain broken"),
    ("removed", ["DELETE FROM audit.trail WHERE seq = 6"], "seq 6 expected, found 7"),
    ("inserted", ["UPDATE audit.trail SET seq = seq + 100 WHERE seq > 8",
                  "INSERT INTO audit.trail SELECT 9, 'forged', topic, subject, type, actor, event_time, event,"
                  " prev_hash, hash, recorded_at FROM audit.trail WHERE seq = 8",
                  "UPDATE audit.trail SET seq = seq - 99 WHERE seq > 100"], "hash chain broken"),
    ("reordered", ["UPDATE audit.trail SET seq = 100 WHERE seq = 2", "UPDATE audit.trail SET seq = 2 WHERE seq = 3",
                   "UPDATE audit.trail SET seq = 3 WHERE seq = 100"], "seq 2: hash chain broken"),
    ("node changed", ["UPDATE audit.merkle_nodes SET hash = sha256(hash) WHERE level = 1 AND idx = 2"],
     "merkle node (1, 2) differs"),
    ("head changed", ["UPDATE audit.tree_heads SET root = sha256(root) WHERE tree_size = 10"],
     "size 10: root differs"),
    ("head forged", ["UPDATE audit.tree_heads SET checkpoint = replace(checkpoint, E'\\n10\\n', E'\\n11\\n')"
                     " WHERE tree_size = 10"], "size 10"),
])
def test_verify_detects_every_kind_of_tampering(log, admin_url, kind, statements, expected):
    tamper(admin_url, *statements)
    found = problems(log)
    assert any(expected in p for p in found), found


def test_heads_are_signed_with_strictly_increasing_timestamps(log):
    with db.connect(log) as conn:
        rows = conn.execute("SELECT tree_size, timestamp_ms FROM tree_heads ORDER BY timestamp_ms").fetchall()
    assert [r["tree_size"] for r in rows] == [5, 10, 12]
    assert all(a["timestamp_ms"] < b["timestamp_ms"] for a, b in zip(rows, rows[1:]))


def test_the_api_serves_proofs_that_verify(log, urls):
    app = create_app(settings_for("audit", urls["audit"]))
    client, auditor = app.test_client(), bearer("auditor")
    sth = client.get("/v1/log/sth", headers=auditor).json
    assert sth["tree_size"] == 12
    root = base64.b64decode(sth["sha256_root_hash"])
    keys = client.get("/v1/log/public-keys", headers=auditor).json["keys"]
    public = base64.b64decode(keys[0]["public_key"])
    head = checkpoint.verify(client.get("/v1/log/checkpoint", headers=auditor).get_data(as_text=True),
                             {checkpoint.key_hash(ORIGIN, public): public})
    assert (head.tree_size, head.root) == (12, root)

    entries = client.get("/v1/log/entries?start=0&end=11", headers=auditor).json["entries"]
    for entry in entries:
        leaf = merkle.leaf_hash(base64.b64decode(entry["leaf_input"]))
        proof = client.get("/v1/log/proof-by-hash", query_string={"hash": base64.b64encode(leaf).decode(),
                                                                 "tree_size": 12}, headers=auditor).json
        assert proof["leaf_index"] == entry["leaf_index"]
        merkle.verify_inclusion(leaf, proof["leaf_index"], 12, [base64.b64decode(p) for p in proof["audit_path"]],
                                root)
    with db.connect(log) as conn:
        root5 = bytes(heads.at_size(conn, 5)["root"])
    consistency = client.get("/v1/log/sth-consistency?first=5&second=12", headers=auditor).json["consistency"]
    merkle.verify_consistency(5, 12, [base64.b64decode(p) for p in consistency], root5, root)
    leaves = client.get(f"/v1/log/cases/{entries[3]['event']['subject']}/leaves", headers=auditor).json["leaves"]
    assert [x["leaf_index"] for x in leaves] == [3]
    assert client.get("/v1/log/sth-consistency?first=4&second=12", headers=auditor).status_code == 422
    assert client.get("/v1/log/sth", headers=bearer("unit", unit="县自然资源局")).status_code == 403
    app.extensions["zf_pool"].close()


def test_a_rotated_key_leaves_old_heads_verifiable(log, urls):
    new_key = heads.load_signing_key(base64.b64encode(bytes(range(1, 33))).decode())
    with db.connect(log) as conn:
        key_id = heads.register_key(conn, ORIGIN, new_key)
        trail.apply(conn, received("after-rotation"))
        heads.sign_if_grown(conn, ORIGIN, new_key, key_id)
        conn.commit()
        assert len(heads.keys(conn)) == 2
    assert problems(log) == []


def test_auditors_replay_by_position_time_case_unit_type_and_actor(log, urls):
    app = create_app(settings_for("audit", urls["audit"]))
    client, auditor = app.test_client(), bearer("auditor")

    def replay(**params):
        return client.get("/v1/events", query_string=params, headers=auditor)
    everything = replay(limit=1000).json["items"]
    assert [e["seq"] for e in everything] == list(range(1, 13))
    assert [e["seq"] for e in replay(after=10).json["items"]] == [11, 12]
    assert [e["event"]["subject"] for e in replay(subject="case-4").json["items"]] == ["case-4"]
    assert len(replay(unit="县自然资源局").json["items"]) == 12 and replay(unit="别的单位").json["items"] == []
    assert len(replay(type="cn.zhengfeng.case.received.v1", actor="office:tester").json["items"]) == 12
    assert replay(actor="unit:someone").json["items"] == []
    first_time = everything[0]["event"]["time"]
    assert len(replay(since=first_time).json["items"]) == 12 and replay(until=first_time).json["items"] == []
    paged = replay(limit=5).json
    assert paged["next_after"] == 5
    assert replay(colour="red").status_code == 422
    app.extensions["zf_pool"].close()


def test_the_whole_trail_streams_as_stored_one_event_per_line_for_rebuilds(log, urls):
    app = create_app(settings_for("audit", urls["audit"]))
    client, auditor = app.test_client(), bearer("auditor")
    with db.connect(log) as conn:
        stored = [r["event"].encode() for r in conn.execute("SELECT event FROM trail ORDER BY seq")]
    # A stored event holding what COPY's formats would quote or escape: a backslash, a quote, a tab.
    with db.connect(log) as conn:
        trail.apply(conn, received("case-\\ \"quoted\"\tand tabbed"))
        conn.commit()
        stored.append(conn.execute("SELECT event FROM trail WHERE seq = 13").fetchone()["event"].encode())
    whole = client.get("/v1/events/stream", headers=auditor)
    assert whole.status_code == 200 and whole.mimetype == "application/x-ndjson"
    assert whole.headers["X-Trail-Until"] == "13"
    assert whole.data == b"".join(line + b"\n" for line in stored)     # byte for byte what the trail holds
    assert json.loads(whole.data.split(b"\n")[12])["subject"] == 'case-\\ "quoted"\tand tabbed'
    part = client.get("/v1/events/stream", query_string={"after": 10, "until": 12}, headers=auditor)
    assert part.headers["X-Trail-Until"] == "12" and part.data.splitlines() == stored[10:12]
    beyond = client.get("/v1/events/stream", query_string={"after": 20}, headers=auditor)
    assert beyond.status_code == 200 and beyond.data == b""
    assert client.get("/v1/events/stream", query_string={"after": -1}, headers=auditor).status_code == 422
    assert client.get("/v1/events/stream", query_string={"limit": 5}, headers=auditor).status_code == 422
    assert client.get("/v1/events/stream", headers=bearer("unit", unit="县自然资源局")).status_code == 403
    # Each stream gives its connection back to the pool (four) once read, closed or not by the client.
    for _ in range(6):
        assert client.get("/v1/events/stream", headers=auditor).data == whole.data
    assert client.get("/v1/events", headers=auditor).status_code == 200
    app.extensions["zf_pool"].close()


def test_any_case_is_rebuilt_from_the_trail_as_of_any_time(urls):
    from datetime import timedelta

    from zfcommon.events import new_event

    first = received("case-asof")
    assigned = new_event(service="intake", type="cn.zhengfeng.case.assigned.v1", subject="case-asof", data={
        "lead_unit": "县自然资源局", "cooperating_units": [], "handling_mode": "deadline", "deadline": "2030-01-31",
        "deadline_basis": {"rule": "explicit", "from_date": "2030-01-02", "working_days": None},
        "sign_for_due": "2030-01-03", "note": None}, streamversion=2, correlationid="c", actor="office:tester",
        time=first.time + timedelta(hours=1))
    numbered = new_event(service="intake", type="cn.zhengfeng.case.numbered.v1", subject="case-asof",
                         data={"case_number": "ZF-2030-000042"}, streamversion=3, correlationid="c",
                         actor="system:seed", time=first.time + timedelta(hours=3))
    with db.connect(urls["audit"]) as conn:
        trail.apply_batch(conn, [first, assigned, numbered])
        conn.commit()
    app = create_app(settings_for("audit", urls["audit"]))
    client, auditor = app.test_client(), bearer("auditor")

    def as_of(at):
        return client.get("/v1/cases/case-asof/as-of", query_string={"at": at.isoformat()}, headers=auditor)
    before = as_of(first.time + timedelta(minutes=30)).json
    assert before["case"]["status"] == "received" and before["trail_seqs"] == [1]
    after = as_of(first.time + timedelta(hours=2)).json
    assert after["case"]["status"] == "assigned" and after["case"]["lead_unit"] == "县自然资源局"
    assert after["case"]["case_number"] is None                 # received before case numbers …
    numbered_then = as_of(first.time + timedelta(hours=4)).json["case"]
    assert numbered_then["case_number"] == "ZF-2030-000042"     # … and numbered later, as the trail says
    assert as_of(first.time - timedelta(days=1)).status_code == 404
    assert client.get("/v1/cases/case-asof/as-of", query_string={"at": "2030-01-01T00:00:00+08:00"},
                      headers=bearer("unit", unit="县自然资源局")).status_code == 403
    app.extensions["zf_pool"].close()


def test_every_signed_head_is_served_by_size_so_any_two_historical_heads_can_be_proved_consistent(log, urls):
    """An auditor who never polled /sth fetches two old heads, checks their signatures with the published
    key, and checks the consistency proof between them: the verifiers used are the ones the reference
    vectors pin (merkle.verify_consistency) and Ed25519 itself, not the server's word."""
    app = create_app(settings_for("audit", urls["audit"]))
    client, auditor = app.test_client(), bearer("auditor")
    [key] = client.get("/v1/log/public-keys", headers=auditor).json["keys"]
    public = base64.b64decode(key["public_key"])

    first = client.get("/v1/log/checkpoints", query_string={"limit": 2}, headers=auditor).json
    assert [h["tree_size"] for h in first["items"]] == [5, 10] and first["next_after"] == 10
    rest = client.get("/v1/log/checkpoints", query_string={"after": 10, "limit": 2}, headers=auditor).json
    assert [h["tree_size"] for h in rest["items"]] == [12] and rest["next_after"] is None

    note = client.get("/v1/log/checkpoints/5", headers={**auditor, "Accept": "text/plain"})
    assert note.mimetype == "text/plain"
    old = checkpoint.verify(note.get_data(as_text=True), {checkpoint.key_hash(ORIGIN, public): public})
    newer = client.get("/v1/log/checkpoints/10", headers=auditor).json
    assert newer == first["items"][1] and newer["key_id"] == key["key_id"]
    root10 = base64.b64decode(newer["sha256_root_hash"])
    body = checkpoint.TreeHead(ORIGIN, 10, root10, newer["timestamp"]).body()
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(newer["tree_head_signature"]), body.encode())
    assert newer["checkpoint"].startswith(body + "\n— ")

    proof = [base64.b64decode(p) for p in client.get(
        "/v1/log/sth-consistency", query_string={"first": old.tree_size, "second": 10}, headers=auditor).json["consistency"]]
    merkle.verify_consistency(old.tree_size, 10, proof, old.root, root10)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old.tree_size, 10, proof, old.root, merkle.leaf_hash(b"another log"))

    missing = client.get("/v1/log/checkpoints/7", headers=auditor)
    assert missing.status_code == 404 and missing.json["code"] == "log.checkpoint_not_found"
    assert client.get("/v1/log/checkpoints", query_string={"limit": 0}, headers=auditor).status_code == 422
    assert client.get("/v1/log/checkpoints/5", headers=bearer("unit", unit="县自然资源局")).status_code == 403
    app.extensions["zf_pool"].close()

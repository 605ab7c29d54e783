"""The transparency-log API, in the shape of RFC 6962 §4 (JSON, base64 hashes), under /v1/log."""
from __future__ import annotations

import base64
import binascii
import json
import shutil
import tempfile
from pathlib import Path

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema, ValidationError

from zfcommon.auth import require_role
from zfcommon.problem import NotFound, Unprocessable
from zfcommon.web import principal

from ..adapters import heads, tree
from ..service_layer import bundle

blp = Blueprint("log", __name__, url_prefix="/v1/log", description="Signed tree heads and proofs (RFC 6962 §4)")
READERS = ("auditor", "office")
Q = {"location": "query", "unknown": None}


def _b64(b: bytes) -> str:
    return base64.b64encode(bytes(b)).decode()


def _conn():
    return current_app.extensions["zf_pool"].connection()


def _head_json(h) -> dict:
    return {"tree_size": h["tree_size"], "timestamp": h["timestamp_ms"], "sha256_root_hash": _b64(h["root"]),
            "tree_head_signature": _b64(h["signature"]), "key_id": h["key_id"], "checkpoint": h["checkpoint"]}


def _signed_size(conn, size: int, name: str) -> None:
    """Proofs are only given for sizes a signed head covers: a proof means something against a root
    that the log committed to, and the size is bound to the root only by the signature."""
    if heads.at_size(conn, size) is None:
        raise Unprocessable(f"no signed tree head has size {size}", errors={name: ["not a signed tree size"]})


class Consistency(Schema):
    first = fields.Integer(required=True, validate=validate.Range(min=1))
    second = fields.Integer(required=True, validate=validate.Range(min=1))

    @validates_schema
    def _order(self, data, **_):
        if data["first"] > data["second"]:
            raise ValidationError("must not exceed second", "first")


class ProofByHash(Schema):
    hash = fields.String(required=True)
    tree_size = fields.Integer(required=True, validate=validate.Range(min=1))


class Entries(Schema):
    start = fields.Integer(required=True, validate=validate.Range(min=0))
    end = fields.Integer(required=True, validate=validate.Range(min=0))

    @validates_schema
    def _order(self, data, **_):
        if data["end"] < data["start"] or data["end"] - data["start"] >= 1000:
            raise ValidationError("end must be ≥ start and at most 999 more", "end")


def _latest() -> dict:
    require_role(principal(), *READERS)
    with _conn() as conn:
        h = heads.latest(conn)
    if h is None:
        raise NotFound("no tree head has been signed yet")
    return h


@blp.route("/sth")
class LatestHead(MethodView):
    def get(self):
        """The latest signed tree head."""
        return _head_json(_latest())


@blp.route("/checkpoint")
class Checkpoint(MethodView):
    def get(self):
        """The latest signed tree head as a C2SP signed note (text/plain)."""
        return Response(_latest()["checkpoint"], mimetype="text/plain")


@blp.route("/public-keys")
class PublicKeys(MethodView):
    def get(self):
        """Every key that ever signed a head (rotation keeps old heads verifiable)."""
        require_role(principal(), *READERS)
        with _conn() as conn:
            return {"keys": [{"key_id": k["key_id"], "origin": k["origin"], "public_key": _b64(k["public_key"]),
                              "algorithm": "Ed25519", "first_used": k["first_used"].isoformat()}
                             for k in heads.keys(conn)]}


@blp.route("/sth-consistency")
class ConsistencyProof(MethodView):
    @blp.arguments(Consistency, **Q)
    def get(self, q):
        """Consistency proof between two signed tree sizes."""
        require_role(principal(), *READERS)
        with _conn() as conn:
            _signed_size(conn, q["first"], "first")
            _signed_size(conn, q["second"], "second")
            return {"consistency": [_b64(h) for h in tree.consistency(conn, q["first"], q["second"])]}


@blp.route("/proof-by-hash")
class InclusionProof(MethodView):
    @blp.arguments(ProofByHash, **Q)
    def get(self, q):
        """Inclusion proof of a leaf (by its hash) in the tree of a signed size."""
        require_role(principal(), *READERS)
        try:
            leaf = base64.b64decode(q["hash"], validate=True)
        except (binascii.Error, ValueError):
            raise Unprocessable("hash must be base64", errors={"hash": ["not base64"]}) from None
        with _conn() as conn:
            _signed_size(conn, q["tree_size"], "tree_size")
            row = conn.execute("SELECT idx FROM merkle_nodes WHERE level = 0 AND hash = %s AND idx < %s"
                               " ORDER BY idx LIMIT 1", (leaf, q["tree_size"])).fetchone()
            if row is None:
                raise NotFound("no such leaf in a tree of that size")
            path = tree.inclusion(conn, row["idx"], q["tree_size"])
        return {"leaf_index": row["idx"], "audit_path": [_b64(h) for h in path]}


@blp.route("/entries")
class LogEntries(MethodView):
    @blp.arguments(Entries, **Q)
    def get(self, q):
        """Entries start..end (inclusive): the leaf input (canonical event bytes) and the event."""
        require_role(principal(), *READERS)
        with _conn() as conn:
            rows = conn.execute("SELECT seq, event FROM trail WHERE seq BETWEEN %s AND %s ORDER BY seq",
                                (q["start"] + 1, q["end"] + 1)).fetchall()
        return {"entries": [{"leaf_index": r["seq"] - 1, "leaf_input": _b64(r["event"].encode()),
                             "event": json.loads(r["event"])} for r in rows]}


@blp.route("/cases/<case_id>/leaves")
class CaseLeaves(MethodView):
    def get(self, case_id):
        """The leaves of one case: index, hash and event."""
        require_role(principal(), *READERS)
        with _conn() as conn:
            rows = conn.execute("SELECT t.seq, t.event, n.hash FROM trail t JOIN merkle_nodes n"
                                " ON n.level = 0 AND n.idx = t.seq - 1 WHERE t.subject = %s ORDER BY t.seq",
                                (case_id,)).fetchall()
        return {"case_id": case_id, "leaves": [{"leaf_index": r["seq"] - 1, "leaf_hash": _b64(r["hash"]),
                                                "event": json.loads(r["event"])} for r in rows]}


class BundleQuery(Schema):
    start = fields.Integer(load_default=0, validate=validate.Range(min=0))
    end = fields.Integer(validate=validate.Range(min=0), metadata={"description": "default: the latest signed size"})


@blp.route("/bundle.tar")
class Bundle(MethodView):
    @blp.arguments(BundleQuery, **Q)
    @blp.doc(responses={"200": {"description": "the audit bundle (docs/MERKLE.md), for verify_bundle offline",
                                "content": {"application/x-tar": {}}}})
    def get(self, q):
        """The same bundle as `python -m audit.entrypoints.export`, as a download: leaves [start, end)."""
        require_role(principal(), *READERS)
        folder = Path(tempfile.mkdtemp(prefix="zf-bundle-"))
        target = folder / "bundle.tar"
        try:
            with _conn() as conn:
                manifest = bundle.export(conn, target, q["start"], q.get("end"))
                conn.commit()
            data = target.read_bytes()
        except ValueError as exc:
            raise Unprocessable(str(exc), errors={"end": [str(exc)]}) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        name = f"zhengfeng-audit-{manifest['start']}-{manifest['end']}.tar"
        return Response(data, mimetype="application/x-tar",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

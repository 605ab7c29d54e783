"""The transparency-log API, in the shape of RFC 6962 §4 (JSON, base64 hashes), under /v1/log."""
from __future__ import annotations

import base64
import binascii
import json

from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate, validates_schema, ValidationError

from zfcommon.blueprint import Blueprint
from zfcommon.problem import NotFound, Unprocessable

from ..adapters import heads, tree

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
        raise Unprocessable(f"没有树大小为 {size} 的已签名树头", code="log.size_not_signed",
                            errors={name: ["不是已签名树头的大小"]})


class Consistency(Schema):
    first = fields.Integer(required=True, validate=validate.Range(min=1))
    second = fields.Integer(required=True, validate=validate.Range(min=1))

    @validates_schema
    def _order(self, data, **_):
        if data["first"] > data["second"]:
            raise ValidationError("不能大于 second", "first")


class ProofByHash(Schema):
    hash = fields.String(required=True)
    tree_size = fields.Integer(required=True, validate=validate.Range(min=1))


class Entries(Schema):
    start = fields.Integer(required=True, validate=validate.Range(min=0))
    end = fields.Integer(required=True, validate=validate.Range(min=0))

    @validates_schema
    def _order(self, data, **_):
        if data["end"] < data["start"] or data["end"] - data["start"] >= 1000:
            raise ValidationError("end 须 ≥ start，且最多比 start 大 999", "end")


class SignedTreeHead(Schema):
    tree_size = fields.Integer(required=True)
    timestamp = fields.Integer(required=True, metadata={"description": "milliseconds since the epoch"})
    sha256_root_hash = fields.String(required=True, metadata={"description": "base64"})
    tree_head_signature = fields.String(required=True, metadata={"description": "base64 Ed25519 signature"})
    key_id = fields.String(required=True)
    checkpoint = fields.String(required=True, metadata={"description": "the same head as a C2SP signed note"})


class SignedTreeHeads(Schema):
    items = fields.List(fields.Nested(SignedTreeHead), required=True)
    next_after = fields.Integer(required=True, allow_none=True,
                                metadata={"description": "the `after` of the next page; null on the last"})


class PublicKey(Schema):
    key_id = fields.String(required=True)
    origin = fields.String(required=True)
    public_key = fields.String(required=True, metadata={"description": "base64 Ed25519 public key"})
    algorithm = fields.String(required=True)
    first_used = fields.String(required=True, metadata={"format": "date-time"})


class PublicKeys(Schema):
    keys = fields.List(fields.Nested(PublicKey), required=True)


class ConsistencyOut(Schema):
    consistency = fields.List(fields.String(), required=True, metadata={"description": "base64 hashes"})


class InclusionOut(Schema):
    leaf_index = fields.Integer(required=True)
    audit_path = fields.List(fields.String(), required=True, metadata={"description": "base64 hashes"})


class Entry(Schema):
    leaf_index = fields.Integer(required=True)
    leaf_input = fields.String(required=True, metadata={"description": "base64 of the canonical event bytes"})
    event = fields.Dict(required=True, metadata={"description": "the CloudEvent"})


class EntriesOut(Schema):
    entries = fields.List(fields.Nested(Entry), required=True)


class Leaf(Schema):
    leaf_index = fields.Integer(required=True)
    leaf_hash = fields.String(required=True, metadata={"description": "base64"})
    event = fields.Dict(required=True, metadata={"description": "the CloudEvent"})


class LeavesOut(Schema):
    case_id = fields.String(required=True)
    leaves = fields.List(fields.Nested(Leaf), required=True)


NO_HEAD = "no tree head has been signed yet"


class CheckpointPage(Schema):
    class Meta:
        unknown = "raise"
    after = fields.Integer(load_default=0, validate=validate.Range(min=0),
                           metadata={"description": "list the heads of tree sizes greater than this"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


def _signed(h: dict) -> Response | dict:
    """A head as JSON, or as its C2SP signed note when the client asks for text/plain."""
    if request.accept_mimetypes.best_match(["application/json", "text/plain"]) == "text/plain":
        return Response(h["checkpoint"], mimetype="text/plain")
    return _head_json(h)


def _latest() -> dict:
    with _conn() as conn:
        h = heads.latest(conn)
    if h is None:
        raise NotFound("还没有签名过任何树头", code="log.no_signed_head")
    return h


@blp.route("/sth")
class LatestHead(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, SignedTreeHead)
    @blp.alt_response(404, description=NO_HEAD)
    def get(self):
        """The latest signed tree head."""
        return _head_json(_latest())


@blp.route("/checkpoint")
class Checkpoint(MethodView):
    @blp.roles(*READERS)
    @blp.doc(responses={"200": {"description": "C2SP signed note",
                                "content": {"text/plain": {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, description=NO_HEAD)
    def get(self):
        """The latest signed tree head as a C2SP signed note (text/plain)."""
        return Response(_latest()["checkpoint"], mimetype="text/plain")


@blp.route("/checkpoints")
class Checkpoints(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(CheckpointPage, **Q)
    @blp.response(200, SignedTreeHeads)
    def get(self, q):
        """Every signed tree head by tree size, oldest first (paged: follow `next_after`)."""
        with _conn() as conn:
            rows = heads.page(conn, q["after"], q["limit"])
        return {"items": [_head_json(h) for h in rows],
                "next_after": rows[-1]["tree_size"] if len(rows) == q["limit"] else None}


@blp.route("/checkpoints/<int:size>")
class CheckpointBySize(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, SignedTreeHead)
    @blp.doc(responses={"200": {"content": {"text/plain": {"schema": {"type": "string"},
                                                           "description": "the C2SP signed note"}}}})
    @blp.alt_response(404, description="no head was signed at that tree size")
    def get(self, size):
        """The head signed for a tree size: JSON, or the C2SP signed note with `Accept: text/plain`."""
        with _conn() as conn:
            h = heads.at_size(conn, size)
        if h is None:
            raise NotFound(f"没有为树大小 {size} 签名的树头", code="log.checkpoint_not_found", tree_size=size)
        return _signed(h)


@blp.route("/public-keys")
class SigningKeys(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, PublicKeys)
    def get(self):
        """Every key that ever signed a head (rotation keeps old heads verifiable)."""
        with _conn() as conn:
            return {"keys": [{"key_id": k["key_id"], "origin": k["origin"], "public_key": _b64(k["public_key"]),
                              "algorithm": "Ed25519", "first_used": k["first_used"].isoformat()}
                             for k in heads.keys(conn)]}


@blp.route("/sth-consistency")
class ConsistencyProof(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(Consistency, **Q)
    @blp.response(200, ConsistencyOut)
    def get(self, q):
        """Consistency proof between two signed tree sizes."""
        with _conn() as conn:
            _signed_size(conn, q["first"], "first")
            _signed_size(conn, q["second"], "second")
            return {"consistency": [_b64(h) for h in tree.consistency(conn, q["first"], q["second"])]}


@blp.route("/proof-by-hash")
class InclusionProof(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(ProofByHash, **Q)
    @blp.response(200, InclusionOut)
    @blp.alt_response(404, description="no such leaf in a tree of that size")
    def get(self, q):
        """Inclusion proof of a leaf (by its hash) in the tree of a signed size."""
        try:
            leaf = base64.b64decode(q["hash"], validate=True)
        except (binascii.Error, ValueError):
            raise Unprocessable("hash 须为 base64 编码", code="log.hash_invalid", errors={"hash": ["不是 base64"]}) from None
        with _conn() as conn:
            _signed_size(conn, q["tree_size"], "tree_size")
            row = conn.execute("SELECT idx FROM merkle_nodes WHERE level = 0 AND hash = %s AND idx < %s"
                               " ORDER BY idx LIMIT 1", (leaf, q["tree_size"])).fetchone()
            if row is None:
                raise NotFound("在该大小的树中没有这个叶子", code="log.leaf_not_found")
            path = tree.inclusion(conn, row["idx"], q["tree_size"])
        return {"leaf_index": row["idx"], "audit_path": [_b64(h) for h in path]}


@blp.route("/entries")
class LogEntries(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(Entries, **Q)
    @blp.response(200, EntriesOut)
    def get(self, q):
        """Entries start..end (inclusive): the leaf input (canonical event bytes) and the event."""
        with _conn() as conn:
            rows = conn.execute("SELECT seq, event FROM trail WHERE seq BETWEEN %s AND %s ORDER BY seq",
                                (q["start"] + 1, q["end"] + 1)).fetchall()
        return {"entries": [{"leaf_index": r["seq"] - 1, "leaf_input": _b64(r["event"].encode()),
                             "event": json.loads(r["event"])} for r in rows]}


@blp.route("/cases/<case_id>/leaves")
class CaseLeaves(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, LeavesOut)
    def get(self, case_id):
        """The leaves of one case: index, hash and event."""
        with _conn() as conn:
            rows = conn.execute("SELECT t.seq, t.event, n.hash FROM trail t JOIN merkle_nodes n"
                                " ON n.level = 0 AND n.idx = t.seq - 1 WHERE t.subject = %s ORDER BY t.seq",
                                (case_id,)).fetchall()
        return {"case_id": case_id, "leaves": [{"leaf_index": r["seq"] - 1, "leaf_hash": _b64(r["hash"]),
                                                "event": json.loads(r["event"])} for r in rows]}

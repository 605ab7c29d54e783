"""Offline bundle verification (audit.service_layer.bundle.verify_bundle) on bundles built here from
the pure functions alone, no database; and the verify_bundle CLI's exit codes, run as a process.
The tamper helpers rewrite the manifest's file hashes as a forger would, so that each test shows the
forgery is caught by the Merkle tree or the signatures, not merely by the (unsigned) manifest."""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.domain import checkpoint, merkle
from audit.domain.chain import canonical_bytes
from audit.service_layer.bundle import FILES, FORMAT, verify_bundle

ORIGIN = "test.zhengfeng/audit"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv/bin/python" if (ROOT / ".venv/bin/python").exists() else Path(sys.executable)


def event(i: int) -> bytes:
    # U+2028 is a line break for str.splitlines but not for the bundle: it must survive as data.
    return canonical_bytes({"specversion": "1.0", "id": f"e-{i}", "source": "/intake", "type": "case.received",
                            "subject": f"case-{i}", "data": {"n": i, "note": f"第{i}号\u2028行"}})


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def build(out: Path, n: int = 12, sign_at=(5, 10, 12), start: int = 0, end: int | None = None) -> Path:
    """A bundle of leaves [start, end) of an n-leaf log signed at sign_at, written as the exporter does."""
    end = max(sign_at) if end is None else end
    leaves = [event(i) for i in range(n)]
    out.mkdir(parents=True)
    (out / "events.jsonl").write_bytes(b"".join(e + b"\n" for e in leaves[start:end]))
    heads = []
    for t, size in enumerate(s for s in sign_at if s <= end):
        head = checkpoint.TreeHead(ORIGIN, size, merkle.root(map(merkle.leaf_hash, leaves[:size])), 1000 + t)
        heads.append({"tree_size": size, "timestamp_ms": head.timestamp_ms, "root": b64(head.root),
                      "key_id": checkpoint.key_hash(ORIGIN, checkpoint.public_bytes(KEY.public_key())).hex(),
                      "checkpoint": checkpoint.sign(head, KEY)[0]})
    (out / "heads.jsonl").write_bytes(b"".join(json.dumps(h, ensure_ascii=False).encode() + b"\n" for h in heads))
    public = checkpoint.public_bytes(KEY.public_key())
    (out / "keys.json").write_text(json.dumps([{"key_id": checkpoint.key_hash(ORIGIN, public).hex(),
                                                "origin": ORIGIN, "public_key": b64(public)}]))
    before = merkle.CompactRange()
    for e in leaves[:start]:
        before.append(merkle.leaf_hash(e))
    manifest = {"format": FORMAT, "origin": ORIGIN, "start": start, "end": end, "count": end - start,
                "latest_head": heads[-1] if heads else None,
                "frontier": [{"level": lv, "index": i, "hash": b64(h)}
                             for (lv, i), h in zip(merkle.frontier(start), before.hashes)], "sha256": {}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    rehash(out)
    return out


def rehash(bundle: Path) -> None:
    """What a forger does after editing files: make the manifest's hashes match again."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["sha256"] = {f: hashlib.sha256((bundle / f).read_bytes()).hexdigest() for f in FILES}
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def edit_lines(bundle: Path, name: str, change) -> None:
    lines = (bundle / name).read_bytes().split(b"\n")[:-1]
    (bundle / name).write_bytes(b"".join(line + b"\n" for line in change(lines)))
    rehash(bundle)


def edit_head(bundle: Path, index: int, change) -> None:
    def apply(lines):
        heads = [json.loads(line) for line in lines]
        change(heads[index])
        return [json.dumps(h, ensure_ascii=False).encode() for h in heads]
    edit_lines(bundle, "heads.jsonl", apply)


def _bad_signature(head: dict) -> None:
    body, sig = head["checkpoint"].rsplit(" ", 1)
    blob = bytearray(base64.b64decode(sig))
    blob[10] ^= 1                                    # inside the Ed25519 signature, after the key hash
    head["checkpoint"] = f"{body} {b64(bytes(blob))}\n"


def _other_key(bundle: Path) -> None:
    public = checkpoint.public_bytes(OTHER.public_key())
    (bundle / "keys.json").write_text(json.dumps([{"key_id": checkpoint.key_hash(ORIGIN, public).hex(),
                                                   "origin": ORIGIN, "public_key": b64(public)}]))
    rehash(bundle)


def _swap(lines):
    lines[2], lines[3] = lines[3], lines[2]
    return lines


TAMPERS = {
    "event changed": (lambda b: edit_lines(b, "events.jsonl", lambda ls: [
        ls[0], ls[1].replace(b"case-", b"case-X"), *ls[2:]]), "root differs"),
    "event dropped": (lambda b: edit_lines(b, "events.jsonl", lambda ls: ls[:4] + ls[5:]), "events.jsonl has"),
    "events swapped": (lambda b: edit_lines(b, "events.jsonl", _swap), "root differs"),
    "head root changed": (lambda b: edit_head(b, -2, lambda h: h.update(
        root=b64(hashlib.sha256(base64.b64decode(h["root"])).digest()))), "root differs"),
    "signature corrupted": (lambda b: edit_head(b, -1, _bad_signature), "signature does not verify"),
    "another public key": (_other_key, "no signature by a known key"),
    "not a CloudEvent": (lambda b: edit_lines(b, "events.jsonl", lambda ls: [
        ls[0].replace(b'"specversion":"1.0"', b'"specversion":"0.3"'), *ls[1:]]), "not a CloudEvent"),
    "timestamps reordered": (lambda b: edit_head(b, -1, lambda h: h.update(timestamp_ms=1)), "timestamps"),
}


@pytest.mark.parametrize("start", [0, 3, 5, 7])
def test_an_untouched_bundle_verifies(tmp_path, start):
    progress = []
    stats: dict = {}
    assert verify_bundle(build(tmp_path / "b", start=start), lambda d, t: progress.append((d, t)),
                         stats=stats) == []
    assert progress[-1] == (12 - start, 12 - start)
    assert stats["covered_to"] == 12 and stats["events"] == 12 - start


def test_a_tar_bundle_verifies(tmp_path):
    bundle = build(tmp_path / "b", start=3)
    with tarfile.open(tmp_path / "b.tar", "w") as tar:
        for name in ("manifest.json", *FILES):
            tar.add(bundle / name, arcname=name)
    assert verify_bundle(tmp_path / "b.tar") == []


@pytest.mark.parametrize("start", [0, 3])
@pytest.mark.parametrize("kind", TAMPERS)
def test_every_tampering_is_detected(tmp_path, kind, start):
    bundle = build(tmp_path / "b", start=start)
    tamper, expected = TAMPERS[kind]
    tamper(bundle)
    found = verify_bundle(bundle)
    assert any(expected in p for p in found), found


def test_a_changed_frontier_is_detected(tmp_path):
    bundle = build(tmp_path / "b", start=6)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["frontier"][0]["hash"] = b64(bytes(32))
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    assert any("root differs" in p for p in verify_bundle(bundle))


def test_an_edit_without_rehashing_shows_in_the_manifest_hashes(tmp_path):
    bundle = build(tmp_path / "b")
    (bundle / "events.jsonl").write_bytes((bundle / "events.jsonl").read_bytes().replace(b"case-3", b"case-Y"))
    assert any("events.jsonl: sha256 differs" in p for p in verify_bundle(bundle))


def test_keys_can_be_pinned_and_an_untrusted_key_is_refused(tmp_path):
    bundle = build(tmp_path / "b")
    assert verify_bundle(bundle, trusted={checkpoint.public_bytes(KEY.public_key())}) == []
    found = verify_bundle(bundle, trusted={checkpoint.public_bytes(OTHER.public_key())})
    assert any("not one of the trusted keys" in p for p in found), found


def test_unsigned_events_after_the_last_head_are_checked_but_reported_uncovered(tmp_path):
    stats: dict = {}
    assert verify_bundle(build(tmp_path / "b", end=11, sign_at=(5, 10, 12)), stats=stats) == []
    assert (stats["covered_to"], stats["end"]) == (10, 11)
    found = verify_bundle(build(tmp_path / "c", start=6, end=9, sign_at=(5, 10)))
    assert any("no signed head" in p for p in found), found


def test_a_missing_or_garbled_bundle_is_a_problem_not_a_crash(tmp_path):
    assert verify_bundle(tmp_path / "nothing.tar")
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    assert verify_bundle(tmp_path / "junk.tar")
    bundle = build(tmp_path / "b")
    (bundle / "keys.json").write_text("{")
    assert verify_bundle(bundle)


def cli(*args: str) -> subprocess.CompletedProcess:
    # No DATABASE_URL, no ZF_* settings: the verifier must not need them.
    return subprocess.run([str(PYTHON), "-m", "audit.entrypoints.verify_bundle", *args], capture_output=True,
                          text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, timeout=60)


def test_the_cli_exits_0_on_a_good_bundle_and_1_on_a_tampered_one(tmp_path):
    bundle = build(tmp_path / "b", start=3)
    good = cli(str(bundle))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "bundle verified: 9 events" in good.stdout and "verifying [" in good.stderr
    pinned = cli(str(bundle), "--key", b64(checkpoint.public_bytes(KEY.public_key())), "--quiet")
    assert pinned.returncode == 0 and "trusted by --key" in pinned.stdout and pinned.stderr == ""
    TAMPERS["events swapped"][0](bundle)
    bad = cli(str(bundle))
    assert bad.returncode == 1 and "root differs" in bad.stdout, bad.stdout

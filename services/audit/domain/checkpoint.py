"""Signed tree heads as C2SP signed notes ("tlog-checkpoint", as Sigstore uses them). Pure.

    <origin>\\n<tree size>\\n<base64 root>\\ntimestamp <unix ms>\\n
    \\n
    — <origin> <base64(key hash[4] ‖ Ed25519 signature[64])>\\n

The signature covers the note body (the first four lines). The key hash is the first 4 bytes of
SHA-256(origin ‖ "\\n" ‖ 0x01 ‖ public key), 0x01 naming Ed25519, as in the signed-note format.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"


class BadCheckpoint(ValueError):
    pass


@dataclass(frozen=True)
class TreeHead:
    origin: str
    tree_size: int
    root: bytes
    timestamp_ms: int

    def body(self) -> str:
        return (f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root).decode()}\n"
                f"timestamp {self.timestamp_ms}\n")


def key_hash(origin: str, public_key: bytes) -> bytes:
    return hashlib.sha256(origin.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def public_bytes(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(head: TreeHead, key: Ed25519PrivateKey) -> tuple[str, bytes]:
    """The signed note and the raw signature."""
    body = head.body()
    signature = key.sign(body.encode())
    tag = key_hash(head.origin, public_bytes(key.public_key()))
    return f"{body}\n— {head.origin} {base64.b64encode(tag + signature).decode()}\n", signature


def verify(note: str, public_keys: dict[bytes, bytes]) -> TreeHead:
    """Parse and verify a signed note against {key hash: public key}; raises BadCheckpoint."""
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise BadCheckpoint("no blank line between the note and its signatures")
    lines = body.split("\n")
    if len(lines) != 4 or not lines[3].startswith("timestamp "):
        raise BadCheckpoint("a checkpoint has origin, size, root and timestamp lines")
    try:
        head = TreeHead(lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True),
                        int(lines[3].removeprefix("timestamp ")))
    except ValueError as exc:
        raise BadCheckpoint(f"malformed checkpoint: {exc}") from None
    for line in signatures.strip("\n").split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "—" or parts[1] != head.origin:
            continue
        blob = base64.b64decode(parts[2])
        key = public_keys.get(blob[:4])
        if key is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(blob[4:], (body + "\n").encode())
            return head
        except InvalidSignature:
            raise BadCheckpoint("signature does not verify") from None
    raise BadCheckpoint("no signature by a known key")

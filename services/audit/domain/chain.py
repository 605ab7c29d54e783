"""Canonical event bytes and the SHA-256 hash chain. Pure.

Canonical bytes: the CloudEvent as JSON with keys sorted, no insignificant whitespace, UTF-8,
non-ASCII characters unescaped (docs/CANONICAL.md). Never change this: old hashes depend on it.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

GENESIS = bytes(32)


def canonical_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def link(prev_hash: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canonical).digest()


def first_break(rows: Iterable[tuple[int, bytes, bytes, bytes]]) -> int | None:
    """Given (seq, canonical, prev_hash, hash) in order from seq 1, the first seq that does not chain."""
    prev, expected_seq = GENESIS, 1
    for seq, canonical, prev_hash, digest in rows:
        if seq != expected_seq or prev_hash != prev or link(prev, canonical) != digest:
            return seq
        prev, expected_seq = digest, seq + 1
    return None

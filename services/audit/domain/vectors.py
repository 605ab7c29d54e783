"""Reading transparency-dev/merkle's JSON test vectors and checking one with our verifiers."""
from __future__ import annotations

import base64
from typing import Any

from .merkle import verify_consistency, verify_inclusion


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def check(kind: str, v: dict[str, Any]) -> None:
    """Verify one vector (kind "inclusion" or "consistency"); raises ProofError/ValueError when it fails."""
    proof = [_b64(p) for p in v["proof"] or []]      # the Go library writes an empty proof as null
    if kind == "inclusion":
        verify_inclusion(_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, _b64(v["root"]))
    else:
        verify_consistency(v["size1"], v["size2"], proof, _b64(v["root1"]), _b64(v["root2"]))

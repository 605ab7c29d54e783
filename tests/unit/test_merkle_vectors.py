"""Our verifiers against the 196 JSON test vectors of transparency-dev/merkle (shared/vectors/merkle,
see shared/CONTRACTS.md): every vector's wantErr must be what our verifier says."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.domain.merkle import ProofError
from audit.domain.vectors import check

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "merkle"
EXPECTED_COUNT = 196
FILES = sorted(VECTORS.rglob("*.json"))
MISSING = f"the Merkle test vectors are missing: expected {VECTORS} (shared/ beside the repository)"


verify = check


def test_all_reference_vectors_are_there():
    assert VECTORS.is_dir(), MISSING
    assert len(FILES) == EXPECTED_COUNT, f"{len(FILES)} vectors under {VECTORS}, expected {EXPECTED_COUNT}"


# Without the folder there is still one case, which fails: an empty parameter set would only skip.
@pytest.mark.parametrize("path", FILES or [VECTORS], ids=[str(f.relative_to(VECTORS)) for f in FILES or [VECTORS]])
def test_our_verifier_agrees_with_the_reference_vector(path: Path):
    assert path.is_file(), MISSING
    kind = path.relative_to(VECTORS).parts[0]
    assert kind in ("inclusion", "consistency"), f"{path}: neither an inclusion nor a consistency vector"
    vector = json.loads(path.read_text(encoding="utf-8"))
    try:
        verify(kind, vector)
        error = None
    except ProofError as e:
        error = e
    assert (error is not None) == vector["wantErr"], f"{vector['desc']}: wantErr {vector['wantErr']}, got {error!r}"


def test_the_vector_cli_agrees_with_every_vector():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "audit.entrypoints.check_vectors", str(VECTORS)],
                         capture_output=True, text=True)
    assert out.returncode == 0 and f"{EXPECTED_COUNT} of {EXPECTED_COUNT} vectors agree" in out.stdout, out

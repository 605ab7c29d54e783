"""`python -m audit.entrypoints.check_vectors DIR`: run our Merkle verifier over a folder of
transparency-dev/merkle test vectors (inclusion/…/*.json, consistency/…/*.json) and report every
vector whose outcome differs from its wantErr. Needs no service and no database. Exit 0 when all agree."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..domain import vectors


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m audit.entrypoints.check_vectors DIR", file=sys.stderr)
        return 2
    root = Path(args[0])
    files = sorted(root.rglob("*.json"))
    wrong = []
    for path in files:
        v = json.loads(path.read_text())
        try:
            vectors.check(path.relative_to(root).parts[0], v)
            failed = False
        except ValueError:
            failed = True
        if failed != bool(v["wantErr"]):
            wrong.append(str(path.relative_to(root)))
    print(f"{len(files) - len(wrong)} of {len(files)} vectors agree")
    for w in wrong:
        print(f"  disagrees: {w}")
    return 0 if files and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())

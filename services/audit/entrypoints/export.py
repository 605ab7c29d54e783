"""`python -m audit.entrypoints.export --out FILE [--start N] [--end N]`: write an audit bundle
(service_layer/bundle.py) of leaves [start, end) for offline verification. FILE ending in .tar gives
one uncompressed tar; any other path is a directory. --end defaults to the latest signed head's size.
Needs only DATABASE_URL (the audit database): no broker, no token secret, no running service.
GET /v1/log/export streams the same bundle over HTTP.
"""
from __future__ import annotations

import argparse
import sys

from zfcommon import db
from zfcommon.settings import Settings, run_entrypoint

from ..service_layer.bundle import export


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.entrypoints.export", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="bundle path: FILE.tar, or a directory")
    parser.add_argument("--start", type=int, default=0, help="first leaf index (0-based)")
    parser.add_argument("--end", type=int, default=None, help="leaf index after the last one exported")
    args = parser.parse_args(argv)
    settings = Settings.from_env("audit", database_only=True)
    with db.connect(settings.database_url) as conn:
        try:
            manifest = export(conn, args.out, args.start, args.end)
        except ValueError as exc:
            print(f"export refused: {exc}", file=sys.stderr)
            return 2
    head = manifest["latest_head"]
    print(f"bundle {args.out}: {manifest['count']} events [{manifest['start']}, {manifest['end']}),"
          f" latest signed head {head['tree_size'] if head else 'none'}")
    return 0


if __name__ == "__main__":
    run_entrypoint(main, parses_arguments=True)

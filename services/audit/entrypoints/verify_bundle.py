"""`python -m audit.entrypoints.verify_bundle BUNDLE [--key B64]...`: check an audit bundle offline.

Needs neither the services nor a database nor settings: it imports only the pure domain modules and
service_layer/bundle.py (whose export needs the DB driver only when it runs). Exit 0 when the bundle
verifies, 1 when it does not. Without --key the bundle's own keys.json is believed, which proves only
that the bundle is self-consistent: pass the log's public keys, obtained elsewhere (the published
/v1/log/public-keys), to tie it to the log.
"""
from __future__ import annotations

import argparse
import base64
import sys

from ..service_layer.bundle import verify_bundle


def progress_bar(done: int, total: int) -> None:
    width = 40
    filled = min(width, width * done // total) if total else width
    sys.stderr.write(f"\rverifying [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.entrypoints.verify_bundle",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("bundle", help="a bundle .tar or directory")
    parser.add_argument("--key", action="append", default=[], help="a trusted Ed25519 public key, base64")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        trusted = {base64.b64decode(k, validate=True) for k in args.key} or None
    except ValueError:
        parser.error("--key must be base64")
    stats: dict = {}
    problems = verify_bundle(args.bundle, (lambda *_: None) if args.quiet else progress_bar, trusted, stats)
    if not args.quiet:
        sys.stderr.write("\n")
    if problems:
        print(f"bundle BROKEN ({len(problems)} problems):")
        for p in problems[:100]:
            print(f"  {p}")
        return 1
    print(f"bundle verified: {stats['events']} events [{stats['start']}, {stats['end']}) of {stats['origin']},"
          f" {stats['heads_checked']} signed tree heads reproduced, signing keys {', '.join(stats['keys'])}"
          f" ({'trusted by --key' if trusted else 'from the bundle itself: compare them with the published ones'})")
    if stats["covered_to"] < stats["end"]:
        print(f"note: events [{stats['covered_to']}, {stats['end']}) are after the last signed head in the bundle:"
              f" they are not covered by a signature")
    return 0


if __name__ == "__main__":
    sys.exit(main())

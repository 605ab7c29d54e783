"""CPU per request of loading a lead's JSON body (`POST /v1/cases`, schema CaseIn) the way intake's
views get it: through its schema compiled for the fast path (as the parser does now) and through
webargs and marshmallow alone (as before the eighth round of issue 11). No server, no database.

    .venv/bin/python bench/body_parse.py [--requests 2000] [--rounds 5]

Each way parses `make bench`'s bodies (bench/intake_load.py) in a Flask request context, least of
`--rounds` rounds; the cost of the request context alone is measured the same way and taken off.
bench/profile_intake.py measures the whole request, where this difference is within its noise.
Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import sys

import benchlib

benchlib.services_on_path()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    from flask import Flask
    from marshmallow import missing

    from intake.entrypoints.schemas import CaseIn
    from intake_load import BODIES
    from zfcommon import inputs

    app = Flask(__name__)

    def per_request(parser: inputs.RequestParser | None) -> float:
        def requests(_) -> None:
            for i in range(args.requests):
                with app.test_request_context("/", method="POST", data=BODIES[i % len(BODIES)],
                                              content_type="application/json"):
                    if parser is not None:
                        parser.parse(CaseIn, location="json")
        return benchlib.least_cpu_ms(args.rounds, args.requests, requests)

    context = per_request(None)
    fast = per_request(inputs.RequestParser())
    slow_parser = inputs.RequestParser()
    slow_parser._vouched_body = lambda *a, **k: missing
    slow = per_request(slow_parser)
    print(f"a lead's body, CPU ms per request (least of {args.rounds} x {args.requests}; the request context's "
          f"own {context:.3f} ms taken off)\n")
    print(f"  compiled schema (as is)         {fast - context:.3f}")
    print(f"  webargs and marshmallow alone   {slow - context:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

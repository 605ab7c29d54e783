"""CPU of masking a lead's free text for outsiders at receipt (`outsiders.with_masks`, what
`intake.domain.case.receive` runs), with the complainant's identity: the same complainant every time
(the anchor: what `make bench`'s sixty repeating bodies give, every pattern of theirs already in the
regular expressions' cache) and a new complainant every time (real life: patterns made from each new
name, number and address). No server, no database.

    .venv/bin/python bench/redaction_cost.py [--receipts 2000] [--rounds 5]

Least of `--rounds` rounds of `--receipts` receipts each, over `make bench`'s descriptions
(bench/intake_load.py). Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import json

import benchlib

benchlib.services_on_path()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--receipts", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    from intake_load import complaint

    from zfcommon import outsiders
    from zfcommon.redaction import Identity

    bodies = [complaint(i) for i in range(60)]
    serial = iter(range(10 ** 9))

    def person(n: int) -> Identity:
        given = chr(0x5EFA + n % 900) + chr(0x56FD + n // 900 % 900)
        return Identity(name=f"李{given}", phone=f"139{n:08d}", address=f"城关镇人民路{n % 500}号{n % 37}栋")

    def per_receipt(new_person: bool) -> float:
        same = person(0)

        def complainants() -> list[Identity]:
            return [person(next(serial) + 1) if new_person else same for _ in range(args.receipts)]

        def receipts(who: list[Identity]) -> None:
            for i, w in enumerate(who):
                outsiders.with_masks(outsiders.RECEIVED, {"description": bodies[i % len(bodies)]["description"]}, w)
        return benchlib.least_cpu_ms(args.rounds, args.receipts, receipts, complainants)

    per_receipt(False)          # warm-up: the fixed patterns compiled
    same, new = per_receipt(False), per_receipt(True)
    result = {"receipts": args.receipts, "rounds": args.rounds, "same_complainant_ms": round(same, 4),
              "new_complainant_ms": round(new, 4), "ratio": round(new / same, 2)}
    benchlib.save_result("redaction_cost", result)
    print(json.dumps(result))
    print(f"masking at receipt, ms of CPU: the same complainant {same:.3f}, a new complainant {new:.3f} "
          f"({new / same:.2f}×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The dwelling pattern (…号楼…单元…室) is tried only where a run of digits starts. Tried at every
position, a description of 4,000 digits (the longest intake takes) cost half a second in each
process that masks it (intake at receipt, then the ledger and notify): a cheap way to stall the
pipeline. Anchoring finds exactly what it found before (a match can only start where its run does)."""
from __future__ import annotations

import random
import re

from zfcommon import redaction

DWELLING = dict(redaction._PATTERNS)["dwelling"]
BEFORE = re.compile(r"(?:[0-9]+\s*(?:号楼|栋|幢|座)\s*)?(?:[0-9]+\s*单元\s*)?[0-9]+\s*(?:室|号房)")


def test_the_pattern_is_not_tried_inside_a_run_of_digits():
    assert DWELLING.match("1201室", 0) is not None
    assert all(DWELLING.match("1201室", i) is None for i in (1, 2, 3))


def test_it_finds_what_the_unanchored_pattern_found():
    pieces = ["1", "12", "3号楼", "2单元", "401室", "12号房", " ", "栋", "幢", "座", "单元", "室", "号房", "号楼",
              "人民路", "5号", "\n", "-", "a", "张三"]
    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 25)))
        assert [m.span() for m in DWELLING.finditer(text)] == [m.span() for m in BEFORE.finditer(text)], text


def test_a_long_run_of_digits_is_scanned_and_masked_like_any_text():
    text = "1" * 3996 + "号201室"
    assert [(f.kind, f.value) for f in redaction.scan(text)] == [("dwelling", "201室")]
    assert redaction.redact({"d": text}).fields["d"] == "1" * 3996 + "号〔门牌已隐去〕"

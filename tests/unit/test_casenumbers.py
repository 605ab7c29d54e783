"""Case numbers as people say them in a search (zfcommon.casenumbers): the numbers the ledger looks up."""
from __future__ import annotations

from datetime import date

from zfcommon import casenumbers

TODAY = date(2026, 3, 2)


def test_a_serial_means_that_serial_in_each_year_this_year_first():
    meant = casenumbers.meant(" 123 ", "ZF", TODAY)
    assert meant[:3] == ["123", "ZF-2026-000123", "ZF-2025-000123"] and meant[-1] == "ZF-2000-000123"
    assert casenumbers.meant("2024－１２３", "ZF-XQ", TODAY) == ["2024－１２３", "ZF-XQ-2024-000123"]
    assert casenumbers.meant("zf-2026-000123", "ZF", TODAY) == ["ZF-2026-000123"]
    assert casenumbers.meant("推诿 123", "ZF", TODAY) == ["推诿 123"]
    assert casenumbers.meant("1234567", "ZF", TODAY) == ["1234567"]          # no serial has seven digits


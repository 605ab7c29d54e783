"""Case numbers as people say them in a search (zfcommon.casenumbers): the ledger's candidates and the
console's jump straight to the one case a number names."""
from __future__ import annotations

from datetime import date

import pytest

from zfcommon import casenumbers

TODAY = date(2026, 3, 2)


def test_a_serial_means_that_serial_in_each_year_this_year_first():
    meant = casenumbers.meant(" 123 ", "ZF", TODAY)
    assert meant[:3] == ["123", "ZF-2026-000123", "ZF-2025-000123"] and meant[-1] == "ZF-2000-000123"
    assert casenumbers.meant("2024－１２３", "ZF-XQ", TODAY) == ["2024－１２３", "ZF-XQ-2024-000123"]
    assert casenumbers.meant("zf-2026-000123", "ZF", TODAY) == ["ZF-2026-000123"]
    assert casenumbers.meant("推诿 123", "ZF", TODAY) == ["推诿 123"]
    assert casenumbers.meant("1234567", "ZF", TODAY) == ["1234567"]          # no serial has seven digits


@pytest.mark.parametrize("typed, number, named", [
    ("ZF-2026-000123", "ZF-2026-000123", True), (" zf-2026-000123 ", "ZF-2026-000123", True),
    ("123", "ZF-2026-000123", True), ("000123", "ZF-2026-000123", True), ("2026-123", "ZF-2026-000123", True),
    ("2025-123", "ZF-2026-000123", False), ("124", "ZF-2026-000123", False), ("推诿", "ZF-2026-000123", False),
    ("123", None, False), ("123", "ZF-XQ-2026-000123", True),
])
def test_whether_a_search_names_a_case_by_its_number(typed, number, named):
    assert casenumbers.names(typed, number) is named

"""The audit trail's canonical bytes and SHA-256 hash chain."""
import hashlib
import math

import pytest

from audit.domain.chain import GENESIS, canonical_bytes, first_break, link


def chain(events):
    """(seq, canonical, prev_hash, hash) rows, as the trail stores them."""
    rows, prev = [], GENESIS
    for seq, event in enumerate(events, start=1):
        canonical = canonical_bytes(event)
        rows.append((seq, canonical, prev, link(prev, canonical)))
        prev = rows[-1][3]
    return rows


def renumbered(rows):
    return [(seq, *row[1:]) for seq, row in enumerate(rows, start=1)]


GOOD = chain([{"id": str(i), "subject": "case-1", "data": {"n": i}} for i in range(1, 6)])


def test_canonical_bytes_sort_keys_at_every_depth_without_whitespace():
    assert canonical_bytes({"b": 1, "a": {"d": [1, 2], "c": None}}) == b'{"a":{"c":null,"d":[1,2]},"b":1}'


def test_canonical_bytes_keep_chinese_unescaped_in_utf8():
    assert canonical_bytes({"category": "作风问题"}) == '{"category":"作风问题"}'.encode("utf-8")


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_canonical_bytes_refuse_numbers_json_cannot_hold(number):
    with pytest.raises(ValueError):
        canonical_bytes({"lat": number})


def test_link_is_sha256_of_previous_hash_then_canonical_bytes():
    assert link(GENESIS, b"{}") == hashlib.sha256(bytes(32) + b"{}").digest()
    assert link(GENESIS, b"{}") != link(link(GENESIS, b"{}"), b"{}")


def test_good_chain_has_no_break():
    assert first_break(GOOD) is None


def test_empty_trail_has_no_break():
    assert first_break([]) is None


def test_changed_event_breaks_at_its_seq():
    seq, _, prev, digest = GOOD[2]
    tampered = GOOD[:2] + [(seq, canonical_bytes({"id": "3", "data": {"n": 99}}), prev, digest)] + GOOD[3:]
    assert first_break(tampered) == 3


def test_changed_hash_breaks_at_its_seq():
    seq, canonical, prev, _ = GOOD[1]
    assert first_break([GOOD[0], (seq, canonical, prev, bytes(32))] + GOOD[2:]) == 2


def test_chain_not_starting_from_genesis_breaks_at_1():
    assert first_break(GOOD[1:]) == 2
    seq, canonical, _, digest = GOOD[0]
    assert first_break([(seq, canonical, b"\x01" * 32, digest)] + GOOD[1:]) == 1


def test_removed_row_breaks_where_the_gap_is():
    assert first_break(GOOD[:2] + GOOD[3:]) == 4


def test_removed_row_with_renumbered_seqs_breaks_at_the_row_after_the_gap():
    assert first_break(renumbered(GOOD[:2] + GOOD[3:])) == 3


def test_gap_in_seq_numbers_breaks_even_when_the_hashes_chain():
    assert first_break(GOOD[:2] + [(seq + 1, *rest) for seq, *rest in GOOD[2:]]) == 4


def test_inserted_row_breaks_the_chain_after_it():
    forged = chain([{"id": str(i), "subject": "case-1", "data": {"n": i}} for i in (1, 2)] + [{"id": "x"}])[2]
    assert first_break(renumbered(GOOD[:2] + [forged] + GOOD[2:])) == 4


def test_reordered_rows_break_at_the_first_out_of_place():
    assert first_break(GOOD[:1] + [GOOD[2], GOOD[1]] + GOOD[3:]) == 3
    assert first_break(renumbered(GOOD[:1] + [GOOD[2], GOOD[1]] + GOOD[3:])) == 2

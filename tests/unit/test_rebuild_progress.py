"""The rebuild's progress bar (zfcommon.rebuild.progress_line)."""
from zfcommon.rebuild import progress_line


def test_the_bar_fills_with_the_share_of_the_trail_replayed():
    assert progress_line(250, 1000, width=8) == "[##......] 250/1000 events replayed"
    assert progress_line(1000, 1000, width=8) == "[########] 1000/1000 events replayed"


def test_a_trail_grown_since_its_last_signed_head_never_overflows_the_bar():
    assert progress_line(1200, 1000, width=8) == "[########] 1200/1200 events replayed"


def test_without_a_signed_head_it_counts():
    assert progress_line(42, None) == "42 events replayed"

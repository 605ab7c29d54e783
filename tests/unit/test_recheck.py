"""Dismissals and their sampled re-check (查否复查): the draw anyone can reproduce from the recorded seed,
and what an upheld or an overturned re-check does to the case and to the lead unit's accountability."""
from datetime import date

import pytest

from intake.domain import lifecycle
from intake.domain.case import TransitionRefused
from intake.domain.recheck import draw, recheck_draw
from zfcommon.events.catalogue import validate_data

from .fakes import LEAD_UNIT, OFFICE, case_event, office_directory, story

NONCES = [f"nonce-{i}" for i in range(20)]


# --- The draw -----------------------------------------------------------------------------------------

def test_draw_is_the_first_eight_bytes_of_sha256_of_the_seed_over_two_to_the_64():
    # SHA-256("") = e3b0c44298fc1c14 9afbf4c8…, SHA-256("abc") = ba7816bf8f01cfea 414140de…
    assert draw("") == 0xE3B0C44298FC1C14 / 2 ** 64
    assert draw("abc") == 0xBA7816BF8F01CFEA / 2 ** 64


def test_draw_is_in_the_unit_interval_deterministic_and_differs_by_seed():
    values = [draw(f"case-{i}:n") for i in range(1000)]
    assert all(0 <= v < 1 for v in values)
    assert values == [draw(f"case-{i}:n") for i in range(1000)]
    assert len(set(values)) == 1000


@pytest.mark.parametrize("ratio", [0.05, 0.2, 0.5])
def test_share_selected_over_ten_thousand_seeds_is_close_to_the_ratio(ratio):
    selected = sum(recheck_draw(f"case-{i}", "n", ratio)["selected"] for i in range(10_000))
    assert abs(selected / 10_000 - ratio) <= 0.02


def test_a_draw_equal_to_the_ratio_is_not_selected():
    # selected = draw < ratio, strictly: so a ratio of 0.0 can never select, whatever the draw.
    at = draw("case-1:abc")
    assert recheck_draw("case-1", "abc", at)["selected"] is False
    assert recheck_draw("case-1", "abc", at + 1e-12)["selected"] is True


def test_recheck_draw_binds_the_case_and_the_nonce_into_the_seed():
    assert recheck_draw("case-1", "abc", 0.2)["seed"] == "case-1:abc"
    assert recheck_draw("case-1", "abc", 0.2)["draw"] != recheck_draw("case-2", "abc", 0.2)["draw"]


# --- Accepting a dismissal records the draw ----------------------------------------------------------

@pytest.mark.parametrize("nonce", NONCES)
def test_accepted_dismissal_records_a_draw_anyone_can_reproduce(nonce):
    [event] = story("dismissal_reported").decide("accept_dismissal", nonce=nonce)
    recheck = event.data["recheck"]
    assert set(recheck) == {"ratio", "seed", "draw", "selected"}
    assert recheck["ratio"] == 0.2                              # the directory's default ratio
    assert "case-1" in recheck["seed"] and nonce in recheck["seed"]
    assert recheck["draw"] == draw(recheck["seed"])
    assert recheck["selected"] is (recheck["draw"] < recheck["ratio"])
    assert validate_data(event.type, event.data) == {}


@pytest.mark.parametrize("ratio,selected", [(1.0, True), (0.0, False)])
def test_ratio_one_always_selects_and_ratio_zero_never(ratio, selected):
    s = story("dismissal_reported", directory=office_directory(recheck_ratio=ratio))
    assert {s.decide("accept_dismissal", nonce=n)[0].data["recheck"]["selected"] for n in NONCES} == {selected}


def test_a_fixed_nonce_gives_the_same_draw_and_another_nonce_another():
    def recheck(nonce):
        return story("dismissal_reported").decide("accept_dismissal", nonce=nonce)[0].data["recheck"]
    assert recheck("n-1") == recheck("n-1")
    assert recheck("n-1")["draw"] != recheck("n-2")["draw"]


def test_drawn_dismissal_waits_for_its_recheck_and_an_undrawn_one_only_if_the_office_chooses_it():
    drawn, undrawn = story("dismissed"), story("dismissed_unselected")
    assert (drawn.case.status, drawn.case.recheck_pending, drawn.case.dismissal_count) == ("dismissed", True, 1)
    assert (undrawn.case.status, undrawn.case.recheck_pending) == ("dismissed", False)
    with pytest.raises(TransitionRefused, match="未被抽中或选定复查") as refused:
        undrawn.decide("record_recheck")
    assert (refused.value.state, refused.value.allowed) == ("dismissed", ["choose_recheck", "record_return_visit", "correct_summary"])


# --- Recording the re-check ---------------------------------------------------------------------------

def test_upheld_recheck_keeps_the_dismissal_and_a_second_recheck_is_refused():
    s = story("dismissed")
    [event] = s.decide("record_recheck")
    assert (event.type, event.data) == (case_event("recheck_upheld"), {"findings": "复查确认反映不实"})
    s.play([event])
    assert (s.case.status, s.case.recheck_pending) == ("dismissed", False)
    with pytest.raises(TransitionRefused, match="已记录过复查结果"):
        s.decide("record_recheck")


def test_overturned_recheck_reopens_the_case_and_holds_the_lead_unit_accountable():
    s = story("dismissed").on("2026-10-12")
    overturned, accountability = s.decide("record_recheck", outcome="overturned", findings="窗口确有索要好处费行为")
    assert (overturned.type, overturned.stream) == (case_event("recheck_overturned"), None)
    # 15 working days from Mon 2026-10-12: 10-13…16, 19…23, 26…30, 11-02.
    assert overturned.data == {"findings": "窗口确有索要好处费行为", "accountability_id": "accountability-1",
                               "new_deadline": "2026-11-02"}
    assert (accountability.type, accountability.stream) == ("cn.zhengfeng.accountability.recorded.v1",
                                                            "accountability-1")
    assert accountability.data == {
        "measure": "criticism_education", "target_kind": "unit", "target": LEAD_UNIT, "unit": LEAD_UNIT,
        "basis_cases": ["case-1"], "decided_by": OFFICE.name, "reason": "查否复查发现问题属实: 窗口确有索要好处费行为"}
    assert [validate_data(e.type, e.data) for e in (overturned, accountability)] == [{}, {}]
    s.play([overturned, accountability])
    assert (s.case.status, s.case.recheck_pending, s.case.deadline) == ("in_progress", False, date(2026, 11, 2))
    assert s.elsewhere == [accountability]
    assert "report_rectified" in lifecycle.allowed_commands(s.case)


def test_overturned_recheck_takes_the_measure_and_deadline_the_office_gives():
    s = story("dismissed").on("2026-10-12")
    overturned, accountability = s.decide("record_recheck", outcome="overturned", findings="属实",
                                          measure="admonishment", new_deadline=date(2026, 10, 30))
    assert overturned.data["new_deadline"] == "2026-10-30"
    assert accountability.data["measure"] == "admonishment"
    assert validate_data(accountability.type, accountability.data) == {}

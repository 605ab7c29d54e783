"""Democratic appraisal, pure: a round's settings, questionnaires entered once by number, and the
results — scores to 0.01 half up, satisfaction rates, ranks shared on ties, units with too few ballots
not ranked; the events the catalogue accepts."""
from __future__ import annotations

import pytest

from notify.domain import appraisal, publication
from zfcommon.events.catalogue import validate_data

UNITS = ["县林业局", "县教育局", "县水利局"]


def opened(**body):
    return appraisal.opening("2026-Q4", body, UNITS)


def ballot(number, group, **grades):
    return {"ballot_no": number, "group": group, "ratings": [{"unit": u, "grade": g} for u, g in grades.items()]}


def test_a_round_appraises_every_active_unit_by_default_with_the_seed_groups_and_weights():
    round_ = opened()
    assert (round_["units"], round_["groups"], round_["weights"], round_["min_ballots"]) == (
        sorted(UNITS), list(appraisal.DEFAULT_GROUPS), appraisal.DEFAULT_WEIGHTS, 10)
    validate_data("cn.zhengfeng.appraisal.opened.v1", round_)
    for body, field in (({"units": ["县不存在局"]}, "units"), ({"key_units": ["县公安局"]}, "key_units"),
                        ({"weights": {"satisfied": 50, "basically_satisfied": 60, "unsatisfied": 0}}, "weights")):
        with pytest.raises(appraisal.Invalid) as refused:
            opened(**body)
        assert field in refused.value.errors
    for bad in ("2026-Q5", "26", "2026-12", "0999"):
        with pytest.raises(appraisal.Invalid):
            appraisal.check_key(bad)
    assert publication.title("appraisal", "2026-Q4") == "2026年第四季度政风行风民主评议结果通报"
    assert publication.title("appraisal", "2026") == "2026年度政风行风民主评议结果通报"


def test_a_questionnaire_counts_once_and_a_batch_with_a_fault_keeps_nothing():
    round_ = opened()
    kept = appraisal.ballots(round_, {"007"}, [ballot(" 001 ", "企业", 县林业局="satisfied")])
    assert kept[0]["ballot_no"] == "001" and kept[0]["ratings"][0]["comment"] is None
    validate_data("cn.zhengfeng.appraisal.ballot_recorded.v1", kept[0])
    with pytest.raises(appraisal.Invalid) as refused:
        appraisal.ballots(round_, {"007"}, [
            ballot("002", "企业", 县林业局="satisfied"), ballot("007", "企业", 县林业局="satisfied"),
            ballot("002", "客商", 县教育局="satisfied"), ballot("003", "游客", 县教育局="satisfied"),
            {"ballot_no": "004", "group": "业户", "ratings": [{"unit": "县林业局", "grade": "satisfied"},
                                                              {"unit": "县林业局", "grade": "unsatisfied"}]}])
    assert set(refused.value.errors["ballots"]) == {"1", "2", "3", "4"}


def test_results_score_rate_and_rank_units_and_leave_out_those_with_too_few_ballots():
    round_ = opened(min_ballots=2, key_units=["县水利局"])
    entered = [ballot("1", "企业", 县林业局="satisfied", 县教育局="satisfied", 县水利局="basically_satisfied"),
               ballot("2", "客商", 县林业局="basically_satisfied", 县教育局="basically_satisfied"),
               ballot("3", "代表委员", 县林业局="satisfied", 县教育局="satisfied")]
    out = appraisal.results(round_, entered)
    validate_data("cn.zhengfeng.appraisal.drafted.v1", out)
    rows = {r["unit"]: r for r in out["units"]}
    assert rows["县林业局"]["score"] == rows["县教育局"]["score"] == 86.67          # (100 + 60 + 100) / 3
    assert [(r["unit"], r["rank"]) for r in out["units"]] == [("县教育局", 1), ("县林业局", 1), ("县水利局", None)]
    assert (rows["县水利局"]["ranked"], rows["县水利局"]["key_unit"], rows["县水利局"]["score"]) == (False, True, 60.0)
    assert rows["县水利局"]["satisfaction_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0, "meaningful": False}
    assert [(g["group"], g["ballots"], g["score"]) for g in rows["县林业局"]["groups"]] == [
        ("企业", 1, 100.0), ("客商", 1, 60.0), ("业户", 0, None), ("代表委员", 1, 100.0)]
    assert (out["totals"]["ballots"], out["totals"]["ratings"], out["totals"]["score"]) == (3, 7, 82.86)

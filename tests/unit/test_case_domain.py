"""The case aggregate: receiving a lead, and rebuilding a case from its history."""
import pytest

from intake.domain.case import RECEIVED, Case, ReceiveComplaint, TransitionRefused, receive
from zfcommon.events.catalogue import validate_data

from .fakes import complaint, received_data

SEALED = {"kid": "case:c1", "nonce": "bm9uY2U=", "ciphertext": "c2VhbGVk"}


def test_receive_decides_one_received_event_with_the_commands_fields():
    cmd = complaint(location={"address": "人民路1号", "lat": None, "lon": None})
    [event] = receive(Case("c1"), cmd, None)
    assert event.type == RECEIVED
    assert event.data == {"channel": "petition", "category": "吃拿卡要", "description": "办证时被索要好处费",
                          "subject_unit": "某区市场监管局", "priority": "urgent",
                          "location": {"address": "人民路1号", "lat": None, "lon": None},
                          "anonymous": True, "complainant": None, "summary": "办证时被索要好处费"}


def test_receipt_masks_the_complainants_identity_in_the_summary_and_free_text_while_it_is_in_clear():
    cmd = complaint(description="来信人欧阳明远反映：县住建局推诿。电话139 0739 5678，欧阳先生希望尽快办理。",
                    complainant={"name": "欧阳明远", "phone": "13907395678"},
                    location={"address": "宝庆中路88号3栋2单元501室（欧阳明远家）", "lat": None, "lon": None},
                    origin={"system": "open311", "ref": "c1", "parent": "client-1",
                            "extra": {"attributes": {"window": "明远反映的不动产窗口"}}})
    [event] = receive(Case("c1"), cmd, SEALED)
    assert event.data["description"] == cmd.description            # the office's, as received
    assert event.data["summary"] == "来信人某某反映：县住建局推诿。电话〔电话已隐去〕，某某先生希望尽快办理。"
    assert event.data["redacted"] == {"location.address": "宝庆中路88号〔门牌已隐去〕（某某家）",
                                      "origin.extra.attributes.window": "某某反映的不动产窗口"}
    assert validate_data(RECEIVED, event.data) == {}


def test_priority_defaults_to_normal():
    cmd = ReceiveComplaint(channel="hotline", category="作风问题", description="推诿", subject_unit="市住建局")
    [event] = receive(Case("c1"), cmd, None)
    assert event.data["priority"] == "normal"


def test_lead_without_complainant_is_anonymous():
    [event] = receive(Case("c1"), complaint(), None)
    assert event.data["anonymous"] is True
    assert event.data["complainant"] is None


def test_named_complainant_travels_only_in_sealed_form():
    cmd = complaint(complainant={"name": "张三", "phone": "13800138000"})
    [event] = receive(Case("c1"), cmd, SEALED)
    assert event.data["anonymous"] is False
    assert event.data["complainant"] == SEALED
    assert "13800138000" not in repr(event.data)


def test_received_data_satisfies_the_catalogue_schema():
    [event] = receive(Case("c1"), complaint(complainant={"name": "张三"}), SEALED)
    assert validate_data(event.type, event.data) == {}


def test_receive_twice_is_refused():
    case = Case.replay("c1", [(RECEIVED, received_data())])
    with pytest.raises(TransitionRefused, match="案件当前状态为“已受理”") as refused:
        receive(case, complaint(), None)
    assert (refused.value.state, refused.value.command) == ("received", "receive")


def test_any_history_at_all_refuses_receive():
    case = Case("c1", version=1)
    with pytest.raises(TransitionRefused, match="案件当前状态为“新建”") as refused:
        receive(case, complaint(), None)
    assert refused.value.state == "new" and refused.value.allowed == []


def test_new_case_has_no_version_and_no_status():
    case = Case.replay("c1", [])
    assert (case.version, case.status, case.facts) == (0, None, {})


def test_replay_applies_history_and_counts_the_version():
    data = received_data(channel="media")
    case = Case.replay("c1", [(RECEIVED, data), ("cn.zhengfeng.case.noted.v1", {"note": "x"})])
    assert case.case_id == "c1"
    assert case.version == 2
    assert case.status == "received"
    assert case.facts == data


def test_replayed_facts_are_a_copy_of_the_event_data():
    data = received_data()
    case = Case.replay("c1", [(RECEIVED, data)])
    data["channel"] = "media"
    assert case.facts["channel"] == "hotline"

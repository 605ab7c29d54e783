"""A 12345 work order (工单) as a lead: the hotline's JSON validated and mapped (intake.domain.hotline)."""
import pytest
from marshmallow import ValidationError

from intake.domain import hotline
from intake.domain.directory import Directory
from intake.entrypoints.hooks import OrderHead, WorkOrderIn

from ..support import hotline_order as order

TAXONOMY = Directory().categories
DEFAULT = "办事效率低"


def command(**changes):
    return hotline.to_command(WorkOrderIn().load(order(**changes)), TAXONOMY, DEFAULT)


def test_a_complaint_becomes_a_hotline_lead_about_the_suggested_unit():
    cmd = command()
    assert cmd.channel == "hotline" and cmd.subject_unit == "县自然资源局" and cmd.priority == "normal"
    assert cmd.description == "县政务服务中心不动产登记窗口推诿\n窗口工作人员以系统故障为由不予受理。"
    assert cmd.location == {"address": "邵阳县政务服务中心二楼不动产登记窗口", "lat": 26.989, "lon": 111.2743}


def test_the_origin_carries_the_order_number_and_what_the_hotline_needs_back():
    origin = command().origin
    assert origin["system"] == "hotline" and origin["ref"] == "SY12345-20261123-000317"
    assert origin["extra"] == {
        "received_at": "2026-11-23T09:41:07+08:00", "intake_channel": "电话", "time_limit_workdays": 5,
        "attachments": [{"name": "受理回执.jpg", "url": "https://12345.example.gov.cn/files/000317-1.jpg"}]}


def test_the_caller_is_handed_over_for_sealing_with_the_confidentiality_flag():
    assert command().complainant == {"name": "李某", "phone": "13807391234", "confidential": True}
    assert command(是否保密=False).complainant["confidential"] is False
    assert command(是否保密=...).complainant["confidential"] is True, "unsaid means confidential"


def test_the_callers_id_number_is_sealed_with_the_rest():
    assert command(证件号码="43052219900307715X").complainant["id_number"] == "43052219900307715X"
    assert "id_number" not in command(证件号码="  ").complainant


def test_an_order_without_caller_or_phone_is_anonymous():
    assert command(来电人=None, 联系电话="").complainant is None


@pytest.mark.parametrize("urgency, priority", [("一般", "normal"), ("紧急", "urgent"), ("特急", "critical"),
                                               (..., "normal")])
def test_urgency_maps_to_priority(urgency, priority):
    assert command(紧急程度=urgency).priority == priority


def test_a_known_category_is_used_and_anything_else_falls_back_to_the_default_kept_in_the_origin():
    assert command(问题类别="推诿扯皮").category == "推诿扯皮"
    assert command().category == DEFAULT
    fallback = command(问题类别="城市管理")
    assert fallback.category == DEFAULT and fallback.origin["extra"]["hotline_category"] == "城市管理"


def test_a_default_category_missing_from_the_taxonomy_is_the_offices_configuration_problem():
    with pytest.raises(hotline.NoDefaultCategory, match="ZF_HOTLINE_DEFAULT_CATEGORY"):
        hotline.to_command(WorkOrderIn().load(order()), TAXONOMY, "待分类")


def test_a_long_description_is_cut_to_the_ledgers_limit_and_the_origin_says_so():
    cmd = command(诉求内容="推" * 5000)
    assert len(cmd.description) == 4000 and cmd.description.endswith("…")
    assert cmd.origin["extra"]["description_cut_from"] == len("县政务服务中心不动产登记窗口推诿") + 1 + 5000


def test_a_local_time_without_zone_is_read_as_china_time():
    assert command(受理时间="2026-11-23T09:41:07").origin["extra"]["received_at"] == "2026-11-23T09:41:07+08:00"


@pytest.mark.parametrize("kind", ["投诉", "举报"])
def test_complaints_and_reports_are_leads(kind):
    assert hotline.not_a_case_reason(kind) is None


@pytest.mark.parametrize("kind", ["咨询", "建议", "求助", "表扬"])
def test_other_kinds_are_not_leads_and_say_why(kind):
    assert kind in hotline.not_a_case_reason(kind) and "未立案" in hotline.not_a_case_reason(kind)


def test_a_consultation_needs_only_its_number_and_kind():
    assert OrderHead().load({"工单编号": "X-1", "诉求类型": "咨询", "其他": 1}) == {"order_no": "X-1", "kind": "咨询"}


@pytest.mark.parametrize("changes, field", [
    ({"建议承办单位": ...}, "建议承办单位"), ({"建议承办单位": ""}, "建议承办单位"), ({"诉求内容": ...}, "诉求内容"),
    ({"受理时间": "昨天"}, "受理时间"), ({"紧急程度": "很急"}, "紧急程度"), ({"经度": 200}, "经度"),
    ({"办理时限(工作日)": "五"}, "办理时限(工作日)"), ({"附件": [{"名称": "x"}]}, "附件"), ({"工单编号": 7}, "工单编号"),
])
def test_validation_errors_name_the_chinese_field(changes, field):
    with pytest.raises(ValidationError) as caught:
        WorkOrderIn().load(order(**changes))
    assert field in caught.value.normalized_messages()


def test_fields_the_hotline_adds_later_do_not_bounce_its_orders():
    assert WorkOrderIn().load(order(新字段="x")).order_no == "SY12345-20261123-000317"

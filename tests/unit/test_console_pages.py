"""The console's presentation rules: the lights, and every service problem shown in Chinese."""
from __future__ import annotations

import pytest

from console.domain import lights, messages


@pytest.mark.parametrize("case, light", [
    ({"overdue": True, "working_days_left": None}, "red"),
    ({"overdue": False, "sign_for_overdue": True, "working_days_left": 9}, "red"),
    ({"overdue": False, "working_days_left": 3}, "yellow"),
    ({"overdue": False, "working_days_left": 0}, "yellow"),
    ({"overdue": False, "working_days_left": 4}, None),
    ({"overdue": False, "working_days_left": None}, None),
])
def test_red_when_late_yellow_within_the_offices_threshold(case, light):
    assert lights.light(case, 3) == light


@pytest.mark.parametrize("raw, ok", [("3", 3), (" 0 ", 0), ("30", 30), ("31", None), ("-1", None), ("三", None)])
def test_the_yellow_threshold_is_a_whole_number_of_working_days(raw, ok):
    if ok is None:
        with pytest.raises(ValueError):
            lights.check_yellow_days(raw)
    else:
        assert lights.check_yellow_days(raw) == ok


def test_a_refused_transition_says_the_state_and_what_can_be_done_now():
    text = messages.problem_text(409, {"detail": "cannot close in state assigned", "state": "assigned",
                                       "allowed": ["reassign", "accept", "return"]})
    assert text == "案件当前状态为“已交办”，不能这样办理。现在可以：改派、签收、退回"


@pytest.mark.parametrize("status, body, expected", [
    (422, {"detail": "lead_unit: not an active unit in the directory: 县自然资源局"}, "填写的内容有误，请按提示修改"),
    (409, {"detail": "案件当前状态为“已办结”，不能再交办", "code": "case.transition_refused"}, "案件当前状态为“已办结”，不能再交办"),
    (404, {"detail": "no case abc"}, "没有找到要查看的内容，可能已被删除或您无权查看"),
    (500, {}, "操作未能完成，请稍后再试；如仍有问题请联系系统管理员"),
])
def test_a_problem_is_shown_in_chinese_never_in_english(status, body, expected):
    assert messages.problem_text(status, body) == expected


@pytest.mark.parametrize("detail", [
    "task-9d5f4a5c-a9e3-495e-affa-e00b42837049 在版本 1 之后已被他人修改：请重新读取后再试",   # read "e-affa-e" as English
    "campaign-0d1a2b3c-dead-beef-cafe-abcdefabcdef 在版本 3 之后已被他人修改：请重新读取后再试",
    "案件 ZF-2026-000123 已与 ZF-2026-000045 合并办理",
    "接入客户端 client-cfa70d06e493 已吊销：请改为签发新的接入客户端",
])
def test_a_chinese_detail_quoting_identifiers_is_shown_as_it_is(detail):
    """Identifiers are not words: a UUID's letters once made a Chinese detail look English, at random (a
    flaky console test showed it), and the person read a generic message instead."""
    assert messages.problem_text(409, {"detail": detail}) == detail


@pytest.mark.parametrize("detail", ["Fetch offset 12 is out of range", "cannot close case ZF-2026-000123 now",
                                    "task-9d5f4a5c-a9e3-495e-affa-e00b42837049 was changed by someone else"])
def test_an_english_detail_quoting_identifiers_is_still_english(detail):
    assert not messages.is_chinese(detail)


@pytest.mark.parametrize("english, chinese", [
    ("Missing data for required field.", "此项必填"), ("Not a valid date.", "日期格式不正确"),
    ("must be after today (2026-11-23)", "须晚于今天"), ("not an active unit in the directory: 县住建局", "单位不在单位名录中或已停用"),
    ("something else entirely", "填写有误"), ("请填写姓名", "请填写姓名")])
def test_field_messages_are_shown_in_chinese(english, chinese):
    assert messages.field_message(english) == chinese


def test_every_event_type_of_the_catalogue_has_a_chinese_name():
    from zfcommon.events.catalogue import CATALOGUE
    assert [t for t in CATALOGUE if messages.event_label(t) == t] == []


def test_every_command_intake_knows_has_a_form_and_a_name():
    from console.entrypoints.commands import FORMS
    from intake.entrypoints.schemas import COMMAND_SCHEMAS
    assert set(FORMS) == set(COMMAND_SCHEMAS) == set(messages.COMMANDS)
    for command, schema in COMMAND_SCHEMAS.items():
        required = {n for n, f in schema().fields.items() if f.required}
        assert required <= {f.name for f in FORMS[command]}, command


def test_a_letter_is_laid_out_as_a_documents_parts_for_paper():
    from console.entrypoints.reports import paper
    body = "督  办  函\n正风办督〔2026〕3号\n\n县住建局：\n\n现予督办。\n\n正风办\n2026年11月30日\n"
    assert paper(body) == {"title": "督办函", "number": "正风办督〔2026〕3号", "text": "县住建局：\n\n现予督办。",
                           "signed": ["正风办", "2026年11月30日"]}
    unnumbered = paper("县住建局：\n\n现予督办。\n\n正风办\n2026年11月30日\n")      # a letter from before numbering
    assert (unnumbered["title"], unnumbered["text"], unnumbered["signed"]) == (None, "县住建局：\n\n现予督办。",
                                                                               ["正风办", "2026年11月30日"])

"""Notices, the pure parts and the texts: which notices an event causes and for whom, how a unit is
reached, masking, SMS length, retries, reading a reply, and every template rendered in Chinese."""
from __future__ import annotations

import base64

from datetime import date, datetime, timezone
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default as default_policy

import pytest

from notify.adapters import mailer, notice_text
from notify.domain import notices
from zfcommon.events import new_event
from zfcommon.trackingcode import TrackingKey

from .test_ledger_evolve import SEALED, Story
from .test_webhook_delivery import fold

ORDER = {"system": "hotline", "ref": "SY12345-20261123-000317", "parent": None, "extra": None}
LEAD, HELPER = "县住建局", "县财政局"


def decided(story: Story) -> list[list[tuple[str, str | None]]]:
    """For each event of the story: (kind, unit) of every notice it causes."""
    return [[(w.kind, w.unit) for w in notices.decide(e, before, after)]
            for e, (before, after) in zip(story.events, fold(story))]


def hotline_story(**received) -> Story:
    return Story(origin=ORDER, anonymous=False, complainant=SEALED, **received)


def other_event(type_: str, subject: str, data: dict):
    return new_event(service="notify", type=type_, subject=subject, data=data, streamversion=1, correlationid="c",
                     actor="notify:escalation", time=datetime(2026, 12, 15, 1, tzinfo=timezone.utc))


# --------------------------------------------------------------------------------------------------
# Which notices an event causes
# --------------------------------------------------------------------------------------------------

def test_a_hotline_complainant_hears_of_receipt_first_assignment_and_closure_with_a_visit_request():
    story = hotline_story().then("assigned", "accepted", "reassigned", "accepted", "rectification_reported", "closed")
    assert decided(story) == [
        [("complainant_received", None)],
        [("case_assigned", LEAD), ("case_assigned", HELPER), ("complainant_assigned", None)],
        [],
        [("case_assigned", "县交通运输局")],                    # a reassignment is not news to the complainant
        [], [],
        [("complainant_closed", None), ("visit_request", None)]]


@pytest.mark.parametrize("received", [
    {"origin": None, "anonymous": False, "complainant": SEALED, "channel": "petition"},     # a letter, keyed in
    {"origin": {**ORDER, "system": "open311"}, "anonymous": False, "complainant": SEALED},
])
def test_any_named_complainant_hears_when_the_case_is_handled_and_is_asked_to_rate_it(received):
    # Seed 001 asks for ratings of every handled case; receipt and progress are the hotline's promise only.
    story = Story(**received).then("assigned", "accepted", "rectification_reported", "closed")
    assert decided(story) == [[], [("case_assigned", LEAD), ("case_assigned", HELPER)], [], [],
                              [("complainant_closed", None), ("visit_request", None)]]


def test_a_dismissal_accepted_is_handled_too_and_asks_for_a_rating():
    story = hotline_story().then("assigned", "accepted", "dismissal_reported", "dismissal_accepted")
    assert decided(story)[-1] == [("complainant_closed", None), ("visit_request", None)]


def test_an_anonymous_complainant_hears_nothing():
    story = Story(origin=ORDER, anonymous=True, complainant=None).then(
        "assigned", "accepted", "rectification_reported", "closed")
    kinds = [k for per_event in decided(story) for k, _ in per_event]
    assert kinds == ["case_assigned", "case_assigned"]


def test_the_lead_unit_hears_of_rework_rehandling_and_extension_decisions():
    story = Story().then("assigned", "accepted", "rectification_reported", "rework_ordered", "extension_requested",
                         "extension_denied", "extension_requested", "extension_approved")
    assert [d for d in decided(story)[4:] if d] == [[("rework_ordered", LEAD)], [("extension_denied", LEAD)],
                                                    [("extension_approved", LEAD)]]
    rework = notices.decide(story.events[4], *fold(story)[4])[0]
    assert rework.context["reason"] == "整改不彻底" and rework.context["deadline"] == "2024-06-14"
    assert rework.case_id == "case-1" and rework.context["unit"] == LEAD


def test_a_case_imported_with_its_history_notifies_nobody_until_something_new_happens():
    imported = {"system": "import", "ref": "row-7", "parent": "imp-1", "extra": None}
    at = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
    story = Story(origin=imported, at=at).add("assigned", at=at).add("accepted", at=at)
    story.add("extension_requested").add("extension_approved")
    assert decided(story) == [[], [], [], [], [("extension_approved", LEAD)]]


def test_a_redelivered_or_foreign_event_causes_nothing():
    story = Story().then("assigned")
    assert notices.decide(story.last, None, None) == []
    accountability = other_event("cn.zhengfeng.directory.unit_registered.v1", "directory", {
        "name": LEAD, "kind": "government_department", "supervising_channel": "县监察局", "contacts": [], "active": True})
    assert notices.decide(accountability, None, None) == []


@pytest.mark.parametrize("step", ["reminder", "supervision_letter", "admonishment_talk", "bulletin_criticism",
                                  "accountability_proposal"])
def test_each_escalation_step_is_a_notice_to_the_unit_it_names(step):
    case = fold(Story().then("assigned"))[-1][1]
    letter = {"document": {"number": "正风办督〔2024〕7号", "year": 2024, "sequence": 7, "issuer": "正风办",
                           "issued_on": "2024-05-28"}} if step == "supervision_letter" else {}
    event = other_event(notices.STEP_ISSUED, "case-1", {
        "ladder": "deadline", "step": step, "round": 1, "unit": LEAD, "due": "2024-05-20", "working_days_overdue": 6,
        "handling_mode": "deadline", "threshold": 5, "crossed_on": "2024-05-28", **letter})
    [wanted] = notices.decide(event, None, case)
    assert (wanted.kind, wanted.unit, wanted.case_id) == (f"escalation_{step}", LEAD, "case-1")
    assert wanted.context["document_number"] == ("正风办督〔2024〕7号" if letter else None)
    assert wanted.context["overdue_days"] == 6 and wanted.context["what"] == "办结"
    assert wanted.context["category"] == "推诿扯皮"


def test_missed_weekly_reports_and_their_escalations_go_to_the_unit():
    missed = other_event(notices.WEEKLY_MISSED, f"weekly-{LEAD}", {
        "unit": LEAD, "week": "2026-W48", "due": "2026-11-27", "flagged_on": "2026-11-30"})
    escalated = other_event(notices.WEEKLY_ESCALATED, f"weekly-{LEAD}", {
        "unit": LEAD, "week": "2026-W49", "step": "supervision_letter", "consecutive_missed": 2, "threshold": 2,
        "document": {"number": "正风办督〔2026〕9号", "year": 2026, "sequence": 9, "issuer": "正风办",
                     "issued_on": "2026-12-07"}})
    [m] = notices.decide(missed, None, None)
    [e] = notices.decide(escalated, None, None)
    assert (m.kind, m.unit, m.case_id, m.context["week_label"]) == ("weekly_missed", LEAD, None, "2026年第48周")
    assert (e.kind, e.context["step"], e.context["consecutive_missed"]) == ("weekly_escalated", "督办函", 2)
    assert e.context["document_number"] == "正风办督〔2026〕9号"
    quarter = other_event(notices.QUARTERLY_MISSED, f"quarterly-{LEAD}", {
        "unit": LEAD, "quarter": "2026-Q4", "due": "2027-01-08", "flagged_on": "2027-01-11"})
    [q] = notices.decide(quarter, None, None)
    assert (q.kind, q.unit, q.case_id, q.context["quarter_label"]) == ("quarterly_missed", LEAD, None,
                                                                       "2026年第四季度")
    text = render("quarterly_missed", due="2027-01-08")
    assert text.subject == "【季度工作情况催报通知】2026年第四季度工作情况未按时报送"
    assert "2027年1月8日" in text.email and text.sms == "你单位未按时报送2026年第四季度工作情况，请立即补报。"
    published = other_event(notices.APPRAISAL_PUBLISHED, "appraisal-2026-Q4", {
        "period": "2026-Q4", "revision": 5, "title": "2026年第四季度政风行风民主评议结果通报", "digest": "0" * 64})
    results = {"data": {"round": {"min_ballots": 10}, "units": [
        {"unit": LEAD, "ballots": 12, "score": 86.67, "satisfaction_rate": {"value": 0.9167}, "rank": 1,
         "ranked": True, "key_unit": True},
        {"unit": "县林业局", "ballots": 3, "score": 60.0, "satisfaction_rate": {"value": 1.0}, "rank": None,
         "ranked": False, "key_unit": False}]}}
    told = notices.decide(published, None, results)
    assert [(w.kind, w.unit, w.context["rank"]) for w in told] == [("appraisal_published", LEAD, 1),
                                                                   ("appraisal_published", "县林业局", None)]
    assert notices.decide(published, None, None) == []
    text = render("appraisal_published")
    assert text.subject == "【民主评议结果通报】2026年第四季度政风行风民主评议结果通报"
    assert "为本次重点评议单位，共收到评议票 12 份，得分 86.67，满意率 91.7%；在参加排名的 9 个单位中排名第 2。" in text.email
    assert "未参加排名" in render("appraisal_published", rank=None).email
    letter = render("weekly_escalated", document_number="正风办督〔2026〕9号")
    assert letter.subject == "【督办函 正风办督〔2026〕9号】连续3周未报送周报告"
    assert letter.email.startswith("督  办  函\n正风办督〔2026〕9号\n\n县住建局：")
    assert "根据周报告制度，现予督办。" in letter.email          # not 现予督办函
    assert "现予通报批评。" in render("weekly_escalated", step="通报批评").email


def test_no_notice_context_holds_the_complainant():
    story = hotline_story().then("assigned", "accepted", "rectification_reported", "closed")
    for event, (before, after) in zip(story.events, fold(story)):
        for wanted in notices.decide(event, before, after):
            assert SEALED["ciphertext"] not in repr(wanted.context) and "complainant" not in wanted.context


# --------------------------------------------------------------------------------------------------
# Reaching a unit
# --------------------------------------------------------------------------------------------------

CONTACTS = [{"name": "王科长", "role": "联络员", "phone": "0739-1234567", "email": "wang@zjj.example.gov.cn"},
            {"name": "李主任", "role": None, "phone": "13900001111", "email": None},
            {"name": "王科长(重复)", "role": None, "phone": "07391234567", "email": "WANG@zjj.example.gov.cn"},
            {"name": "无联系方式", "role": None, "phone": None, "email": None}]


def test_a_unit_gets_email_at_every_address_and_sms_too_when_it_cannot_wait():
    urgent = notices.unit_addresses("escalation_supervision_letter", CONTACTS)
    assert [(a.channel, a.recipient, a.name) for a in urgent] == [
        ("email", "wang@zjj.example.gov.cn", "王科长"), ("sms", "0739-1234567", "王科长"), ("sms", "13900001111", "李主任")]
    calm = notices.unit_addresses("extension_approved", CONTACTS)
    assert [(a.channel, a.recipient) for a in calm] == [("email", "wang@zjj.example.gov.cn"), ("sms", "13900001111")]
    assert notices.unit_addresses("case_assigned", []) == []


def test_a_notice_gets_one_row_per_address_of_its_unit_and_its_group_robots():
    wanted = notices.Wanted("extension_approved", "县住建局", "case-1", {"case_number": "ZF-1"})
    unit = {"name": "县住建局", "active": True, "contacts": CONTACTS[:2], "robots": ["wecom"]}
    rows = notices.addressed(wanted, unit, "intake#e1", "cn.zhengfeng.case.extension_approved.v1", "now")
    assert [(r["channel"], r["recipient"], r["contact_name"], r["status"]) for r in rows] == [
        ("email", "wang@zjj.example.gov.cn", "王科长", "queued"), ("sms", "13900001111", "李主任", "queued"),
        ("wecom", "wecom:县住建局", "企业微信群机器人", "queued")]
    assert {(r["kind"], r["case_id"], r["event_id"], r["audience"], r["unit"]) for r in rows} == {
        ("extension_approved", "case-1", "intake#e1", "unit", "县住建局")}


@pytest.mark.parametrize("unit, reason", [
    (None, "the unit is not in the directory"),
    ({"active": False, "contacts": CONTACTS, "robots": []}, "the unit is inactive in the directory"),
    ({"active": True, "contacts": CONTACTS[3:], "robots": []},
     "the directory lists no email or phone for the unit's contacts, and no group robot")])
def test_a_notice_nobody_at_its_unit_can_get_is_kept_skipped_with_the_reason(unit, reason):
    wanted = notices.Wanted("case_assigned", "县住建局", "case-1", {})
    [row] = notices.addressed(wanted, unit, "intake#e1", "cn.zhengfeng.case.assigned.v1", "now")
    assert (row["recipient"], row["status"], row["last_error"]) == ("unit:县住建局", "skipped", reason)


def test_a_complainants_notice_goes_by_sms_to_the_complainant_key_never_a_number():
    wanted = notices.Wanted("visit_request", None, "case-1", {})
    [row] = notices.addressed(wanted, None, "intake#e1", "cn.zhengfeng.case.closed.v1", "now")
    assert (row["channel"], row["audience"], row["recipient"], row["masked_to"]) == (
        "sms", "complainant", notices.COMPLAINANT_RECIPIENT, None)


# --------------------------------------------------------------------------------------------------
# Phones, SMS length, retries
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("phone, masked", [("13807391234", "138****1234"), ("+86 138-0739-1234", "138****1234"),
                                           ("008613807391234", "138****1234"), ("１３８０７３９１２３４", "138****1234"),
                                           ("12345", "****"), ("", "****")])
def test_a_number_is_shown_masked(phone, masked):
    assert notices.mask_phone(phone) == masked


def test_numbers_compare_equal_however_they_are_written():
    assert notices.normalise_phone("+86 138 0739 1234") == notices.normalise_phone("13807391234") == "13807391234"


def test_sms_parts_are_70_chinese_characters_or_160_latin_ones():
    assert notices.sms_segments("中" * 70) == 1 and notices.sms_segments("中" * 71) == 2
    assert notices.sms_segments("中" * 134) == 2 and notices.sms_segments("中" * 135) == 3
    assert notices.sms_segments("a" * 160) == 1 and notices.sms_segments("a" * 161) == 2
    assert notices.sms_segments("😀" * 35) == 1 and notices.sms_segments("😀" * 36) == 2


def test_retries_follow_the_schedule_then_give_up_and_a_refusal_is_final():
    schedule = (1.0, 5.0)
    assert notices.verdict(True, False, 1, schedule) == notices.Verdict("sent")
    assert notices.verdict(False, False, 1, schedule) == notices.Verdict("queued", 1.0)
    assert notices.verdict(False, False, 2, schedule) == notices.Verdict("queued", 5.0)
    assert notices.verdict(False, False, 3, schedule) == notices.Verdict("failed")
    assert notices.verdict(False, True, 1, schedule) == notices.Verdict("failed")


def test_the_schedule_setting_is_seconds_between_commas():
    assert notices.parse_schedule("60, 300,1800") == (60.0, 300.0, 1800.0)
    assert notices.parse_schedule("0.2 0.2") == (0.2, 0.2)
    for bad in ("a,b", "-1", "nan"):
        with pytest.raises(ValueError):
            notices.parse_schedule(bad)


# --------------------------------------------------------------------------------------------------
# Replies to the visit request
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, ext, expected", [
    ("1", "0042", ("satisfied", 42)), ("１", "0042", ("satisfied", 42)), (" 2 ", "42", ("basically_satisfied", 42)),
    ("3 不满意", "0042", ("unsatisfied", 42)), ("1 0042", None, ("satisfied", 42)), ("0042 3", "", ("unsatisfied", 42)),
    ("满意", "7", ("satisfied", 7)), ("基本满意", "7", ("basically_satisfied", 7)), ("很不满意！", "7", ("unsatisfied", 7)),
    ("好的", "7", (None, 7)), ("1", None, ("satisfied", None)), ("5", "x1", (None, None)),
    ("1", "9" * 19, ("satisfied", None)),
])
def test_a_reply_is_read_by_its_digit_or_word_and_its_code(text, ext, expected):
    reply = notices.parse_reply(text, ext)
    assert (reply.satisfaction, reply.notice_id) == expected


def test_the_reply_code_is_the_visit_requests_own_id():
    assert notices.reply_code(42) == "0042" and notices.parse_reply("1", notices.reply_code(123456)).notice_id == 123456


# --------------------------------------------------------------------------------------------------
# The texts
# --------------------------------------------------------------------------------------------------

CONTEXT = {"case_id": "3f2a9c1d-1111-2222-3333-444455556666", "case_number": "ZF-2026-000123", "category": "推诿扯皮", "subject_unit": "县自然资源局",
           "summary": "不动产登记窗口以系统故障为由推诿", "lead_unit": LEAD, "unit": LEAD, "deadline": "2026-12-14",
           "handling_mode": "限期整改", "order_no": "SY12345-20261123-000317", "reassigned": False, "note": None,
           "sign_for_due": "2026-11-25", "reason": "整改不到位", "rework_count": 1, "previous_deadline": "2026-12-01",
           "comment": None, "step": "督办函", "ladder": "整改期限", "due": "2026-12-14", "overdue_days": 12, "round": 1,
           "sign_for": False, "what": "办结", "week": "2026-W48", "week_label": "2026年第48周",
           "quarter": "2026-Q4", "quarter_label": "2026年第四季度",
           "publication_title": "2026年第四季度政风行风民主评议结果通报", "ballots": 12, "score": 86.67,
           "satisfaction": 0.9167, "rank": 2, "ranked_units": 9, "key_unit": True, "min_ballots": 10,
           "consecutive_missed": 3, "url": "https://hooks.example.gov.cn/zf", "disabled_on": "2026-11-23",
           "document_number": "正风办督〔2026〕12号",
           # an enforcement action's rating request (domain.enforcement.request_context)
           "action_id": "9b1d2c3e-1111-2222-3333-444455556666", "kind_name": "行政执法", "officers": "张卫东、李明",
           "officers_short": "张卫东、李明", "performed_on": "2026-11-20", "performed_day": "11月20日",
           "matter": "食品经营许可现场核查", "section": "食品安全科"}


def render(kind: str, **changes):
    """`...` as a value leaves the fact out (a notice queued before it existed)."""
    context = {k: v for k, v in {**CONTEXT, **changes}.items() if v is not ...}
    return notice_text.render(kind, context, office="正风办",
                              case_link="https://zf.example.gov.cn/cases/{case_id}", today=date(2026, 11, 23))


def test_the_receipt_sms_gives_the_tracking_code_and_still_fits_one_part():
    key = TrackingKey(base64.b64encode(b"tracking-key-for-tests-only-32by").decode())
    for order_no in ("SY12345-20261123-000317", None):
        text = notice_text.render("complainant_received", {**CONTEXT, "order_no": order_no}, office="正风办",
                                  case_link="", today=date(2026, 11, 23), tracking=key)
        assert text.sms.endswith(f"办结后凭此编号和查询码{key.code_for(CONTEXT['case_id'])}可查看办理结果。")
        assert text.segments == 1, text.sms
    closed = notice_text.render("complainant_closed", CONTEXT, office="正风办", case_link="",
                                today=date(2026, 11, 23), tracking=key)
    assert closed.sms.endswith(f"已办结，凭此编号和查询码{key.code_for(CONTEXT['case_id'])}可查看办理结果。")
    assert closed.segments == 1
    assert "查询码" not in render("complainant_received").sms and "查询码" not in render("complainant_closed").sms
    assert "查询码" not in notice_text.render("visit_request", CONTEXT, office="正风办", case_link="",
                                           today=date(2026, 11, 23), tracking=key).sms


@pytest.mark.parametrize("kind", list(notices.KINDS))
def test_every_notice_renders_in_chinese_and_its_sms_fits_one_part(kind):
    text = render(kind)
    assert text.subject and text.email.strip() and text.sms
    assert "{{" not in text.email + text.sms and "None" not in text.email + text.sms
    assert text.segments == 1, f"{kind}: 【正风办】{text.sms} is {len(text.sms) + 5} characters"
    if notices.KINDS[kind].audience == notices.UNIT:
        assert text.email.startswith(LEAD + "：") or "督  办  函" in text.email or "约 谈 通 知" in text.email
        assert "正风办\n2026年11月23日" in text.email
    elif notices.KINDS[kind].audience == notices.COMPLAINANT:
        assert "SY12345-20261123-000317" in text.sms and text.email.strip() == text.sms
    else:       # the party of an enforcement action: who acted, when, and how to reply — nothing of a case
        assert text.sms == "县住建局张卫东、李明11月20日对您的行政执法，请评价：回复1满意 2基本满意 3不满意"
        assert "案件" not in text.sms and text.email.strip() == text.sms


@pytest.mark.parametrize("kind", list(notices.KINDS))
def test_each_fact_of_a_case_is_a_line_of_its_own(kind):
    """The case's number used to run into its category (案件编号：ZF-2026-000123问题类别：…): the template's
    closing tag took the line's end with it."""
    lines = render(kind).email.splitlines()
    for fact in ("案件编号：", "问题类别：", "被反映单位："):
        assert all(line.startswith(fact) for line in lines if fact in line), (kind, fact)
    task = render(kind, plan_title="窗口整治", noun="任务", case_ref="“窗口整治”").email.splitlines()
    assert all(line == "任务：窗口整治" for line in task if line.startswith("任务："))


def test_the_assignment_email_names_case_unit_deadlines_and_the_link():
    text = render("case_assigned")
    assert text.subject == "【交办通知】推诿扯皮（案件ZF-2026-000123）"
    assert text.sms.startswith("案件ZF-2026-000123已交你单位牵头办理")
    for part in ("案件编号：ZF-2026-000123", "牵头单位：县住建局", "签收时限：2026年11月25日前",
                 "办结时限：2026年12月14日前", "（限期整改）", "https://zf.example.gov.cn/cases/3f2a9c1d-1111-2222-3333-444455556666"):
        assert part in text.email, part
    cooperating = render("case_assigned", unit=HELPER)
    assert cooperating.email.startswith(HELPER) and "你单位为配合单位" in cooperating.email
    assert "配合办理" in cooperating.sms


def test_a_notice_queued_before_case_numbers_still_names_its_case_by_id():
    text = render("case_assigned", case_number=...)
    assert text.subject == "【交办通知】推诿扯皮（案件3f2a9c1d）"
    assert "案件编号：3f2a9c1d-1111-2222-3333-444455556666" in text.email


def test_a_complainant_is_told_the_hotline_order_number_or_else_the_case_number():
    assert render("visit_request").sms == "请评价工单SY12345-20261123-000317办理结果：回复1满意 2基本满意 3不满意"
    assert render("complainant_closed", order_no=None).sms == \
        "您反映的问题（案件ZF-2026-000123）已办结，感谢您对作风建设的监督。"


def test_an_escalation_email_names_the_step_and_the_overdue_working_days():
    letter = render("escalation_supervision_letter", sign_for=True, what="签收")
    assert letter.subject == "【督办函 正风办督〔2026〕12号】案件ZF-2026-000123超期未签收"
    assert letter.email.startswith("督  办  函\n正风办督〔2026〕12号\n\n县住建局：\n")
    assert letter.sms.startswith("督办函（正风办督〔2026〕12号）：案件ZF-2026-000123已超期12个工作日未签收")
    assert "已超过签收时限12个工作日仍未签收" in letter.email and "签收时限：2026年12月14日" in letter.email
    reminder = render("escalation_reminder", overdue_days=-2)
    assert "距办结时限还有2个工作日" in reminder.email


def test_a_letter_queued_before_letters_were_numbered_reads_as_it_did():
    letter = render("escalation_supervision_letter", document_number=...)
    assert letter.subject == "【督办函】案件ZF-2026-000123超期未办结"
    assert letter.email.startswith("督  办  函\n\n县住建局：\n") and letter.sms.startswith("督办函：案件")


@pytest.mark.parametrize("kind", [k for k in notices.KINDS if notices.KINDS[k].audience == notices.UNIT])
def test_a_notice_read_on_a_page_or_on_paper_has_no_link_and_says_nothing_of_replying_to_an_email(kind):
    from datetime import datetime, timezone
    read = notice_text.reading(kind, CONTEXT, datetime(2026, 11, 23, 2, tzinfo=timezone.utc), office="正风办")
    mailed = render(kind).email
    assert "本邮件" in mailed and "本邮件" not in read["body"] and "zf.example.gov.cn/cases" not in read["body"]
    assert read["body"].rstrip().endswith("如有疑问请与正风办联系。\n\n正风办\n2026年11月23日")
    assert read["subject"] == render(kind).subject


def test_a_missing_fact_is_an_error_not_a_blank():
    with pytest.raises(Exception, match="deadline"):
        notice_text.render("rework_ordered", {k: v for k, v in CONTEXT.items() if k != "deadline"}, office="正风办",
                           case_link="", today=date(2026, 11, 23))


def test_the_email_carries_chinese_in_encoded_headers_and_a_base64_utf8_body():
    config = mailer.MailConfig("127.0.0.1", sender="notices@zf.example.gov.cn", sender_name="正风办")
    text = render("case_assigned")
    raw = mailer.build(config, "wang@zjj.example.gov.cn", text.subject, text.email,
                       mailer.message_id(42, config.sender)).as_bytes()
    assert raw.isascii()                       # any SMTP server takes it, with or without SMTPUTF8
    parsed = message_from_bytes(raw, policy=default_policy)
    assert str(make_header(decode_header(parsed["Subject"]))) == text.subject
    assert parsed["From"].addresses[0].display_name == "正风办"
    assert parsed["Message-ID"] == "<zf-notice-42@zf.example.gov.cn>"
    assert parsed.get_content() == text.email and parsed.get_content_charset() == "utf-8"

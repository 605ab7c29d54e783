"""Units' group robots (企业微信, 钉钉): what intake accepts as a robot, what the directory records of it
(references only), and what notify sends and makes of the robots' answers."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from intake.domain import directory as dom
from intake.domain import robots as intake_robots
from intake.domain.case import InvalidCommand
from notify.domain import notices, robots
from zfcommon.events.catalogue import validate_data

WECOM = {"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}
DINGTALK = {"webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=0c23abcd", "secret": "SECa1b2c3"}
UNIT = {"name": "县教育局", "kind": "government_department", "supervising_channel": "县纪委监委"}


# -- intake: what may be set ------------------------------------------------------------------------

def test_a_wecom_robot_and_a_signed_dingtalk_robot_are_accepted():
    intake_robots.check({"wecom": WECOM, "dingtalk": DINGTALK})
    intake_robots.check({"wecom": None, "dingtalk": None})


@pytest.mark.parametrize("robots, field", [
    ({"wecom": {"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}}, "wecom.webhook_url"),
    ({"wecom": {"webhook_url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}}, "wecom.webhook_url"),
    ({"dingtalk": {**DINGTALK, "webhook_url": "https://oapi.dingtalk.com/robot/send?key=x"}}, "dingtalk.webhook_url"),
    ({"dingtalk": {**DINGTALK, "webhook_url": DINGTALK["webhook_url"] + "&timestamp=1&sign=x"}}, "dingtalk.webhook_url"),
    ({"dingtalk": {**DINGTALK, "secret": "a1b2c3"}}, "dingtalk.secret"),
])
def test_a_robot_that_is_not_one_is_refused_naming_the_field_never_the_value(robots, field):
    with pytest.raises(InvalidCommand) as refused:
        intake_robots.check(robots)
    assert list(refused.value.errors) == [field] and refused.value.code == "directory.robot_invalid"
    assert "a1b2c3" not in str(refused.value) and "0c23abcd" not in str(refused.value)


def test_the_directory_records_a_units_robots_by_reference_and_a_later_change_replaces_them():
    d = dom.Directory.replay([])
    d.apply(*_(dom.register_unit(d, UNIT)))
    [event] = dom.set_unit_robots(d, "县教育局", {"wecom": "rb_1", "dingtalk": "rb_2"})
    assert event.type == "cn.zhengfeng.directory.unit_robots_set.v1"
    assert event.data == {"unit": "县教育局", "wecom": "rb_1", "dingtalk": "rb_2"}
    assert validate_data(event.type, event.data) == {}
    d.apply(event.type, event.data)
    d.apply(*_(dom.set_unit_robots(d, "县教育局", {"dingtalk": "rb_3"})))
    assert d.robots == {"县教育局": {"dingtalk": "rb_3"}}


def test_robots_are_refused_for_a_unit_the_directory_does_not_have():
    with pytest.raises(InvalidCommand, match="名录中没有单位"):
        dom.set_unit_robots(dom.Directory.replay([]), "不存在的单位", {"wecom": "rb_1"})


def _(events):
    [event] = events
    return event.type, event.data


# -- notify: who, what, how -------------------------------------------------------------------------

def test_every_notice_to_a_unit_also_goes_to_each_of_its_robots_named_by_unit_never_by_address():
    assert [(a.channel, a.recipient) for a in notices.robot_addresses("县教育局", ["dingtalk", "wecom"])] == [
        ("wecom", "wecom:县教育局"), ("dingtalk", "dingtalk:县教育局")]
    assert notices.robot_addresses("县教育局", []) == []


def test_dingtalk_signs_the_timestamp_and_secret_with_the_secret_as_its_docs_say():
    # printf '1700000000000\nSECa1b2c3' | openssl dgst -sha256 -hmac 'SECa1b2c3' -binary | base64
    assert robots.dingtalk_sign("SECa1b2c3", 1700000000000) == "r3A3qrlgRa%2BTdR5aXyvO01zn0wmdf5B%2FXKtKbV42SDc%3D"


def test_the_dingtalk_request_is_markdown_with_a_title_to_the_signed_url():
    req = robots.request("dingtalk", DINGTALK, "【督办函】", "### 【督办函】\n\n内容", 1700000000000)
    query = parse_qs(urlsplit(req.url).query)
    assert query == {"access_token": ["0c23abcd"], "timestamp": ["1700000000000"],
                     "sign": ["r3A3qrlgRa+TdR5aXyvO01zn0wmdf5B/XKtKbV42SDc="]}
    assert json.loads(req.body) == {"msgtype": "markdown", "markdown": {"title": "【督办函】", "text": "### 【督办函】\n\n内容"}}


def test_the_wecom_request_is_markdown_content_to_the_robots_own_address():
    req = robots.request("wecom", WECOM, "【交办通知】", "### 【交办通知】", 1700000000000)
    assert req.url == WECOM["webhook_url"]
    assert json.loads(req.body) == {"msgtype": "markdown", "markdown": {"content": "### 【交办通知】"}}


def test_the_message_is_the_emails_text_as_paragraphs_cut_under_wecoms_4096_bytes():
    assert robots.markdown("【交办通知】", "县教育局：\n\n现将以下问题线索交你单位。\n签收时限：12月1日前\n") == (
        "### 【交办通知】\n\n县教育局：\n\n现将以下问题线索交你单位。\n\n签收时限：12月1日前")
    long = robots.markdown("【周报告催报通知】", "整改" * 3000)
    assert len(long.encode()) <= 4000 and long.endswith("…")


@pytest.mark.parametrize("kind, status, answer, ok, permanent", [
    ("wecom", 200, {"errcode": 0, "errmsg": "ok"}, True, False),
    ("dingtalk", 200, {"errcode": 0, "errmsg": "ok"}, True, False),
    ("dingtalk", 200, {"errcode": 310000, "errmsg": "sign not match"}, False, True),       # HTTP 200, still failed
    ("dingtalk", 200, {"errcode": 130101, "errmsg": "send too fast"}, False, False),       # tried again
    ("wecom", 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, False, True),
    ("wecom", 200, {"errcode": 45009, "errmsg": "api freq out of limit"}, False, False),
    ("wecom", 200, {"errcode": -1, "errmsg": "system busy"}, False, False),
    ("wecom", 200, "<html>proxy</html>", False, False),
    ("wecom", 502, {}, False, False),
    ("dingtalk", 404, {}, False, True),
    ("dingtalk", 429, {}, False, False),
])
def test_a_robots_answer_counts_as_sent_only_with_errcode_zero(kind, status, answer, ok, permanent):
    text = answer if isinstance(answer, str) else json.dumps(answer)
    outcome = robots.outcome(kind, status, text, None, 5)
    assert (outcome.ok, outcome.permanent) == (ok, permanent)
    if not ok:
        assert outcome.error


def test_no_answer_at_all_is_tried_again():
    outcome = robots.outcome("wecom", None, None, "no answer within 2 s", 2000)
    assert (outcome.ok, outcome.permanent, outcome.error) == (False, False, "no answer within 2 s")

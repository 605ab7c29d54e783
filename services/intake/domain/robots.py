"""A unit's group robots (群机器人), pure: what a WeCom (企业微信) or DingTalk (钉钉) robot's address must
look like before the office may set it (docs/NOTICES.md "Group robots").

- WeCom: the robot's webhook address, `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…` (the key
  is the robot's only credential).
- DingTalk: the webhook address `https://oapi.dingtalk.com/robot/send?access_token=…` and the robot's
  signing secret (加签, `SEC…`): every message is sent to a URL signed with it, so a leaked address alone
  cannot post. Robots secured by keywords or an IP list only are not taken.

Another host is allowed (an on-premises WeCom or DingTalk for government); https only, as every address
notify posts to (zfcommon.webhooks.url_problem).
"""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from zfcommon.webhooks import url_problem

from .case import InvalidCommand

CREDENTIAL = {"wecom": "key", "dingtalk": "access_token"}     # the query parameter each address carries
NAMES = {"wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人"}


def check(robots: Mapping[str, Mapping[str, Any] | None]) -> None:
    """InvalidCommand naming every field that is wrong (the values themselves are never repeated)."""
    errors: dict[str, list[str]] = {}
    for kind, config in robots.items():
        if not config:
            continue
        url = config["webhook_url"]
        problem = url_problem(url)
        if problem is None:
            query = parse_qs(urlsplit(url).query)
            if not (query.get(CREDENTIAL[kind]) or [""])[0].strip():
                problem = f"须为{NAMES[kind]}的完整 Webhook 地址（含 {CREDENTIAL[kind]}= 参数）"
            elif kind == "dingtalk" and ({"timestamp", "sign"} & set(query)):
                problem = "请填写不带 timestamp、sign 参数的 Webhook 地址（签名在每次发送时计算）"
        if problem:
            errors[f"{kind}.webhook_url"] = [problem]
        if kind == "dingtalk" and not config.get("secret", "").startswith("SEC"):
            errors["dingtalk.secret"] = ["须为钉钉机器人安全设置中“加签”的密钥（以 SEC 开头）"]
    if errors:
        raise InvalidCommand(errors, code="directory.robot_invalid")

"""Request and response schemas of a unit's group robots (docs/NOTICES.md "Group robots")."""
from marshmallow import Schema, fields, validate

from zfcommon.events.catalogue import ROBOT_KINDS

from .schemas import _Strict

_ADDRESS = {"description": "the robot's webhook address as its group's settings show it: a secret"}


def _address(**kw):
    return fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata=_ADDRESS, **kw)


class WecomRobotIn(_Strict):
    webhook_url = _address()


class DingtalkRobotIn(_Strict):
    webhook_url = _address()
    secret = fields.String(required=True, validate=validate.Length(min=1, max=200),
                           metadata={"description": "the robot's signing secret (加签, SEC…): a secret"})


class RobotsIn(_Strict):
    """Both robots at once: a kind left out or null means the unit has none of that kind."""
    wecom = fields.Nested(WecomRobotIn, allow_none=True, load_default=None,
                          metadata={"description": "企业微信群机器人; null: none"})
    dingtalk = fields.Nested(DingtalkRobotIn, allow_none=True, load_default=None,
                             metadata={"description": "钉钉群机器人 with 加签; null: none"})


class RobotsOut(Schema):
    unit = fields.String(required=True)
    robots = fields.List(fields.String(validate=validate.OneOf(ROBOT_KINDS)), required=True,
                         metadata={"description": "the kinds of group robot the unit's notices go to"})


class WecomRobotOut(Schema):
    webhook_url = fields.String(required=True)


class DingtalkRobotOut(Schema):
    webhook_url = fields.String(required=True)
    secret = fields.String(required=True)


class RobotAddressesOut(Schema):
    unit = fields.String(required=True)
    wecom = fields.Nested(WecomRobotOut, allow_none=True)
    dingtalk = fields.Nested(DingtalkRobotOut, allow_none=True)

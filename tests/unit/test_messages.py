"""marshmallow's standard messages in Chinese, from one table (zfcommon.messages)."""
import inspect
import re

import marshmallow
import pytest
from marshmallow import fields, validate

from zfcommon.messages import translate, translate_errors
from zfcommon.problem import Unprocessable

LATIN = re.compile(r"[A-Za-z]{4,}")


def _standard_messages():
    """Every message marshmallow's fields, validators and schemas can give, formatted as they are."""
    for _, cls in inspect.getmembers(fields, inspect.isclass):
        for key, message in getattr(cls, "default_error_messages", {}).items():
            yield message.format(obj_type="datetime", awareness="aware", input="x", choices="a, b")
    yield from (validate.Length(min=1).message_min.format(min=1), validate.Length(max=9).message_max.format(max=9),
                validate.Length(min=1, max=9).message_all.format(min=1, max=9),
                validate.Length(equal=3).message_equal.format(equal=3), validate.OneOf.default_message.format(
                    choices="a, b"), validate.Regexp.default_message, validate.Equal.default_message.format(other=1),
                validate.ContainsOnly.default_message.format(choices="a"),
                validate.ContainsNoneOf.default_message.format(values="a"), validate.NoneOf.default_message)
    for rng in (validate.Range(min=1), validate.Range(max=9), validate.Range(min=1, max=9),
                validate.Range(min=1, max=9, min_inclusive=False, max_inclusive=False)):
        try:
            rng(0 if rng.min is not None else 10)
        except marshmallow.ValidationError as exc:
            yield exc.messages[0]
    yield from marshmallow.Schema._default_error_messages.values()


@pytest.mark.parametrize("message", sorted(set(_standard_messages())))
def test_every_standard_message_is_in_chinese(message):
    chinese = translate(message)
    for term in ("JSON", "NaN", "UUID", "URL", "RFC", "UTF", "YYYY", "null"):
        chinese = chinese.replace(term, "")
    assert not LATIN.search(chinese), translate(message)


def test_the_values_in_a_message_are_kept():
    assert translate("Must be one of: hotline, petition.") == "须为以下之一：hotline, petition"
    assert translate("Must be greater than or equal to 1 and less than or equal to 500.") == "须≥ 1 且≤ 500"


def test_a_message_already_in_chinese_passes_unchanged():
    assert translate("不是本单位的案件") == "不是本单位的案件"


def test_nested_errors_keep_their_keys():
    assert translate_errors({"location": {"lat": ["Not a valid number."]}, 0: ["Unknown field."]}) == {
        "location": {"lat": ["不是有效的数字"]}, 0: ["未知字段（不接受此字段）"]}


def test_a_422_problem_carries_its_errors_in_chinese():
    body = Unprocessable("以下字段未通过校验：channel", errors={"channel": ["Missing data for required field."]}).body()
    assert body["errors"] == {"channel": ["缺少必填字段"]} and body["code"] == "validation_failed"

"""Open311 services, definitions and submitted requests (intake.domain.open311, open311_submission)."""
from __future__ import annotations

import pytest

from intake.domain import directory as directory_domain
from intake.domain.open311 import Open311Error, category_of, definition, discovery, service_code, services
from intake.domain.open311_submission import submission

from .fakes import LEAD_UNIT, OTHER_UNIT, RETIRED_UNIT, office_directory

DIRECTORY = office_directory()
CODE = service_code("推诿扯皮")


def form(**fields) -> dict[str, list[str]]:
    """A parsed form: every value a list, as werkzeug's MultiDict.to_dict(flat=False) gives it."""
    base = {"service_code": CODE, "lat": "26.98", "long": "111.27", "description": "窗口推诿扯皮",
            "attribute[subject_unit]": LEAD_UNIT}
    merged = {**base, **fields}
    return {k: v if isinstance(v, list) else [v] for k, v in merged.items() if v is not None}


def problems(**fields) -> list[tuple[str, str]]:
    with pytest.raises(Open311Error) as caught:
        submission(DIRECTORY, form(**fields))
    assert caught.value.status == 400
    return caught.value.errors


def named(**fields) -> list[str]:
    return [param for param, _ in problems(**fields)]


def test_service_codes_are_derived_from_the_category_name_and_never_collide():
    codes = [s["service_code"] for s in services(DIRECTORY)]
    assert len(set(codes)) == len(codes) == len(DIRECTORY.categories)
    assert service_code("推诿扯皮") == CODE == service_code("推诿扯皮") and CODE.startswith("zf-")
    assert category_of(DIRECTORY, CODE) == "推诿扯皮"


def test_a_removed_category_is_no_longer_a_service():
    [removed] = directory_domain.remove_category(DIRECTORY, "推诿扯皮")
    smaller = DIRECTORY.extended([(removed.type, removed.data)])
    with pytest.raises(Open311Error) as caught:
        category_of(smaller, CODE)
    assert caught.value.status == 404


def test_services_carry_their_group_and_need_the_definition():
    first = services(DIRECTORY)[0]
    assert first["service_name"] == "执行力弱" and first["group"] == "八类突出问题"
    assert (first["metadata"], first["type"]) == (True, "realtime")


def test_the_subject_unit_is_chosen_among_active_units_only():
    attrs = {a["code"]: a for a in definition(DIRECTORY, CODE)["attributes"]}
    keys = {v["key"] for v in attrs["subject_unit"]["values"]}
    assert LEAD_UNIT in keys and RETIRED_UNIT not in keys
    assert attrs["subject_unit"]["datatype"] == "singlevaluelist" and attrs["subject_unit"]["required"]


def test_without_units_the_subject_unit_is_free_text():
    attrs = {a["code"]: a for a in definition(directory_domain.Directory(), CODE)["attributes"]}
    assert attrs["subject_unit"]["datatype"] == "string" and attrs["subject_unit"]["values"] == []


def test_discovery_lists_one_production_endpoint_in_both_formats():
    doc = discovery("https://zf.example.cn/open311/v2", "2026-11-23T09:00:00+08:00")
    [endpoint] = doc["endpoints"]
    assert endpoint["formats"] == ["text/xml", "application/json"] and endpoint["changeset"] == doc["changeset"]


def test_a_valid_form_becomes_the_leads_fields():
    sub = submission(DIRECTORY, form(**{"attribute[priority]": "critical", "attribute[evidence][]": ["photo", "audio",
                                                                                                    "photo"],
                                        "address_id": "A-1", "media_url": "https://img.example.cn/a.jpg"}))
    assert (sub.category, sub.subject_unit, sub.priority) == ("推诿扯皮", LEAD_UNIT, "critical")
    assert sub.location == {"address": None, "lat": 26.98, "lon": 111.27}
    assert sub.extra == {"service_code": CODE, "address_id": "A-1", "media_url": "https://img.example.cn/a.jpg",
                         "attributes": {"evidence": ["photo", "audio"]}}
    assert sub.complainant is None


def test_the_submitter_is_gathered_for_sealing_with_a_chinese_name_family_first():
    sub = submission(DIRECTORY, form(first_name="小明", last_name="王", email="w@example.cn", device_id="d-1"))
    assert sub.complainant == {"name": "王小明", "email": "w@example.cn", "device_id": "d-1", "confidential": True}
    latin = submission(DIRECTORY, form(first_name="Ming", last_name="Wang"))
    assert latin.complainant["name"] == "Ming Wang"


def test_an_address_id_alone_is_enough_location():
    sub = submission(DIRECTORY, form(lat=None, long=None, address_id="A-9"))
    assert sub.location is None and sub.extra["address_id"] == "A-9"


def test_empty_parameters_count_as_absent():
    sub = submission(DIRECTORY, form(**{"lat": "", "long": "", "address_string": "县政务服务中心", "email": "",
                                        "attribute[priority]": "", "attribute[evidence][]": ["", " "]}))
    assert sub.location == {"address": "县政务服务中心", "lat": None, "lon": None}
    assert sub.priority == "normal" and sub.complainant is None and "attributes" not in sub.extra


def test_no_service_code_is_400_and_an_unknown_one_404():
    assert named(service_code=None) == ["service_code"]
    with pytest.raises(Open311Error) as caught:
        submission(DIRECTORY, form(service_code="zf-00000000"))
    assert caught.value.status == 404


@pytest.mark.parametrize("fields, param", [
    ({"attribute[subject_unit]": None}, "attribute[subject_unit]"),
    ({"attribute[subject_unit]": RETIRED_UNIT}, "attribute[subject_unit]"),
    ({"attribute[subject_unit][]": [LEAD_UNIT, OTHER_UNIT], "attribute[subject_unit]": None}, "attribute[subject_unit]"),
    ({"attribute[evidence][]": ["photo", "rumour"]}, "attribute[evidence]"),
    ({"attribute[window]": "一楼\n二楼"}, "attribute[window]"),
    ({"attribute[occurred_at]": "上周"}, "attribute[occurred_at]"),
    ({"attribute[unknown]": "x"}, "attribute[unknown]"),
    ({"attribute[protection]": "x"}, "attribute[protection]"),
    ({"attribute": "x"}, "attribute"),
    ({"lat": None, "long": None}, "location"),
    ({"lat": None}, "lat"),
    ({"long": "181"}, "long"),
    ({"lat": "inf"}, "lat"),
    ({"description": " "}, "description"),
    ({"description": "字" * 4001}, "description"),
    ({"description": ["一", "二"]}, "description"),
    ({"media_url": "ftp://x/y"}, "media_url"),
    ({"phone": "call me"}, "phone"),
    ({"email": "nobody"}, "email"),
])
def test_each_wrong_parameter_is_named(fields, param):
    assert param in named(**fields)


def test_a_description_of_4000_characters_is_accepted():
    assert len(submission(DIRECTORY, form(description="字" * 4000)).description) == 4000


def test_every_problem_is_reported_at_once():
    assert set(named(lat="95", email="x", **{"attribute[subject_unit]": None})) == \
        {"lat", "email", "attribute[subject_unit]"}


def test_a_datetime_attribute_without_a_zone_is_china_time():
    sub = submission(DIRECTORY, form(**{"attribute[occurred_at]": "2026-11-20T10:30"}))
    assert sub.extra["attributes"]["occurred_at"] == "2026-11-20T10:30:00+08:00"

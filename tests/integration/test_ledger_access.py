"""Who sees what on the ledger: units their own cases, channels their own submissions, the public nothing."""
from __future__ import annotations

import csv
import io

import pytest

from ..support import bearer
from ..unit.test_ledger_evolve import Story
from .test_ledger_lists import ids
from .test_ledger_projection import client, client_on, project  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration
HOUSING = bearer("unit", unit="县住建局")
FINANCE = bearer("unit", unit="县财政局")
TRANSPORT = bearer("unit", unit="县交通运输局")
HOTLINE = bearer("channel", channel="hotline")
EVERY_ENDPOINT = ["/v1/cases", "/v1/cases/c1", "/v1/cases/c1/timeline", "/v1/cases/c1/as-of?at=2024-05-06T01:30:00Z",
                  "/v1/cases/export.csv", "/v1/cases/export.xlsx", "/v1/overdue", "/v1/overdue/export.csv",
                  "/v1/overdue/export.xlsx", "/v1/units/stats", "/v1/units/stats/export.csv",
                  "/v1/units/stats/export.xlsx"]
ONE_CASE = ["/v1/cases/{}", "/v1/cases/{}/timeline", "/v1/cases/{}/as-of?at=2030-01-01T00:00:00Z"]


@pytest.fixture
def ledger(urls):
    project(urls["ledger"],
            Story("c1").then("assigned", "accepted"),                                  # 住建 leads, 财政 cooperates
            Story("c2", channel="petition").add("assigned", lead_unit="县交通运输局", cooperating_units=[])
            .add("accepted", unit="县交通运输局"),
            Story("c3", channel="media"))                                              # not assigned to anyone


@pytest.mark.parametrize("who, visible", [(HOUSING, ["c1"]), (FINANCE, ["c1"]), (TRANSPORT, ["c2"]),
                                          (HOTLINE, ["c1"]), (bearer("auditor"), ["c3", "c2", "c1"]),
                                          (bearer("office"), ["c3", "c2", "c1"])],
                         ids=["lead unit", "cooperating unit", "other unit", "channel", "auditor", "office"])
def test_a_principal_lists_only_the_cases_it_may_see(client, ledger, who, visible):
    assert sorted(ids(client.get("/v1/cases", headers=who)), reverse=True) == visible


@pytest.mark.parametrize("path", ONE_CASE)
def test_another_units_case_is_not_found_as_if_it_did_not_exist(client, ledger, path):
    hidden = client.get(path.format("c2"), headers=HOUSING)
    missing = client.get(path.format("no-such-case"), headers=HOUSING)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json["detail"].replace("c2", "X") == missing.json["detail"].replace("no-such-case", "X")
    assert client.get(path.format("c1"), headers=HOUSING).status_code == 200


@pytest.mark.parametrize("path", ONE_CASE)
def test_a_channel_reads_only_its_own_submissions(client, ledger, path):
    assert client.get(path.format("c2"), headers=HOTLINE).status_code == 404
    assert client.get(path.format("c1"), headers=HOTLINE).status_code == 200


def test_a_filter_never_widens_a_units_view(client, ledger):
    assert ids(client.get("/v1/cases", query_string={"unit": "县交通运输局"}, headers=HOUSING)) == []
    assert ids(client.get("/v1/cases", query_string={"channel": "petition"}, headers=HOTLINE)) == []


def test_a_unit_sees_only_its_own_row_of_the_stats(client, ledger):
    assert [r["unit"] for r in client.get("/v1/units/stats", headers=bearer("office")).json["items"]] == [
        "县交通运输局", "县住建局"]
    assert [r["unit"] for r in client.get("/v1/units/stats", headers=HOUSING).json["items"]] == ["县住建局"]
    assert client.get("/v1/units/stats", headers=FINANCE).json["items"] == []    # cooperates, leads nothing


def test_a_channel_gets_stats_over_its_own_submissions_only(client, ledger):
    assert [r["unit"] for r in client.get("/v1/units/stats", headers=HOTLINE).json["items"]] == ["县住建局"]


def test_a_units_overdue_list_and_exports_hold_only_its_cases(client, ledger):
    assert ids(client.get("/v1/overdue", headers=TRANSPORT)) == ["c2"]
    for path in ("/v1/cases/export.csv", "/v1/overdue/export.csv"):
        rows = list(csv.reader(io.StringIO(client.get(path, headers=TRANSPORT).data.decode("utf-8-sig"))))
        assert [r[-1] for r in rows[1:]] == ["c2"]          # 案件ID, the last column


@pytest.mark.parametrize("path", EVERY_ENDPOINT)
def test_the_public_may_read_nothing_on_the_ledger(client, ledger, path):
    resp = client.get(path, headers=bearer("public"))
    assert resp.status_code == 403 and resp.content_type == "application/problem+json"


@pytest.mark.parametrize("path", EVERY_ENDPOINT)
def test_every_ledger_endpoint_wants_a_token(client, ledger, path):
    assert client.get(path).status_code == 401


def test_a_monitoring_point_reads_only_the_cases_it_submitted_not_its_channels(client, urls):
    point = {"system": "monitoring_point", "ref": "s-1"}
    project(urls["ledger"], Story("p1", channel="monitoring_point", origin={**point, "parent": "point-a"}),
            Story("p2", channel="monitoring_point", origin={**point, "ref": "s-2", "parent": "point-b"}))
    own = bearer("channel", sub="point-a", channel="monitoring_point")
    assert ids(client.get("/v1/cases", headers=own)) == ["p1"]
    assert client.get("/v1/cases/p2", headers=own).status_code == 404
    assert sorted(ids(client.get("/v1/cases", headers=bearer("channel", channel="hotline")))) == []

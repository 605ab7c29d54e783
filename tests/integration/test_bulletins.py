"""Monthly bulletins and quarterly disclosures on the real PostgreSQL and broker, with the real ledger
app serving its figures over HTTP: draft → review → publish, the published event on Kafka and in the
audit trail, every format carrying the same figures, and a rebuild from the trail giving the same."""
from __future__ import annotations

import io
import json
import threading
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from werkzeug.serving import make_server

from audit.adapters import trail
from audit.entrypoints.http import create_app as audit_app
from intake.entrypoints.http import create_app as intake_app
from ledger.entrypoints.http import create_app as ledger_app
from notify.adapters.repository import apply as notify_apply
from notify.entrypoints.http import create_app as notify_app
from zfcommon import db
from zfcommon.consumer import apply_once
from zfcommon.events import new_event, parse_event
from zfcommon.events.catalogue import PUBLICATION_TOPIC
from zfcommon.eventstore import EventStore
from zfcommon.rebuild import events_from_trail, rebuild
from zfcommon.relay import Relay

from ..conftest import fresh_database, service_urls, settings_for
from ..support import bearer, read_topic
from ..unit.test_ledger_evolve import Story
from .test_ledger_projection import project

pytestmark = pytest.mark.integration
HOUSING, FINANCE, TRANSPORT = "县住建局", "县财政局", "县交通运输局"
TODAY = date(2024, 6, 3)
OFFICE = bearer("office")
REVIEWER = bearer("office", sub="office-reviewer")     # four eyes: not whoever drafted
MARCH = datetime(2024, 3, 5, 2, tzinfo=timezone.utc)


def may_cases() -> list[Story]:
    """May 2024: 县住建局 leads 4 cases (one overdue, one signed late), 县财政局 3 (all closed on time),
    县交通运输局 1 (too few to be ranked); in March two hotline cases and a petition."""
    def running(case_id, unit, *then, **received):
        return Story(case_id, **received).add("assigned", lead_unit=unit).add("accepted", unit=unit).then(*then)
    closed = ("rectification_reported", "closed", "return_visit_recorded")
    return [
        running("h1", HOUSING, *closed, description="窗口推诿，当事人电话13807391234"),
        Story("h2").add("assigned", lead_unit=HOUSING).add("accepted", unit=HOUSING, on_time=False),
        running("h3", HOUSING, "rectification_reported", "rework_ordered"),
        running("h4", HOUSING, "dismissal_reported", "dismissal_accepted", "recheck_overturned"),
        *[running(f"f{i}", FINANCE, *closed) for i in range(3)],
        running("t1", TRANSPORT, *closed),
        running("q1", HOUSING, *closed, at=MARCH), running("q2", FINANCE, at=MARCH),
        running("q3", FINANCE, at=MARCH, channel="petition"),
    ]


def marks_events() -> list:
    """What the escalation ladder, the accountability records and weekly reports said in May."""
    common = {"correlationid": "c", "actor": "system:notify", "time": datetime(2024, 5, 24, 2, tzinfo=timezone.utc)}
    return [
        new_event(service="notify", type="cn.zhengfeng.escalation.step_issued.v1", subject="h2", streamversion=1,
                  data={"ladder": "deadline", "step": "bulletin_criticism", "round": 1, "unit": HOUSING,
                        "due": "2024-05-08", "working_days_overdue": 12, "handling_mode": "deadline", "threshold": 10,
                        "crossed_on": "2024-05-24"}, **common),
        new_event(service="intake", type="cn.zhengfeng.accountability.recorded.v1", subject="acc-1", streamversion=1,
                  data={"measure": "admonishment", "target_kind": "person", "target": "王某某", "unit": HOUSING,
                        "basis_cases": ["h4"], "decided_by": "县纪委", "reason": "查否不实"}, **common),
        new_event(service="notify", type="cn.zhengfeng.report.weekly_missed.v1", subject=f"weekly-{FINANCE}",
                  streamversion=1, data={"unit": FINANCE, "week": "2024-W20", "due": "2024-05-17",
                                         "flagged_on": "2024-05-20"}, **common),
    ]


def serve(app) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def world(urls, broker, tmp_path):
    project(urls["ledger"], *may_cases())
    with db.connect(urls["notify"]) as conn:
        for event in marks_events():
            apply_once(conn, event, event.topic, notify_apply)
        conn.commit()
    ledger = ledger_app(settings_for("ledger", urls["ledger"]), today=lambda: TODAY)
    ledger_url, server = serve(ledger)
    # intake is asked for the typical cases' complainants (to mask them); these cases never went
    # through it, so it knows none.
    intake = intake_app(settings_for("intake", urls["intake"]))
    intake_url, intake_server = serve(intake)
    clock = tmp_path / "clock"
    clock.write_text("2024-06-03T10:00:00+08:00")
    notify = notify_app(settings_for("notify", urls["notify"], broker.bootstrap, ledger_url=ledger_url,
                                     intake_url=intake_url, clock_file=str(clock)))
    yield notify.test_client(), ledger.test_client()
    server.shutdown()
    intake_server.shutdown()
    for app in (notify, ledger, intake):
        app.extensions["zf_pool"].close()


def by_unit(body: dict) -> dict:
    return {u["unit"]: u for u in body["data"]["units"]}


def test_a_bulletin_is_drafted_reviewed_published_and_rebuilt_from_the_trail(pg, urls, broker, world):
    client, ledger = world
    assert client.put("/v1/bulletins/rules", json={"base": 100, "min_cases": 2, "deductions": {
        "overdue": 2, "late_sign_for": 1, "weekly_missed": 2, "criticism": 5, "accountability": 5,
        "recheck_overturned": 3, "unsatisfied": 1, "rework": 0.5}}, headers=OFFICE).status_code == 200

    draft = client.post("/v1/bulletins", json={"month": "2024-05", "typical_cases": [{"case_id": "h1"}]},
                        headers=OFFICE)
    assert draft.status_code == 201, draft.json
    assert (draft.json["state"], draft.json["revision"]) == ("drafted", 1)
    units = by_unit(draft.json)
    # The figures are the ledger's, as its own API gives them for May.
    stats = ledger.get("/v1/units/stats", query_string={"from": "2024-05-01", "to": "2024-05-31"}, headers=OFFICE)
    for row in stats.json["items"]:
        assert {k: units[row["unit"]][k] for k in row if k != "unit"} == {k: v for k, v in row.items() if k != "unit"}
    housing = units[HOUSING]
    assert (housing["received"], housing["late_sign_for"], housing["recheck_overturned"], housing["criticisms"],
            housing["accountability"]) == (4, 1, 1, 1, 1)
    # 100 − overdue 2×? − late 1 − criticism 5 − accountability 5 − overturned 3 − rework 0.5 …
    assert housing["score"] == 100 - sum(line["total"] for line in housing["deductions"])
    assert [(u["unit"], u["rank"]) for u in draft.json["data"]["units"]] == [
        (FINANCE, 1), (HOUSING, 2), (TRANSPORT, None)]
    assert units[FINANCE]["weekly_missed"] == 1 and units[FINANCE]["score"] == 98
    assert [c["kind"] for c in draft.json["data"]["criticism"]] == ["admonishment", "bulletin_criticism"]
    assert "王某某" not in json.dumps(draft.json, ensure_ascii=False)
    [typical] = draft.json["data"]["typical_cases"]
    assert typical["text"].startswith("窗口推诿，当事人电话") and "13807391234" not in typical["text"]
    assert typical["unit"] == HOUSING

    # Nobody but the office and auditors sees a draft; publishing before approval is refused.
    for role in ("public", "unit"):
        who = bearer(role, unit=HOUSING) if role == "unit" else bearer(role)
        assert client.get("/v1/bulletins/2024-05", headers=who).status_code == 404
        assert client.get("/v1/bulletins/2024-05.pdf", headers=who).status_code == 404
        assert client.get("/v1/bulletins", headers=who).json["items"] == []
    refused = client.post("/v1/bulletins/2024-05/publish", headers=OFFICE)
    assert refused.status_code == 409 and refused.json["state"] == "drafted"
    assert client.post("/v1/bulletins/2024-05/review", json={"decision": "approved"},
                       headers=bearer("auditor")).status_code == 403

    sent_back = client.post("/v1/bulletins/2024-05/review",
                            json={"decision": "changes_requested", "comments": "补充典型案例"}, headers=OFFICE)
    assert sent_back.json["state"] == "changes_requested"
    assert client.post("/v1/bulletins/2024-05/review", json={"decision": "approved"}, headers=OFFICE).status_code == 409
    project(urls["ledger"], Story("h5").add("assigned", lead_unit=HOUSING))      # arrives before the redraft
    redrafted = client.post("/v1/bulletins/2024-05/redraft", json={"note": "请各单位对照整改。"}, headers=OFFICE)
    assert (redrafted.json["state"], redrafted.json["revision"]) == ("drafted", 3)
    assert by_unit(redrafted.json)[HOUSING]["received"] == 5 and redrafted.json["data"]["typical_cases"] == [typical]
    own = client.post("/v1/bulletins/2024-05/review", json={"decision": "approved"}, headers=OFFICE)
    assert own.status_code == 403 and own.json["code"] == "bulletin.four_eyes"   # the drafter may not approve
    assert "双人审核" in own.json["detail"]
    approved = client.post("/v1/bulletins/2024-05/review", json={"decision": "approved", "comments": "同意"},
                           headers=REVIEWER)
    assert approved.json["state"] == "approved"
    published = client.post("/v1/bulletins/2024-05/publish", headers=OFFICE)
    assert published.status_code == 200 and published.json["state"] == "published"
    assert client.post("/v1/bulletins/2024-05/redraft", json={}, headers=OFFICE).status_code == 409

    public = client.get("/v1/bulletins/2024-05", headers=bearer("public"))
    assert public.status_code == 200 and public.json["data"] == redrafted.json["data"]
    assert "reviews" not in public.json and "drafted_by" not in public.json
    assert [b["id"] for b in client.get("/v1/bulletins", headers=bearer("public")).json["items"]] == ["2024-05"]
    same_figures_everywhere(client, public.json)

    # The relay puts the events on Kafka; audit keeps them in the trail.
    relay = Relay(database_url=urls["notify"], bootstrap=broker.bootstrap, partitions=3, batch=100)
    relay.check_broker()
    relay.publish_batch()
    records = read_topic(broker.bootstrap, PUBLICATION_TOPIC, 6)     # the rules and the bulletin's five
    events = [parse_event(json.loads(r.value)) for r in records]
    stream = [e for e in events if e.subject == "bulletin-2024-05"]
    assert [(e.type.split(".")[3], e.streamversion) for e in stream] == [
        ("drafted", 1), ("reviewed", 2), ("drafted", 3), ("reviewed", 4), ("published", 5)]
    assert stream[-1].data["digest"] == published.json["digest"] and stream[-1].actor == "office:tester"
    with db.connect(urls["audit"]) as conn:
        for event in [*marks_events(), *events]:
            apply_once(conn, event, event.topic, trail.apply)
        conn.commit()
    audit = audit_app(settings_for("audit", urls["audit"]))
    audit_url, audit_server = serve(audit)
    try:
        in_trail = audit.test_client().get("/v1/events", query_string={"type": "cn.zhengfeng.bulletin.published.v1"},
                                           headers=bearer("auditor")).json["items"]
        assert [i["event"]["subject"] for i in in_trail] == ["bulletin-2024-05"]
        # An empty notify rebuilt from the trail shows the same bulletin, in every format.
        empty = service_urls(fresh_database(pg))["notify"]
        rebuild(empty, notify_apply, events_from_trail(audit_url, bearer("auditor")["Authorization"].split()[1]))
        rebuilt = notify_app(settings_for("notify", empty))
        again = rebuilt.test_client().get("/v1/bulletins/2024-05", headers=OFFICE).json
        assert {k: again[k] for k in ("state", "data", "digest", "reviews", "revision")} == {
            k: published.json[k] for k in ("state", "data", "digest", "reviews", "revision")}
        assert rebuilt.test_client().get("/v1/bulletins/2024-05.html", headers=OFFICE).data == \
            client.get("/v1/bulletins/2024-05.html", headers=OFFICE).data
        # Its store has the bulletin's history back: nothing is decided on an empty stream.
        assert rebuilt.test_client().post("/v1/bulletins/2024-05/redraft", json={},
                                          headers=OFFICE).json["state"] == "published"
        rebuilt.extensions["zf_pool"].close()
    finally:
        audit_server.shutdown()
        audit.extensions["zf_pool"].close()


def same_figures_everywhere(client, body: dict) -> None:
    """JSON, HTML, PDF and XLSX carry the same figures; the PDF's text is Chinese in a CJK font."""
    units = body["data"]["units"]
    page = client.get("/v1/bulletins/2024-05.html", headers=bearer("public"))
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    pdf = client.get("/v1/bulletins/2024-05.pdf", headers=bearer("public"))
    assert pdf.content_type == "application/pdf" and "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert fonts and all("Noto-Sans-CJK-SC" in f for f in fonts), fonts
    assert "2024年5月作风建设工作通报" in text
    book = load_workbook(io.BytesIO(client.get("/v1/bulletins/2024-05.xlsx", headers=bearer("public")).data))
    sheet = book["考核得分与排名"]
    rows = list(sheet.iter_rows(values_only=True))
    headers = rows[0]
    assert headers[:3] == ("排名", "单位", "受理")
    for unit, cells in zip(units, rows[1:]):
        shown = dict(zip(headers, cells))
        assert (shown["单位"], shown["受理"], shown["超期"], shown["得分"], shown["按时办结率"]) == (
            unit["unit"], unit["received"], unit["overdue"], unit["score"], unit["closure_on_time_rate"]["value"])
        assert shown["排名"] == (unit["rank"] if unit["ranked"] else "不排名")
        score = f"{unit['score']:g}"
        closure = unit["closure_on_time_rate"]
        rate = f"{closure['value']:.1%}（{closure['numerator']}/{closure['denominator']}"
        for document in (html, text):
            assert unit["unit"] in document and score in document and rate in document


def test_a_quarters_hotline_figures_are_disclosed_with_their_due_date(world):
    client, _ = world
    listed = client.get("/v1/disclosures", headers=OFFICE).json
    assert listed["today"] == "2024-06-03"
    # Q1 2024 ended on Sunday 31 March; Qingming (4–6 April) is off and Sunday 7 April is worked.
    assert listed["items"] == [{"quarter": "2024-Q1", "state": "not_drafted", "due": "2024-04-08",
                                "calendar_gap": None, "published_at": None, "on_time": None, "overdue": True,
                                "links": None}]
    assert client.post("/v1/disclosures", json={"quarter": "2024-Q2"}, headers=OFFICE).status_code == 422
    draft = client.post("/v1/disclosures", json={"quarter": "2024-Q1"}, headers=OFFICE)
    assert draft.status_code == 201, draft.json
    data = draft.json["data"]
    assert (data["channel"], data["due"], data["totals"]["received"]) == ("hotline", "2024-04-08", 2)
    assert [(u["unit"], u["received"], u["closed"]) for u in data["units"]] == [(HOUSING, 1, 1), (FINANCE, 1, 0)]
    assert client.get("/v1/disclosures/2024-Q1", headers=bearer("public")).status_code == 404
    published = client.post("/v1/disclosures/2024-Q1/publish", headers=OFFICE)
    assert (published.json["state"], published.json["on_time"]) == ("published", False)
    assert client.post("/v1/disclosures", json={"quarter": "2024-Q1"}, headers=OFFICE).status_code == 409
    [item] = client.get("/v1/disclosures", headers=bearer("public")).json["items"]
    assert (item["state"], item["on_time"], item["overdue"]) == ("published", False, False)
    sheet = load_workbook(io.BytesIO(client.get(item["links"]["xlsx"], headers=bearer("public")).data)).active
    assert [r[:2] for r in sheet.iter_rows(values_only=True)][1:] == [(HOUSING, 1), (FINANCE, 1), ("合计", 2)]


def test_a_bulletin_needs_a_month_that_is_over_and_typical_cases_the_ledger_has(world):
    client, _ = world
    early = client.post("/v1/bulletins", json={"month": "2024-06"}, headers=OFFICE)
    assert early.status_code == 422 and list(early.json["errors"]) == ["month"]
    missing = client.post("/v1/bulletins", json={"month": "2024-05", "typical_cases": [{"case_id": "nope"}]},
                          headers=OFFICE)
    assert missing.status_code == 422 and missing.json["errors"] == {
        "typical_cases": {"0": {"case_id": ["台账中没有案件 nope"]}}}
    assert client.get("/v1/bulletins/2024-05", headers=OFFICE).status_code == 404
    assert client.post("/v1/bulletins/2024-04/publish", headers=OFFICE).status_code == 404
    assert client.post("/v1/bulletins", json={"month": "2024-5"}, headers=OFFICE).status_code == 422


def approve_and_publish(client, path: str) -> dict:
    assert client.post(f"{path}/review", json={"decision": "approved"}, headers=REVIEWER).status_code == 200
    published = client.post(f"{path}/publish", headers=OFFICE)
    assert published.status_code == 200, published.json
    return published.json


def deliver_own_events(urls: dict, *streams: str) -> None:
    """notify's own events of these streams applied as its consumer applies them when they come back."""
    with db.connect(urls["notify"]) as conn:
        for stream in streams:
            for event in EventStore(conn, service="notify").load(stream):
                apply_once(conn, event, event.topic, notify_apply)
        conn.commit()


def test_published_bulletins_are_numbered_documents_and_interim_reports_count_their_own(urls, world):
    """文号 are given at publication, one sequence per kind and year (GB/T 9704: 〔year〕, no padding);
    an interim report over any period up to today is drafted, reviewed and published like a bulletin,
    says it is interim in every form and counts the marks of its own days."""
    client, _ = world
    for month in ("2024-05", "2024-04"):
        assert client.post("/v1/bulletins", json={"month": month}, headers=OFFICE).status_code == 201
    may = approve_and_publish(client, "/v1/bulletins/2024-05")
    april = approve_and_publish(client, "/v1/bulletins/2024-04")
    assert may["document"] == {"number": "正风办通〔2024〕1号", "year": 2024, "sequence": 1, "issuer": "正风办",
                               "issued_on": "2024-06-03"}
    assert april["document"]["number"] == "正风办通〔2024〕2号"
    assert client.get("/v1/bulletins/2024-05", headers=bearer("public")).json["document"] == may["document"]

    future = client.post("/v1/interim-reports", json={"from": "2024-05-20", "to": "2024-06-04"}, headers=OFFICE)
    assert future.status_code == 422 and future.json["code"] == "interim.period_not_over"
    assert list(future.json["errors"]) == ["to"]
    backwards = client.post("/v1/interim-reports", json={"from": "2024-05-20", "to": "2024-05-19"}, headers=OFFICE)
    assert backwards.status_code == 422 and list(backwards.json["errors"]) == ["to"]
    draft = client.post("/v1/interim-reports", json={"from": "2024-05-20", "to": "2024-06-03", "note": "专项行动阶段小结"},
                        headers=OFFICE)
    assert draft.status_code == 201, draft.json
    key = draft.json["id"]
    assert (key, draft.json["kind"], draft.json["title"]) == (
        "2024-05-20_2024-06-03", "interim", "2024年5月20日至6月3日作风建设工作阶段性通报")
    assert (draft.json["data"]["from"], draft.json["data"]["to"], draft.json["document"]) == (
        "2024-05-20", "2024-06-03", None)
    housing = by_unit(draft.json)[HOUSING]      # the criticism and the accountability of 24 May are in the period,
    assert (housing["criticisms"], housing["accountability"]) == (1, 1)
    assert FINANCE not in by_unit(draft.json)   # the week missed (2024-W20, Thursday 16 May) is not
    assert client.get(f"/v1/interim-reports/{key}", headers=bearer("public")).status_code == 404
    assert client.post("/v1/interim-reports/not-a-period/redraft", json={}, headers=OFFICE).status_code == 404
    interim = approve_and_publish(client, f"/v1/interim-reports/{key}")
    assert interim["document"]["number"] == "正风办阶段通〔2024〕1号"
    assert [b["id"] for b in client.get("/v1/bulletins", headers=OFFICE).json["items"]] == ["2024-05", "2024-04"]
    assert [i["id"] for i in client.get("/v1/interim-reports", headers=bearer("public")).json["items"]] == [key]

    pdf = client.get(f"/v1/interim-reports/{key}.pdf", headers=bearer("public"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert "正风办阶段通〔2024〕1号" in text and "阶段性（中期）通报" in text
    deliver_own_events(urls, "bulletin-2024-05", f"interim-{key}")
    index = client.get("/public/").get_data(as_text=True)
    assert "正风办通〔2024〕1号" in index and "正风办阶段通〔2024〕1号" in index and "阶段性通报" in index
    page = client.get(f"/public/interim-reports/{key}.html")
    assert page.status_code == 200 and "正风办阶段通〔2024〕1号" in page.get_data(as_text=True)
    monthly = client.get("/public/bulletins/2024-05.html").get_data(as_text=True)
    assert "正风办通〔2024〕1号" in monthly and "2024年6月3日" in monthly
    assert client.get("/public/interim-reports/2024-05-01_2024-05-02.html").status_code == 404


def test_two_bulletins_published_at_once_never_share_a_number(urls, world):
    """The first publication holds the numbering lock until it commits; the second waits, then counts it."""
    from notify.domain.document import office_from
    from notify.service_layer import bulletins as handlers
    from notify.service_layer.uow import UnitOfWork

    client, _ = world
    for month in ("2024-05", "2024-04"):
        assert client.post("/v1/bulletins", json={"month": month}, headers=OFFICE).status_code == 201
        assert client.post(f"/v1/bulletins/{month}/review", json={"decision": "approved"},
                           headers=REVIEWER).status_code == 200
    office = office_from(settings_for("notify", urls["notify"]))
    ctx = handlers.Context(actor="office:tester", correlation_id="c", now=datetime(2024, 6, 3, 2, tzinfo=timezone.utc))
    pool = db.make_pool(urls["notify"], max_size=2)
    pool.open()
    numbers: dict[str, str] = {}

    def publish(month: str, uow: UnitOfWork) -> None:
        numbers[month] = handlers.publish_bulletin(uow, "bulletin", month, ctx, office)["document"]["number"]

    try:
        with UnitOfWork(pool) as first, UnitOfWork(pool) as second:
            publish("2024-05", first)                   # not committed yet
            racing = threading.Thread(target=lambda: (publish("2024-04", second), second.commit()))
            racing.start()
            racing.join(1.0)
            assert racing.is_alive(), "the second publication must wait for the first to commit"
            first.commit()
            racing.join(10)
    finally:
        pool.close()
    assert numbers == {"2024-05": "正风办通〔2024〕1号", "2024-04": "正风办通〔2024〕2号"}

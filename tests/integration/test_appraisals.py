"""Democratic appraisal (政风行风民主评议, seeds 001 and 003) on the real PostgreSQL and broker: the office
opens a quarter's round, enters questionnaires by number (a number twice, a group or unit not of the
round: none of the batch is kept), reads provisional results; drafting closes the round; the drafter may
not approve; published, the results are read by everyone, as JSON, HTML, XLSX and on the public page —
never an appraiser's comment; the events reach the trail and a rebuild gives the same tables."""
from __future__ import annotations

import io
import re
import threading

import pytest
from openpyxl import load_workbook

from notify.service_layer import appraisals
from zfcommon import db
from zfcommon.events.catalogue import PUBLICATION_TOPIC

from ..support import bearer
from .test_weekly_reports import (FILER, SILENT, ZERO, rebuilt_from_trail, through_kafka_and_trail,
                                  world)  # noqa: F401  (the fixture: three units, a case, notify and its consumer)

pytestmark = pytest.mark.integration
KEY = "2026-Q4"
OFFICE_A, OFFICE_B = bearer(sub="wang"), bearer(sub="li")
PHONE = "13807391234"


def ballot(number: str, group: str, **grades: str) -> dict:
    units = {"edu": FILER, "forest": ZERO, "water": SILENT}
    return {"ballot_no": number, "group": group,
            "ratings": [{"unit": units[k], "grade": g} for k, g in grades.items()]}


def test_a_round_is_opened_filled_drafted_approved_by_another_and_published(world, urls, broker, pg):
    _, client, _, notify_consumer = world
    assert client.post("/v1/appraisals", json={"period": "2026-Q5"}, headers=OFFICE_A).status_code == 422
    unknown = client.post("/v1/appraisals", json={"period": KEY, "units": ["县不存在局"]}, headers=OFFICE_A)
    assert unknown.status_code == 422 and "不是名录中的在用单位" in unknown.json["errors"]["units"][0]
    opened = client.post("/v1/appraisals", json={"period": KEY, "key_units": [SILENT], "min_ballots": 2},
                         headers=OFFICE_A)
    assert opened.status_code == 201, opened.json
    assert (opened.json["state"], opened.json["data"]["round"]["units"]) == ("opened", sorted([FILER, ZERO, SILENT]))
    assert client.post("/v1/appraisals", json={"period": KEY}, headers=OFFICE_A).status_code == 409

    first = [ballot("001", "企业", edu="satisfied", forest="basically_satisfied", water="unsatisfied"),
             ballot("002", "代表委员", edu="satisfied", forest="satisfied"),
             ballot("003", "客商", edu="basically_satisfied", water="unsatisfied")]
    first[0]["ratings"][2]["comment"] = f"窗口态度差，联系我 {PHONE}"
    entered = client.post(f"/v1/appraisals/{KEY}/ballots", json={"ballots": first}, headers=OFFICE_A)
    assert entered.status_code == 201, entered.json
    assert (entered.json["entered"], entered.json["appraisal"]["data"]["ballots"]) == (3, 3)
    # A questionnaire counts once; a batch with one fault keeps none of it.
    again = client.post(f"/v1/appraisals/{KEY}/ballots", json={"ballots": [
        ballot("004", "业户", edu="satisfied"), ballot("001", "企业", edu="satisfied"),
        ballot("005", "游客", edu="satisfied"), {**ballot("006", "业户"), "ratings": [
            {"unit": "县不存在局", "grade": "satisfied"}]}]}, headers=OFFICE_A)
    assert again.status_code == 422 and set(again.json["errors"]["ballots"]) == {"1", "2", "3"}
    assert "已经录入过" in again.json["errors"]["ballots"]["1"]["ballot_no"][0]

    # While open: provisional results for the office; nothing for anyone else.
    shown = client.get(f"/v1/appraisals/{KEY}", headers=OFFICE_B).json
    so_far = {u["unit"]: u for u in shown["provisional"]["units"]}
    assert (so_far[FILER]["score"], so_far[FILER]["rank"]) == (86.67, 1)      # (100 + 100 + 60) / 3
    assert (so_far[ZERO]["score"], so_far[SILENT]["score"], so_far[SILENT]["rank"]) == (80.0, 0.0, 3)
    for outsider in (bearer("unit", unit=FILER), bearer("public")):
        assert client.get(f"/v1/appraisals/{KEY}", headers=outsider).status_code == 404
        assert client.get("/v1/appraisals", headers=outsider).json["items"] == []
    assert client.get(f"/v1/appraisals/{KEY}.html", headers=OFFICE_A).status_code == 409
    listed = client.get(f"/v1/appraisals/{KEY}/ballots", headers=bearer("auditor")).json["items"]
    assert [b["ballot_no"] for b in listed] == ["001", "002", "003"] and listed[0]["recorded_by"] == "office:wang"
    assert PHONE not in str(listed) and "窗口态度差" in str(listed)           # masked as it was entered
    assert client.get(f"/v1/appraisals/{KEY}/ballots", headers=bearer("unit", unit=FILER)).status_code == 403

    drafted = client.post(f"/v1/appraisals/{KEY}/draft", headers=OFFICE_A)
    assert drafted.status_code == 200 and drafted.json["state"] == "drafted"
    late = client.post(f"/v1/appraisals/{KEY}/ballots", json={"ballots": [ballot("007", "企业", edu="satisfied")]},
                       headers=OFFICE_A)
    assert late.status_code == 409 and late.json["state"] == "drafted"
    own = client.post(f"/v1/appraisals/{KEY}/review", json={"decision": "approved"}, headers=OFFICE_A)
    assert own.status_code == 403 and own.json["code"] == "bulletin.four_eyes"
    assert client.post(f"/v1/appraisals/{KEY}/review", json={"decision": "approved"},
                       headers=OFFICE_B).json["state"] == "approved"
    published = client.post(f"/v1/appraisals/{KEY}/publish", headers=OFFICE_B)
    assert published.status_code == 200 and published.json["state"] == "published"
    assert published.json["title"] == "2026年第四季度政风行风民主评议结果通报"
    number = published.json["document"]["number"]               # a formal 通报: numbered in its own sequence
    assert re.fullmatch(r"正风办评〔20\d\d〕1号", number) and published.json["document"]["issuer"] == "正风办"

    # Everyone reads the results; no one outside reads a comment.
    public = client.get(f"/v1/appraisals/{KEY}", headers=bearer("public"))
    assert public.status_code == 200 and [u["unit"] for u in public.json["data"]["units"]] == [FILER, ZERO, SILENT]
    assert "comment" not in public.get_data(as_text=True) and "窗口态度差" not in public.get_data(as_text=True)
    page = client.get(f"/v1/appraisals/{KEY}.html", headers=bearer("public")).get_data(as_text=True)
    assert "2026年第四季度政风行风民主评议结果通报" in page and "86.67" in page and "重点评议单位" in page
    assert number in page
    assert "窗口态度差" not in page and PHONE not in page
    sheet = load_workbook(io.BytesIO(client.get(f"/v1/appraisals/{KEY}.xlsx", headers=OFFICE_A).data))
    assert sheet.sheetnames == ["评议得分与排名", "分群体得分", "评议规则"]
    assert [c.value for c in sheet["评议得分与排名"][2]][:4] == [1, FILER, None, 3]

    # Once notify's consumer has the published event back from Kafka, the public page lists it.
    records, in_trail = through_kafka_and_trail(urls, broker, notify_consumer, PUBLICATION_TOPIC)
    assert ("cn.zhengfeng.appraisal.ballot_recorded.v1", f"appraisal-{KEY}") in {
        (r["type"], r["subject"]) for r in in_trail}
    with db.connect(urls["notify"]) as conn:                # each unit appraised is told its own result
        told = conn.execute("SELECT unit, context FROM notices WHERE kind = 'appraisal_published' ORDER BY unit"
                            ).fetchall()
    assert sorted({r["unit"] for r in told}) == sorted([FILER, ZERO, SILENT])
    assert {r["context"]["score"] for r in told if r["unit"] == FILER} == {86.67}
    assert {r["context"]["document_number"] for r in told} == {number}
    index = client.get("/public/").get_data(as_text=True)
    assert "2026年第四季度政风行风民主评议结果通报" in index and "/public/appraisals/2026-Q4.html" in index
    on_page = client.get("/public/appraisals/2026-Q4.html")
    assert on_page.status_code == 200 and PHONE not in on_page.get_data(as_text=True)
    assert "民主评议结果" in client.get("/public/feed.json").get_data(as_text=True)
    rebuilt_from_trail(urls, pg, ("publications", "appraisal_ballots", "public_publications"))


def test_two_clerks_entering_questionnaires_at_once_both_count_and_a_shared_number_once(world, monkeypatch):
    """Both load the round before either appends: the second's append fails on the stream's version, and
    it decides again on the new history instead of answering 409."""
    _, client, _, _ = world
    assert client.post("/v1/appraisals", json={"period": "2027"}, headers=OFFICE_A).status_code == 201
    meet, load = threading.Barrier(2), appraisals.ballots_in

    def load_then_meet(uow, key):
        found = load(uow, key)
        try:
            meet.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return found
    monkeypatch.setattr(appraisals, "ballots_in", load_then_meet)
    answers = []

    def enter(headers, *numbers):
        answers.append(client.post("/v1/appraisals/2027/ballots", headers=headers, json={
            "ballots": [ballot(n, "企业", edu="satisfied") for n in numbers]}).status_code)
    clerks = [threading.Thread(target=enter, args=(OFFICE_A, "A-1", "A-2")),
              threading.Thread(target=enter, args=(OFFICE_B, "B-1", "A-2"))]
    for t in clerks:
        t.start()
    for t in clerks:
        t.join()
    assert sorted(answers) == [201, 422]                   # A-2 counts once: whoever came second is refused
    monkeypatch.undo()
    shown = client.get("/v1/appraisals/2027", headers=OFFICE_A).json
    assert shown["data"]["ballots"] == 2


def test_a_questionnaire_table_is_checked_row_by_row_then_entered_whole(world):
    _, client, _, _ = world
    assert client.post("/v1/appraisals", json={"period": "2026-Q3", "min_ballots": 1},
                       headers=OFFICE_A).status_code == 201
    template = client.get("/v1/appraisals/2026-Q3/ballots/template.xlsx", headers=OFFICE_A)
    header = [c.value for c in load_workbook(io.BytesIO(template.data)).active[1]]
    assert header == ["问卷编号", "评议群体", FILER, ZERO, SILENT]
    assert "filename*=UTF-8''" in template.headers["Content-Disposition"]

    def upload(text: str, dry_run: bool, key: str = "t-1"):
        return client.post(f"/v1/appraisals/2026-Q3/ballots/import{'?dry_run=true' if dry_run else ''}",
                           data={"file": (io.BytesIO(text.encode("utf-8-sig")), "评议票.csv", "text/csv")},
                           headers={**OFFICE_A, "Idempotency-Key": key}, content_type="multipart/form-data")
    head = f"问卷编号,评议群体,{FILER},{ZERO},{SILENT}\n"
    faulty = head + "001,企业,满意,基本满意,\n002,游客,满意,,\n001,客商,很好,,\n,企业,满意,,\n003,业户,,,\n"
    report = upload(faulty, True).json
    assert report["counts"] == {"rows": 5, "ok": 1, "error": 4}
    errors = {r["row"]: r["errors"] for r in report["rows"] if r["status"] == "error"}
    assert "评议群体" in errors[3] and "已经录入过" in errors[4]["问卷编号"][0] and FILER in errors[4]
    assert "缺少问卷编号" in errors[5]["问卷编号"][0] and "_row" in errors[6]
    refused = upload(faulty, False)
    assert refused.status_code == 422 and refused.json["counts"]["error"] == 4
    assert client.get("/v1/appraisals/2026-Q3", headers=OFFICE_A).json["data"]["ballots"] == 0   # none kept
    wrong = upload("编号,单位\n1,2\n", True)
    assert wrong.status_code == 422 and wrong.json["code"] == "import.header_invalid"

    good = head + "001,企业,满意,基本满意,\n002,代表委员,不满意,,满意\n"
    done = upload(good, False, "t-2")
    assert done.status_code == 201 and done.json["counts"]["imported"] == 2
    assert upload(good, False, "t-2").json == done.json                          # the same key: the first answer
    again = upload(good, False, "t-3")
    assert again.status_code == 422 and again.json["counts"]["error"] == 2      # already entered: counted once
    shown = client.get("/v1/appraisals/2026-Q3", headers=OFFICE_A).json
    assert shown["data"]["ballots"] == 2
    assert {u["unit"]: u["ballots"] for u in shown["provisional"]["units"]} == {FILER: 2, ZERO: 1, SILENT: 1}

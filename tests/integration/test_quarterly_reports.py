"""Quarterly work reports (季度工作情况报送, seed 001) on the real PostgreSQL and broker with the file
clock: a unit files its quarter in the quarter's last days, the others do not; past the 5th working
day after the quarter (13 October 2026, after the National Day holiday) they are flagged once, with two
schedulers racing and after a restart; a late report and a correction; who reads what; the 催报 notices;
the events on Kafka and in the audit trail; a rebuild from the trail equals the live table and flags
nothing again."""
from __future__ import annotations

import csv
import io

import pytest

from notify.domain import quarterly
from zfcommon import db

from ..support import bearer
from .test_weekly_reports import (FILER, SILENT, UNITS, ZERO, Clock, racing_passes, rebuilt_from_trail,
                                  reporting_world, scheduler_pass, stream_types, through_kafka_and_trail)

pytestmark = pytest.mark.integration
OFFICE = bearer()
LATE = ZERO                       # in this story the unit that files late
Q3 = "2026-Q3"


@pytest.fixture
def world(urls, broker, tmp_path):
    clock = Clock(tmp_path / "clock")
    clock.set("2026-09-07T09:00:00+08:00")              # Monday of 2026-W37, in the third quarter
    yield from reporting_world(urls, broker, clock)


def file(client, who: str | None, headers=None, **body):
    body = {"quarter": Q3, "summary": "本季度开展作风问题专项整治，办结交办线索1件。", **body}
    return client.post("/v1/quarterly-reports", json=body, headers=headers or bearer("unit", unit=who))


def test_a_quarter_is_filed_flagged_once_when_missed_corrected_and_rebuilt(world, urls, broker, pg):
    clock, client, case_id, notify_consumer = world
    assert scheduler_pass(urls["notify"], clock) == 0           # reporting begins with 2026-W37: from 2026-Q3

    # Refused filings store nothing, each naming its field in Chinese.
    future = file(client, FILER, quarter="2026-Q4")
    assert future.status_code == 422 and "还没有开始" in future.json["errors"]["quarter"][0]
    assert file(client, FILER, quarter="2026-Q5").status_code == 422
    blank = file(client, FILER, summary="   ")
    assert blank.status_code == 422 and blank.json["errors"]["summary"] == ["请填写本季度工作情况"]
    assert file(client, LATE, unit=FILER).status_code == 403                          # not its own unit
    assert file(client, None, headers=OFFICE).status_code == 422                      # the office names the unit
    assert file(client, LATE, progress=[{"case_id": case_id, "note": "x"}]).status_code == 422   # not its case
    assert stream_types(urls["notify"], f"quarterly-{LATE}") == []

    clock.set("2026-09-28T10:00:00+08:00")                   # the quarter's last days: a report may come now
    filed = file(client, FILER, progress=[{"case_id": case_id, "note": "已约谈窗口负责人，限期整改"}],
                 self_found=[{"description": "窗口材料清单未公示", "category": "政务服务审批"}],
                 next_steps="第四季度开展整改“回头看”")
    assert filed.status_code == 201, filed.json
    assert (filed.json["status"], filed.json["due"], filed.json["late"], filed.json["revision"]) == (
        "filed", "2026-10-13", False, 1)
    assert filed.json["progress"][0]["case_number"].startswith("ZF-2026-")    # as the unit and the office name it
    again = file(client, FILER)
    assert again.status_code == 409 and again.json["current"] == filed.json["id"]

    # (The same passes flag the weeks nobody reported for; only the quarters are looked at here.)
    clock.set("2026-10-13T18:00:00+08:00")                   # due today (5th working day after 30 September)
    scheduler_pass(urls["notify"], clock)
    assert flags(urls["notify"]) == []
    clock.set("2026-10-14T09:00:00+08:00")                   # the next working day
    racing_passes(urls["notify"], clock)
    assert flags(urls["notify"]) == [(LATE, Q3, "2026-10-14"), (SILENT, Q3, "2026-10-14")]     # once each
    scheduler_pass(urls["notify"], clock)                     # a restarted scheduler: nothing again
    assert stream_types(urls["notify"], f"quarterly-{SILENT}") == [quarterly.MISSED]
    assert stream_types(urls["notify"], f"quarterly-{FILER}") == [quarterly.FILED]

    overview = client.get(f"/v1/quarterly-reports/overview?quarter={Q3}", headers=OFFICE).json
    assert {u["unit"]: u["status"] for u in overview["units"]} == {FILER: "filed", LATE: "missing", SILENT: "missing"}
    assert (overview["due"], overview["flag_day"], overview["counts"]["missing"]) == ("2026-10-13", "2026-10-14", 2)
    assert client.get("/v1/quarterly-reports/overview", headers=OFFICE).json["quarter"] == Q3   # the last one ended
    # Reports roll up along the units' supervising channel (seed 002: 按分管渠道).
    assert [(c["channel"], c["counts"]["filed"], c["counts"]["missing"]) for c in overview["channels"]] == [
        ("县委办", 0, 1), ("县监察局", 1, 1)]

    # Filed late after the flag: late, the flag stays on record; a correction keeps the first's lateness.
    late = file(client, LATE, summary="补报：本季度自查自纠情况")
    assert (late.json["status"], late.json["late"], late.json["flagged_on"]) == ("filed", True, "2026-10-14")
    fixed = file(client, FILER, summary="更正：办结交办线索2件", corrects=filed.json["id"])
    assert (fixed.status_code, fixed.json["revision"], fixed.json["late"]) == (201, 2, False)
    assert file(client, FILER, corrects=filed.json["id"]).status_code == 409           # not the latest any more
    assert [r["unit"] for r in client.get("/v1/quarterly-reports?status=late", headers=OFFICE).json["items"]] == [LATE]
    assert [r["unit"] for r in client.get("/v1/quarterly-reports?status=missing",
                                          headers=OFFICE).json["items"]] == [SILENT]

    # A unit reads its own reports only; the auditor reads all; the public nothing.
    own = client.get("/v1/quarterly-reports", headers=bearer("unit", unit=LATE)).json["items"]
    assert [r["unit"] for r in own] == [LATE]
    assert client.get(f"/v1/quarterly-reports/{FILER}/{Q3}", headers=bearer("unit", unit=LATE)).status_code == 403
    seen = client.get(f"/v1/quarterly-reports/overview?quarter={Q3}", headers=bearer("unit", unit=LATE)).json
    assert [u["unit"] for u in seen["units"]] == [LATE]
    one = client.get(f"/v1/quarterly-reports/{FILER}/{Q3}", headers=bearer("auditor")).json
    assert (one["summary"], one["next_steps"]) == ("更正：办结交办线索2件", None)
    assert client.get("/v1/quarterly-reports").status_code == 401
    assert client.get(f"/v1/quarterly-reports/{SILENT}/2026-Q2", headers=OFFICE).status_code == 404
    # The fourth quarter is due in January 2027, which the calendar lacks: not judged, and said so.
    q4 = client.get("/v1/quarterly-reports/overview?quarter=2026-Q4", headers=OFFICE).json
    assert (q4["due"], q4["flag_day"], q4["counts"]["outstanding"]) == (None, None, 3)

    # The quarter as a spreadsheet to compile and forward: every unit's standing and its report in full.
    sheet = client.get(f"/v1/quarterly-reports/export.csv?quarter={Q3}", headers=OFFICE)
    assert sheet.status_code == 200 and "filename*=UTF-8''" in sheet.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:6] == ["单位", "归口", "报送情况", "报送时限", "报送时间", "是否迟报"]
    by_unit = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert (by_unit[FILER]["本季度工作开展情况"], by_unit[FILER]["报送次数"]) == ("更正：办结交办线索2件", "2")
    assert (by_unit[SILENT]["报送情况"], by_unit[SILENT]["标记未报日期"]) == ("未报（已标记）", "2026-10-14")
    assert by_unit[LATE]["是否迟报"] == "是"
    own = client.get(f"/v1/quarterly-reports/export.xlsx?quarter={Q3}", headers=bearer("unit", unit=LATE))
    assert own.status_code == 200 and own.data[:2] == b"PK"
    own_rows = list(csv.reader(io.StringIO(client.get(f"/v1/quarterly-reports/export.csv?quarter={Q3}", headers=bearer(
        "unit", unit=LATE)).get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in own_rows[1:]] == [LATE]
    assert client.get("/v1/quarterly-reports/export.csv?quarter=2026-Q9", headers=OFFICE).status_code == 422

    # On Kafka and into the trail; notify's consumer queues the 催报 notice for each unit flagged.
    records, in_trail = through_kafka_and_trail(urls, broker, notify_consumer)
    assert {r.key.decode() for r in records} >= {f"quarterly-{u}" for u in UNITS}
    assert (quarterly.MISSED, f"quarterly-{SILENT}") in {(r["type"], r["subject"]) for r in in_trail}
    with db.connect(urls["notify"]) as conn:
        reminded = conn.execute("SELECT DISTINCT unit FROM notices WHERE kind = 'quarterly_missed' ORDER BY unit"
                                ).fetchall()
    assert [r["unit"] for r in reminded] == sorted([LATE, SILENT])

    empty = rebuilt_from_trail(urls, pg, ("quarterly_reports",))
    scheduler_pass(empty["notify"], clock)
    assert flags(empty["notify"]) == flags(urls["notify"])


def flags(url: str) -> list[tuple]:
    """Every quarterly_missed event in notify's store: (unit, quarter, flagged_on)."""
    with db.connect(url) as conn:
        return [(r["data"]["unit"], r["data"]["quarter"], r["data"]["flagged_on"]) for r in conn.execute(
            "SELECT payload->'data' AS data FROM events WHERE type = %s ORDER BY stream_id, version",
            (quarterly.MISSED,))]

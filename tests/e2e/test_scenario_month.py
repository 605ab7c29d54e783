"""One realistic month (November 2026) of casework, played through the running services over HTTP,
with the ledger's figures checked against hand-computed expectations.

The services read "now" from ZF_CLOCK_FILE (zfcommon.clock), so each day of the month is set before
that day's actions. November 2026 has no public holidays: working days are Monday to Friday. Default
limits: deadline mode 15 working days (urgent 10), immediate 3, long_term 60; signing for within 1
working day. The re-check ratio is set to 1.0 so every dismissal is drawn (the draw itself is tested
in unit tests), making the month reproducible.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
import requests

from ..support import complaint, eventually
from .conftest import running_system

pytestmark = pytest.mark.e2e

A, B, C, D, E = "县自然资源局", "县市场监管局", "某镇人民政府", "县教育局", "县第一中学"
KINDS = {A: "government_department", B: "government_department", C: "township", D: "government_department",
         E: "school"}


class Month:
    def __init__(self, system, clock_file):
        self.system, self.clock_file = system, clock_file
        self.cases: dict[str, str] = {}
        self.office = system.headers("office")

    def day(self, d: str) -> None:
        self.clock_file.write_text(f"2026-11-{d}T09:00:00+08:00" if len(d) == 2 else d)

    def post(self, service: str, path: str, body: dict, headers=None, status: int = 200) -> dict:
        r = requests.post(self.system.url(service, path), json=body, headers=headers or self.office, timeout=10)
        assert r.status_code == status, (path, r.status_code, r.text)
        return r.json()

    def put(self, path: str, body: dict) -> dict:
        r = requests.put(self.system.url("intake", path), json=body, headers=self.office, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def receive(self, name: str, channel: str, category: str, **extra) -> None:
        body = complaint(channel=channel, category=category, description=f"{name}: {category}问题", **extra)
        self.cases[name] = self.post("intake", "/v1/cases", body, status=201)["case_id"]

    def do(self, name: str, command: str, body: dict | None = None, unit: str | None = None,
           status: int = 200) -> dict:
        headers = self.system.headers("unit", unit=unit) if unit else self.office
        if command == "record-return-visit":
            headers = self.system.headers("channel", channel="hotline")
        return self.post("intake", f"/v1/cases/{self.cases[name]}/{command}", body or {}, headers, status)

    def assign(self, name: str, unit: str, mode: str = "deadline", **extra) -> dict:
        return self.do(name, "assign", {"lead_unit": unit, "handling_mode": mode, **extra})

    def report(self, name: str, unit: str, rectified: bool = True) -> None:
        command = "report-rectified" if rectified else "report-not-substantiated"
        self.do(name, command, {"text": "已整改并附证据" if rectified else "经核查不属实"}, unit=unit)


def play(m: Month) -> None:
    m.day("02")
    for unit, kind in KINDS.items():
        m.post("intake", "/v1/directory/units", {"name": unit, "kind": kind, "supervising_channel": "县纪委监委"})
    m.put("/v1/directory/limits", {"limits": {"immediate": {"normal": 3, "urgent": 2, "critical": 1},
                                              "deadline": {"normal": 15, "urgent": 10, "critical": 5},
                                              "long_term": {"normal": 60, "urgent": 45, "critical": 30}},
                                   "sign_for_days": 1, "recheck_ratio": 1.0})
    m.receive("A1", "hotline", "推诿扯皮")
    m.receive("A2", "hotline", "办事效率低")
    m.receive("B1", "inspection", "纪律松懈")
    m.receive("C1", "petition", "就学就医欠薪等公共服务")
    assert m.assign("A1", A)["deadline"] == "2026-11-23"
    assert m.assign("A2", A, "immediate")["deadline"] == "2026-11-05"
    m.assign("B1", B)
    refused = requests.post(m.system.url("intake", f"/v1/cases/{m.cases['C1']}/assign"), headers=m.office,
                            json={"lead_unit": C, "handling_mode": "long_term"}, timeout=10)
    assert refused.status_code == 422 and "2027" in refused.json()["errors"]["deadline"][0]
    m.put("/v1/directory/calendar/2027", {"holidays": ["2027-01-01", "2027-01-02", "2027-01-03"], "workdays": []})
    assert m.assign("C1", C, "long_term")["deadline"] == "2027-01-26"

    m.day("03")
    m.do("A1", "accept", unit=A)
    m.do("B1", "accept", unit=B)
    m.do("C1", "accept", unit=C)
    m.receive("A3", "petition", "推诿扯皮")
    m.receive("B2", "tipoff", "吃拿卡要")
    assert m.assign("A3", A)["deadline"] == "2026-11-24"
    m.assign("B2", B)

    m.day("04")
    m.do("A2", "accept", unit=A)                               # due 11-03: late
    m.do("A3", "accept", unit=A)
    m.receive("A4", "tipoff", "态度冷漠")
    m.receive("B3", "hotline", "办事效率低", priority="urgent")
    assert m.assign("A4", A, "immediate")["deadline"] == "2026-11-09"
    assert m.assign("B3", B)["deadline"] == "2026-11-18"

    m.day("05")
    m.report("A2", A)
    m.do("A4", "accept", unit=A)
    m.do("B2", "accept", unit=B)                               # due 11-04: late
    m.do("B3", "accept", unit=B)
    m.receive("A5", "hotline", "推诿扯皮")
    m.receive("C2", "supervisor", "执行力弱")
    assert m.assign("A5", A)["deadline"] == "2026-11-26"
    m.assign("C2", C, cooperating_units=[D])

    m.day("06")
    assert m.do("A2", "close")["status"] == "closed"           # deadline 11-05: closed late
    m.do("A5", "accept", unit=A)
    m.do("C2", "accept", unit=C)
    m.report("B1", B, rectified=False)
    m.receive("B4", "petition", "形式主义")
    assert m.assign("B4", B)["deadline"] == "2026-11-27"

    m.day("09")
    m.do("A2", "record-return-visit", {"satisfaction": "unsatisfied"})
    assert m.do("A2", "order-rehandling", {"reason": "群众不满意"})["deadline"] == "2026-11-12"
    m.do("B1", "accept-dismissal")
    m.do("B2", "report-not-substantiated", {"text": "经核查不属实"}, unit=B)
    m.do("B4", "accept", unit=B)
    m.receive("A6", "media", "形式主义")
    m.receive("D1", "tipoff", "乱作为")
    assert m.assign("A6", A)["deadline"] == "2026-11-30"
    assert m.assign("D1", D)["deadline"] == "2026-11-30"

    m.day("10")
    m.report("A1", A)
    m.do("B2", "accept-dismissal")
    m.do("D1", "accept", unit=D)
    m.do("C2", "note-progress", {"note": "已督促企业支付"}, unit=D)     # a cooperating unit reports progress
    m.receive("A7", "hotline", "推诿扯皮")
    m.receive("B5", "hotline", "办事效率低")
    m.assign("A7", A)
    m.do("B5", "merge", {"into_case_id": m.cases["B3"], "reason": "同一诉求重复来电"})

    m.day("11")
    m.do("A1", "close")
    m.do("A7", "return", {"reason": "不属于本单位职责"}, unit=A)
    m.report("A2", A)
    m.receive("C3", "monitoring_point", "办事效率低")
    assert m.assign("C3", C, "immediate")["deadline"] == "2026-11-16"

    m.day("12")
    m.do("A1", "record-return-visit", {"satisfaction": "satisfied"})
    m.do("A2", "close")                                          # deadline 11-12: on time
    assert m.do("A7", "reassign", {"lead_unit": B, "handling_mode": "deadline", "reason": "职责属市场监管"}
                )["deadline"] == "2026-12-03"
    m.report("B3", B)
    m.receive("D2", "media", "形式主义")
    assert m.assign("D2", D, "immediate")["deadline"] == "2026-11-17"
    m.do("D2", "accept", unit=D)

    m.day("13")
    m.do("A2", "record-return-visit", {"satisfaction": "basically_satisfied"})
    m.do("A7", "accept", unit=B)
    m.do("B3", "close")
    m.do("C3", "accept", unit=C)                                 # due 11-12: late
    m.report("D2", D)
    m.receive("D3", "hotline", "态度冷漠")
    assert m.assign("D3", D)["deadline"] == "2026-12-04"

    m.day("16")
    m.do("B1", "record-recheck", {"outcome": "upheld", "findings": "复查属实查否"})
    m.do("B3", "record-return-visit", {"satisfaction": "satisfied"})
    m.report("A5", A)
    m.report("C3", C)
    m.do("D3", "accept", unit=D)
    assert m.do("D2", "order-rework", {"reason": "整改不到位"})["deadline"] == "2026-11-19"
    m.receive("A8", "self_inspection", "形式主义")
    m.receive("E1", "hotline", "态度冷漠")
    m.assign("A8", A)
    assert m.assign("E1", E, "immediate")["deadline"] == "2026-11-19"

    m.day("17")
    m.do("A5", "order-rework", {"reason": "证据不足"})
    after = m.do("B2", "record-recheck", {"outcome": "overturned", "findings": "复查发现确有吃拿卡要"})
    assert after["status"] == "in_progress" and after["deadline"] == "2026-12-08"
    m.do("A8", "accept", unit=A)
    m.do("C3", "close")                                          # deadline 11-16: late
    m.do("E1", "accept", unit=E)
    m.receive("E2", "hotline", "推诿扯皮")
    m.assign("E2", E)

    m.day("18")
    m.report("D2", D)
    m.report("E1", E)
    m.do("E2", "accept", unit=E)
    m.receive("C4", "hotline", "吃拿卡要")
    assert m.assign("C4", C)["deadline"] == "2026-12-09"

    m.day("19")
    assert m.do("D2", "order-rework", {"reason": "仍不到位"})["rework_count"] == 2
    m.do("E1", "close")
    m.receive("C5", "hotline", "推诿扯皮")
    m.assign("C5", C)

    m.day("20")
    m.do("A3", "request-extension", {"reason": "需跨部门协调", "requested_deadline": "2026-12-04"}, unit=A)
    assert m.do("A3", "approve-extension")["deadline"] == "2026-12-04"
    m.report("C2", C)
    m.do("C5", "return", {"reason": "非本镇辖区"}, unit=C)
    m.do("D3", "report-not-substantiated", {"text": "经核查不属实"}, unit=D)
    m.do("E1", "record-return-visit", {"satisfaction": "unsatisfied"})
    assert m.do("E1", "order-rehandling", {"reason": "群众不满意"})["deadline"] == "2026-11-25"

    m.day("23")
    m.do("C2", "close")
    m.do("D2", "report-rectified", {"text": "第三次整改"}, unit=D)
    m.do("D3", "accept-dismissal")

    m.day("24")
    m.report("A5", A)
    m.do("D2", "close")

    m.day("25")
    m.do("A5", "close")
    m.report("B2", B)
    m.do("D1", "request-extension", {"reason": "需上级批复", "requested_deadline": "2026-12-11"}, unit=D)

    m.day("26")
    m.do("A5", "record-return-visit", {"satisfaction": "unsatisfied"})
    m.do("D1", "deny-extension", {"reason": "理由不充分"})
    m.report("B4", B)

    m.day("27")
    m.post("intake", "/v1/accountability", {"measure": "bulletin_criticism", "target_kind": "unit", "target": A,
                                            "unit": A, "basis_cases": [m.cases["A4"]], "reason": "逾期未整改"},
           status=201)

    m.day("30")
    m.receive("X1", "hotline", "推诿扯皮")


def figures(row: dict) -> tuple:
    def r(name):
        rate = row[name]
        return rate["numerator"], rate["denominator"], rate["meaningful"]
    return (row["open"], row["overdue"], row["closed"], r("sign_for_on_time_rate"), r("closure_on_time_rate"),
            row["rework_count"], row["extension_count"], r("satisfaction_rate"))


# unit: open, overdue, closed, sign-for on time, closed on time, rework, extensions, satisfied — by hand:
EXPECTED = {
    A: (4, 1, 3, (5, 7, True), (3, 4, False), 1, 1, (2, 3, False)),   # A1–A6, A8 (A7 went to B)
    B: (3, 1, 1, (4, 5, True), (1, 2, False), 0, 0, (1, 1, False)),   # A7, B1–B4 (B5 merged)
    C: (3, 0, 2, (2, 4, False), (1, 2, False), 0, 0, (0, 0, False)),  # C5 returned: not due to sign
    D: (1, 0, 1, (3, 3, False), (1, 1, False), 2, 0, (0, 0, False)),  # D1's extension was denied
    E: (2, 1, 0, (2, 2, False), (0, 1, False), 0, 0, (0, 1, False)),  # E1 reopened after a bad visit
}


def settled(m: Month) -> bool:
    """Every case in the ledger at the version intake has."""
    for case_id in m.cases.values():
        mine = requests.get(m.system.url("intake", f"/v1/cases/{case_id}"), headers=m.office, timeout=10).json()
        theirs = requests.get(m.system.url("ledger", f"/v1/cases/{case_id}"), headers=m.office, timeout=10)
        if theirs.status_code != 200 or theirs.json()["version"] != mine["version"]:
            return False
    return True


def test_a_month_of_casework_gives_the_hand_computed_ledger(tmp_path_factory):
    home = tmp_path_factory.mktemp("zf-month")
    clock = home / "clock"
    clock.write_text("2026-11-02T09:00:00+08:00")
    with running_system(home, ZF_CLOCK_FILE=str(clock), ZF_ESCALATION_SECONDS="1") as system:
        month = Month(system, clock)
        play(month)
        eventually(lambda: settled(month), timeout=60, interval=1)
        stats = requests.get(system.url("ledger", "/v1/units/stats"), headers=month.office, timeout=10).json()
        assert stats["today"] == date(2026, 11, 30).isoformat()
        assert {row["unit"]: figures(row) for row in stats["items"]} == EXPECTED

        overdue = requests.get(system.url("ledger", "/v1/overdue"), headers=month.office, timeout=10).json()["items"]
        by_id = {v: k for k, v in month.cases.items()}
        assert [(by_id[o["case_id"]], o["working_days_overdue"]) for o in overdue if o["overdue"]] == \
            [("A4", 15), ("E1", 3), ("B4", 1)]
        assert sorted(by_id[o["case_id"]] for o in overdue if o["sign_for_overdue"]) == ["A6", "C4"]

        # notify's scheduler has caught up with the month: A4 (立行立改, 15 working days overdue) is at the
        # last step of its ladder, E1 (立行立改 again after the bad visit, 3 overdue) at the admonishment
        # talk; the ledger shows the steps on the cases and the units got their notices.
        def step(name: str) -> str | None:
            return requests.get(system.url("ledger", f"/v1/cases/{month.cases[name]}"), headers=month.office,
                                timeout=10).json()["escalation_step"]
        eventually(lambda: (step("A4"), step("E1")) == ("accountability_proposal", "admonishment_talk"),
                   timeout=60, interval=1)
        # notify queues a step's notices when its own consumer takes the step in (it gathers 200 ms, the
        # ledger 60), so the ledger may show the step a moment before the notices are there.
        def kinds() -> set[str]:
            return {n["kind"] for n in requests.get(system.url("notify", "/v1/notices"),
                                                    params={"case_id": month.cases["A4"]},
                                                    headers=month.office, timeout=10).json()}
        wanted = {"case_assigned", "escalation_supervision_letter", "escalation_accountability_proposal"}
        assert eventually(lambda: wanted <= kinds(), timeout=30, interval=0.5)
        # The scheduler process numbered the letters (文号), one sequence for the year. How many rounds of
        # a ladder run (E1 is reopened) depends on when the scheduler's passes fall as the clock moves,
        # so: at least a letter each, every one numbered, no number twice. (A stop names its round's
        # last step too: only steps are letters.)
        letters = {name: [h["document_number"] for h in requests.get(
            system.url("ledger", f"/v1/cases/{month.cases[name]}"), headers=month.office, timeout=10,
        ).json()["escalation_history"] if h["kind"] == "step" and h["step"] == "supervision_letter"]
            for name in ("A4", "E1")}
        numbers = letters["A4"] + letters["E1"]
        assert letters["A4"] and letters["E1"] and len(set(numbers)) == len(numbers), letters
        assert all(re.fullmatch(r"正风办督〔2026〕[1-9][0-9]*号", n or "") for n in numbers), letters

        mine = requests.get(system.url("ledger", "/v1/units/stats"), headers=system.headers("unit", unit=C),
                            timeout=10).json()["items"]
        assert [row["unit"] for row in mine] == [C]
        visible = requests.get(system.url("ledger", "/v1/cases"), params={"limit": 200},
                               headers=system.headers("unit", unit=D), timeout=10).json()["items"]
        assert sorted(by_id[c["case_id"]] for c in visible) == ["C2", "D1", "D2", "D3"]   # C2: cooperating

        b3 = requests.get(system.url("ledger", f"/v1/cases/{month.cases['B3']}"), headers=month.office,
                          timeout=10).json()
        assert b3["duplicates"] == [month.cases["B5"]]
        timeline = requests.get(system.url("ledger", f"/v1/cases/{month.cases['A7']}/timeline"),
                                headers=month.office, timeout=10).json()["items"]
        assert [t["type"].split(".")[3] for t in timeline] == ["received", "assigned", "returned", "reassigned",
                                                               "accepted"]
        before_rework = requests.get(system.url("ledger", f"/v1/cases/{month.cases['D2']}/as-of"),
                                     params={"at": "2026-11-17T12:00:00+08:00"}, headers=month.office,
                                     timeout=10).json()
        assert before_rework["status"] == "in_progress" and before_rework["rework_count"] == 1

        export = requests.get(system.url("ledger", "/v1/units/stats/export.csv"), headers=month.office, timeout=10)
        assert export.status_code == 200 and "按时签收率" in export.content.decode("utf-8-sig")
        everything = requests.get(system.url("ledger", "/v1/cases/export.csv"), headers=month.office,
                                  timeout=10).content.decode("utf-8-sig")
        assert "13807391234" not in everything and "李某" not in everything

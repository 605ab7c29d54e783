"""Synthetic ledger cases for bench/ledger_queries.py, bulk-loaded with COPY into ledger.cases.

Three years of cases up to TODAY, most of the old ones signed off, the recent ones open; 200 lead
units, 18 categories, eight channels weighted towards the hotline. Descriptions are built from
phrases, so a text search has common terms (COMMON_TERM, ~1 case in 15) and rare ones (RARE_TERM,
~1 in 2,000).
"""
from __future__ import annotations

import random
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from datetime import date, datetime, time as clock, timedelta, timezone

import psycopg

from ledger.adapters import unit_figures
from zfcommon.caseview import COLUMNS
from zfcommon import db
from zfcommon.devstack.ports import free_port
from zfcommon.devstack.postgres import LocalPostgres
from zfcommon.devstack.stack import migrate_all
from zfcommon.settings import SERVICES

TODAY = date(2026, 11, 20)
SPAN_DAYS = 3 * 365
UNITS = [f"{kind}{i:03d}" for kind in ("县直部门", "乡镇", "学校", "国企") for i in range(50)]
CATEGORIES = ["执行力弱", "权力运用不当", "形式主义", "推诿扯皮", "办事效率低", "吃拿卡要", "态度冷漠", "纪律松懈",
              "信息公开", "安全监管", "环境保护", "食品药品", "审批服务", "涉企检查", "教育医疗", "欠薪", "信访", "治安"]
CHANNELS = ["hotline"] * 10 + ["petition", "tipoff", "media", "inspection", "supervisor", "monitoring_point",
                               "self_inspection"]
PLACES = ["不动产登记窗口", "医保报销窗口", "社保经办大厅", "户籍窗口", "税务服务厅", "公积金中心", "车管所", "婚姻登记处",
          "市场监管所", "乡镇便民中心", "住建审批科", "学校食堂", "卫生院", "派出所", "交通运输执法队"]
PROBLEMS = ["推诿扯皮,不一次性告知所需材料", "工作人员态度冷漠", "办事拖延超过承诺时限", "索要好处费", "上班时间玩手机",
            "多次往返仍未办结", "违规收取费用", "检查流于形式", "系统故障长期未修复", "政策解释前后矛盾"]
COMMON_TERM, RARE_TERM = "医保报销", "系统宕机三天"
OPEN_RECENT = ["received", "assigned", "in_progress", "in_progress", "in_progress", "rectification_reported",
               "dismissal_reported", "returned"]


def _iso(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list):
        return "{" + ",".join(value) + "}"
    return str(value)


def _status(rng: random.Random, age: int) -> str:
    if age > 90:
        return rng.choices(["closed", "dismissed", "merged", "in_progress", "rectification_reported"],
                           [85, 8, 2, 4, 1])[0]
    if age > 30:
        return rng.choices(["closed", "dismissed", "in_progress", "rectification_reported", "assigned"],
                           [50, 5, 35, 8, 2])[0]
    return rng.choice(OPEN_RECENT)


def case_row(rng: random.Random, i: int) -> dict:
    age = int(rng.random() ** 1.3 * SPAN_DAYS)     # more cases recently
    received = datetime.combine(TODAY - timedelta(days=age), clock(), timezone.utc) + timedelta(
        seconds=rng.randrange(86_400))
    status = _status(rng, age)
    rare = rng.random() < 0.0005
    row = {c: None for c in COLUMNS}
    row.update(case_id=f"case-{i:07d}", status=status, channel=rng.choice(CHANNELS),
               category=rng.choice(CATEGORIES), subject_unit=rng.choice(UNITS), priority="normal",
               description=rng.choice(PLACES) + rng.choice(PROBLEMS) + (RARE_TERM if rare else "") + f",工单{i}",
               anonymous=rng.random() < 0.3, received_at=received, updated_at=received, version=1,
               cooperating_units=[], extension_pending=False, extension_count=0, rework_count=0, reopen_count=0,
               recheck_pending=False, visit_count=0, duplicates=[])
    if status == "received":
        return row
    assigned = received + timedelta(hours=rng.randrange(2, 48))
    row.update(lead_unit=rng.choice(UNITS), cooperating_units=rng.sample(UNITS, rng.choice([0, 0, 1, 2])),
               handling_mode=rng.choice(["immediate", "deadline", "deadline", "long_term"]), assigned_at=assigned,
               deadline=assigned.date() + timedelta(days=rng.randrange(5, 40)),
               sign_for_due=assigned.date() + timedelta(days=2), version=2)
    if status not in ("assigned", "returned"):
        row.update(accepted_at=assigned + timedelta(hours=rng.randrange(1, 72)), sign_for_on_time=rng.random() < 0.9,
                   extension_count=int(rng.random() < 0.1), rework_count=int(rng.random() < 0.05), version=5)
    if status == "closed":
        row.update(closed_at=assigned + timedelta(days=rng.randrange(3, 40)), closed_on_time=rng.random() < 0.85)
        if row["channel"] == "hotline":
            row.update(satisfaction=rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], [70, 20, 10])[0],
                       visit_count=1)
    return row


def load(admin_url: str, rows: int, seed: int = 7) -> dict[str, float]:
    """Fill ledger.cases with `rows` cases and recount ledger.unit_month_figures from them; returns
    seconds per phase. The migrations' indexes are dropped for the COPY and rebuilt from their own
    definitions, the usual bulk-load order."""
    rng, timings = random.Random(seed), {}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'ledger'"
                               " AND tablename = 'cases' AND indexname <> 'cases_pkey'").fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX ledger.{name}")
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY ledger.cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for i in range(rows):
                row = case_row(rng, i)
                copy.write("\t".join(_iso(row[c]) for c in COLUMNS) + "\n")
        timings["copy"] = time.perf_counter() - started
        started = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        timings["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    with db.connect(admin_url) as conn:         # the monthly figures the projection would have kept
        conn.execute("SET search_path = ledger")
        unit_figures.rebuild(conn)
    timings["figures"] = time.perf_counter() - started
    with psycopg.connect(admin_url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE ledger.cases, ledger.unit_month_figures")
        timings["vacuum_analyze"] = time.perf_counter() - started
    return timings


@contextmanager
def loaded_ledger(rows: int) -> Iterator[tuple[str, dict[str, str]]]:
    """A scratch PostgreSQL (embedded, random port) with every migration applied and `rows` cases loaded:
    its administrator URL and each service role's password; stopped and removed afterwards."""
    passwords = {s: f"bench-{s}" for s in SERVICES}
    with tempfile.TemporaryDirectory(prefix="zf-bench-") as scratch:
        server = LocalPostgres(Path(scratch) / "pg", free_port()).start()
        try:
            migrate_all(server.url, passwords)
            timings = load(server.url, rows)
            print(f"loaded {rows:,} cases: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
                  + f" (total {sum(timings.values()):.1f} s)", flush=True)
            yield server.url, passwords
        finally:
            server.stop()

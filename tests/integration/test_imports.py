"""Ledger import over intake's HTTP API on the real PostgreSQL: the office's sample file as CSV and as
a real XLSX, dry run, all-or-nothing, skip_invalid, re-import, one new row, and every kind of bad file."""
from __future__ import annotations

import csv
import io
import threading
import zipfile
from pathlib import Path

import psycopg
import pytest
from openpyxl import Workbook

from intake.entrypoints.http import create_app
from ledger.adapters.repository import apply as ledger_apply
from zfcommon import db
from zfcommon.events import parse_event

from ..conftest import settings_for
from ..support import bearer

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "ledger_sample.csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFFICE = bearer()
UNITS = ("县自然资源局", "县政务服务中心", "县市场监管局", "某镇人民政府", "县人社局", "县住建局", "县交通运输局",
         "县公安局", "县教育局", "县卫健委", "县医保局")


@pytest.fixture
def client(urls, tmp_path):
    clock = tmp_path / "now"
    clock.write_text("2026-11-23T09:00:00+08:00")
    app = create_app(settings_for("intake", urls["intake"], clock_file=str(clock)))
    c = app.test_client()
    for name in UNITS:
        assert c.post("/v1/directory/units", json={"name": name, "kind": "government_department",
                                                   "supervising_channel": "县纪委监委"}, headers=OFFICE).status_code == 200
    yield c
    app.extensions["zf_pool"].close()


def sample() -> bytes:
    if not SAMPLE.exists():
        pytest.fail(f"the ledger sample is missing: expected {SAMPLE} (shared/ beside the repository)")
    return SAMPLE.read_bytes()


def sample_rows(fixed: bool = False) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(sample().decode("utf-8-sig"))))
    if fixed:     # the office corrects 序号 6's date and gives 序号 7 its units
        rows[6][8] = "2026-12-20"
        rows[7][2] = rows[7][5] = "县政务服务中心"
    return rows


def xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for r in rows:
        book.active.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data: bytes, filename: str = "台账.csv", query: str = "", **headers):
    return client.post(f"/v1/imports{query}", data={"file": (io.BytesIO(data), filename)},
                       headers={**OFFICE, **headers}, content_type="multipart/form-data")


def raw(client, data: bytes, content_type: str, query: str = ""):
    return client.post(f"/v1/imports{query}", data=data, headers={**OFFICE, "Content-Type": content_type})


def stored(admin_url: str) -> tuple[int, int]:
    """(case events, imports) in intake's store: the directory's own events are not counted."""
    with psycopg.connect(admin_url) as conn:
        events = conn.execute("SELECT count(*) FROM intake.events WHERE stream_id <> 'directory'").fetchone()[0]
        return events, conn.execute("SELECT count(*) FROM intake.imports").fetchone()[0]


def statuses(report: dict) -> dict[int, str]:
    return {r["row"]: r["status"] for r in report["rows"]}


def test_a_dry_run_of_the_sample_reports_its_bad_date_and_missing_unit_rows_and_stores_nothing(client, admin_url):
    resp = upload(client, sample(), query="?dry_run=true")
    assert resp.status_code == 200, resp.json
    report = resp.json
    assert statuses(report) == {2: "ok", 3: "ok", 4: "ok", 5: "ok", 6: "ok", 7: "error", 8: "error"}
    bad = {r["serial"]: r["errors"] for r in report["rows"] if r["status"] == "error"}
    assert bad == {"6": {"整改时限": ["日历上没有这一天：2026-13-45"]},
                   "7": {"被反映单位": ["必填"], "牵头单位": ["必填"]}}
    assert report["rows"][0]["case"]["channel"] == "hotline" and report["rows"][0]["case"]["status"] == "in_progress"
    assert report["counts"] == {"rows": 7, "ok": 5, "error": 2, "duplicate": 0, "imported": 0}
    assert report["import_id"] is None and report["header_row"] == 1
    assert all(r["case_number"] is None for r in report["rows"])         # a dry run gives no number
    assert stored(admin_url) == (0, 0)


def test_an_import_with_bad_rows_is_refused_whole_with_the_same_report(client, admin_url):
    resp = upload(client, sample())
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert resp.json["code"] == "import.rows_invalid" and statuses(resp.json)[7] == "error"
    assert "第 7、8 行" in resp.json["detail"] and "skip_invalid=true" in resp.json["detail"]
    assert stored(admin_url) == (0, 0)


def test_skip_invalid_imports_the_valid_rows_and_a_reimport_creates_nothing_twice(client, admin_url):
    first = upload(client, sample(), query="?skip_invalid=true")
    assert first.status_code == 201, first.json
    assert first.json["counts"] == {"rows": 7, "ok": 5, "error": 2, "duplicate": 0, "imported": 5}
    # 整改中 3 events, 已整改 4, 未整改 2, 整改中 3, 已销号 5
    assert stored(admin_url) == (17, 1)
    cases = {r["row"]: r["case_id"] for r in first.json["rows"] if r["status"] == "ok"}
    closed = client.get(f"/v1/cases/{cases[6]}", headers=OFFICE).json
    assert closed["status"] == "closed" and closed["channel"] == "self_inspection"
    numbers = {r["row"]: r["case_number"] for r in first.json["rows"] if r["status"] == "ok"}
    assert sorted(numbers.values()) == [f"ZF-{closed['case_number'][3:7]}-00000{i}" for i in range(1, 6)]
    assert closed["case_number"] == numbers[6]
    assert closed["origin"]["system"] == "import" and closed["origin"]["parent"] == first.json["import_id"]

    record = client.get(first.headers["Location"], headers=bearer("auditor")).json
    assert record["actor"] == "office:tester" and record["file_sha256"] == first.json["file_sha256"]
    assert {r["row"]: r["case_id"] for r in record["rows"] if r["status"] == "ok"} == cases

    again = upload(client, sample(), query="?skip_invalid=true")
    assert again.status_code == 201 and again.json["counts"]["imported"] == 0
    assert {r["row"]: r["case_id"] for r in again.json["rows"] if r["status"] == "duplicate"} == cases
    assert {r["row"]: r["case_number"] for r in again.json["rows"] if r["status"] == "duplicate"} == numbers
    assert stored(admin_url) == (17, 2)


def test_the_same_ledger_as_a_real_xlsx_imports_and_a_reexport_with_one_new_row_imports_one(client, admin_url):
    rows = sample_rows(fixed=True)
    resp = raw(client, xlsx(rows), XLSX)
    assert resp.status_code == 201, resp.json
    assert resp.json["format"] == "xlsx" and resp.json["counts"]["imported"] == 7
    events = stored(admin_url)[0]
    rows[3][9] = "已整改"                     # moved on since the first export: still the same problem
    rows.append(["8", "举报", "县教育局", "违规收取资料费", "吃拿卡要", "县教育局", "", "退还费用", "2027年1月10日",
                 "未整改", "吴某", ""])
    resp = raw(client, xlsx(rows), XLSX, query="?dry_run=true")
    assert [r["status"] for r in resp.json["rows"]] == ["duplicate"] * 7 + ["ok"]
    resp = raw(client, xlsx(rows), XLSX)
    assert resp.json["counts"] == {"rows": 8, "ok": 1, "error": 0, "duplicate": 7, "imported": 1}
    assert stored(admin_url)[0] == events + 2


def test_concurrent_imports_of_one_file_create_each_case_once(urls, tmp_path, client, admin_url):
    """client: the units and the clock file; the imports run in their own app, three at once."""
    clock = tmp_path / "now"
    app = create_app(settings_for("intake", urls["intake"], clock_file=str(clock)))
    data, answers, barrier = xlsx(sample_rows(fixed=True)), [], threading.Barrier(3)

    def post():
        c = app.test_client()
        barrier.wait()
        answers.append(raw(c, data, XLSX))
    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    app.extensions["zf_pool"].close()
    assert sorted(a.json["counts"]["imported"] for a in answers) == [0, 0, 7]
    assert stored(admin_url) == (22, 3)


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(client, admin_url):
    data = xlsx(sample_rows(fixed=True))
    first = upload(client, data, "台账.xlsx", **{"Idempotency-Key": "ledger-2026"})
    again = upload(client, data, "台账.xlsx", **{"Idempotency-Key": "ledger-2026"})
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert stored(admin_url)[1] == 1


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize("send,status,code,says", [
    (lambda c: upload(c, b"PK\x03\x04 broken", "台账.xlsx"), 422, "import.file_unreadable", "XLSX 文件"),
    (lambda c: raw(c, b"this is no workbook", XLSX), 422, "import.file_unreadable", "不是 zip 压缩包"),
    (lambda c: raw(c, bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 2048, XLSX), 422, "import.file_unreadable",
     "加密"),
    (lambda c: upload(c, _bomb(), "台账.xlsx"), 422, "import.file_unreadable", "压缩炸弹"),
    (lambda c: raw(c, b"x" * (10 * 1024 * 1024 + 1), "text/csv"), 413, "import.too_large", "最大 10 MiB"),
    (lambda c: upload(c, b"x" * (10 * 1024 * 1024 + 1)), 413, "import.too_large", "最大 10 MiB"),
    (lambda c: raw(c, b'{"rows": []}', "application/json"), 415, "request.unsupported_media_type",
     "multipart/form-data"),
    (lambda c: upload(c, b"%PDF-1.7", "台账.pdf"), 415, "import.file_type_unsupported", "不支持的文件类型"),
    (lambda c: upload(c, b"x", "台账.xls"), 415, "import.file_type_unsupported", "不支持 .xls 文件"),
    (lambda c: raw(c, "问题来源,问题描述,处理结果\n12345热线,x,y\n".encode(), "text/csv"), 422, "import.header_invalid",
     "处理结果"),
    (lambda c: raw(c, b"", "text/csv"), 422, "import.file_unreadable", "空的"),
    (lambda c: raw(c, ",,,\n,,\n".encode(), "text/csv"), 422, "import.file_unreadable", "没有任何数据行"),
    (lambda c: raw(c, ",".join(sample_rows()[0]).encode(), "text/csv"), 422, "import.file_unreadable",
     "下面没有数据行"),
    (lambda c: c.post("/v1/imports", data={"other": "x"}, headers=OFFICE, content_type="multipart/form-data"),
     422, "import.file_missing", "表单字段 file"),
], ids=["broken-xlsx", "not-zip", "encrypted", "zip-bomb", "oversized-raw", "oversized-multipart", "json",
        "pdf", "xls", "headers", "empty", "blank", "header-only", "no-file-field"])
def test_bad_files_get_a_clear_error_and_store_nothing(client, admin_url, send, status, code, says):
    resp = send(client)
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.content_type == "application/problem+json" and resp.json["code"] == code
    assert says in resp.json["detail"]
    assert stored(admin_url) == (0, 0)


def test_missing_headers_are_named(client):
    resp = raw(client, "问题来源,被反映单位,问题描述,处理结果\n".encode(), "text/csv")
    assert resp.json["missing"] == ["问题类别", "牵头单位", "整改时限", "整改状态"]
    assert resp.json["unknown"] == ["处理结果"] and resp.json["header_row"] == 1


def test_only_the_office_imports(client):
    for role in (bearer("auditor"), bearer("unit", unit="县教育局"), bearer("channel", channel="hotline")):
        resp = client.post("/v1/imports", data=sample(), headers={**role, "Content-Type": "text/csv"})
        assert resp.status_code == 403
    assert client.get("/v1/imports/not-an-id", headers=OFFICE).status_code == 404


def test_imported_cases_reach_the_ledger_projection(client, urls):
    resp = raw(client, xlsx(sample_rows(fixed=True)), XLSX)
    with db.connect(urls["intake"]) as source, db.connect(urls["ledger"]) as target:
        for row in source.execute("SELECT payload FROM events ORDER BY position"):
            ledger_apply(target, parse_event(row["payload"]))
        target.commit()
        projected = {r["case_id"]: r["status"] for r in target.execute("SELECT case_id, status FROM cases")}
    expected = {r["case_id"]: r["case"]["status"] for r in resp.json["rows"]}
    assert projected == expected

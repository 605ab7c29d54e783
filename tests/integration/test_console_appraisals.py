"""民主评议 in the console: the office opens a quarter's round, enters questionnaires (a number entered
twice is refused next to its field and keeps what was typed), sees the results so far, closes the round;
the drafter may not approve, a second office user does and publishes; the auditor reads every page, a
unit officer none; no page shows the complainant, and the results never show an appraiser's comment."""
from __future__ import annotations

import io

import pytest

from ..support import carry
from .console_world import console_world, text, token

pytestmark = pytest.mark.integration
UNITS = ("县自然资源局", "县林业局")


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    with console_world(pg, tmp_path_factory.mktemp("clock") / "now", day="2026-12-21", notify=True) as w:
        for login, role in (("jia", "office"), ("zhao", "office"), ("bing", "auditor")):
            w.account(login, role)
        w.account("yi", "unit", unit=UNITS[0])
        yield w



def post(client, path: str, **data):
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"idem": data.pop("idem", None) or str(id(data)), **data,
                                   "csrf_token": token(page)})


def test_the_office_runs_a_round_from_questionnaires_to_published_results(world):
    for name in UNITS:
        world.api("POST", "/v1/directory/units", {"name": name, "kind": "government_department",
                                                  "supervising_channel": "县监察局"}, status=200)
    carry(world.urls, into=("notify",))
    jia, zhao = world.client("jia"), world.client("zhao")

    opened = post(jia, "/appraisals", period="2026-Q4", key_units=UNITS[1], min_ballots="1")
    assert opened.status_code == 302, text(opened)
    round_page = opened.headers["Location"]
    assert round_page.endswith("/appraisals/2026-Q4")
    wrong = post(jia, "/appraisals", period="2026-Q9")
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.get_data(as_text=True)

    shown = text(jia.get(round_page))
    assert "2026年第四季度政风行风民主评议结果通报" in shown and "收集评议票中" in shown and "重点评议单位 县林业局" in shown
    first = post(jia, round_page, step="ballots", ballot_no="Q-001", group="企业", unit=list(UNITS),
                 **{"grade-0": "satisfied", "grade-1": "unsatisfied", "comment-1": "办事拖拉，电话13807391234"})
    assert first.status_code == 302
    twice = post(jia, round_page, step="ballots", ballot_no="Q-001", group="客商", unit=list(UNITS),
                 **{"grade-0": "basically_satisfied"})
    body = twice.get_data(as_text=True)
    assert twice.status_code == 422 and "已经录入过" in body and 'value="Q-001"' in body
    post(jia, round_page, step="ballots", ballot_no="Q-002", group="代表委员", unit=list(UNITS),
         **{"grade-0": "basically_satisfied", "grade-1": "satisfied"})
    shown = text(jia.get(round_page))
    assert "目前结果（尚未截止）" in shown and "Q-002" in shown and "13807391234" not in shown

    assert post(jia, round_page, step="draft").status_code == 302
    own = post(jia, round_page, step="review", decision="approved")
    assert own.status_code == 422 or own.status_code == 403
    assert "起草人不能审核自己起草的通报" in text(own)
    assert post(zhao, round_page, step="review", decision="approved").status_code == 302
    assert post(zhao, round_page, step="publish").status_code == 302
    shown = text(zhao.get(round_page))
    assert "已发布" in shown and "评议结果" in shown and "80.0" in shown           # (100 + 60) / 2
    pdf = jia.get(round_page + ".xlsx")
    assert pdf.status_code == 200 and pdf.data[:2] == b"PK"

    auditor = world.client("bing")
    assert auditor.get("/appraisals").status_code == 200 and auditor.get(round_page).status_code == 200
    assert "发起民主评议" not in text(auditor.get("/appraisals"))
    assert world.client("yi").get(round_page).status_code == 403
    assert "民主评议" in text(jia.get("/appraisals")) and "已发布" in text(jia.get("/appraisals"))


def test_the_office_imports_a_questionnaire_table_after_a_dry_run(world):
    """Runs after the first test: its units are in the directory."""
    jia = world.client("jia")
    assert post(jia, "/appraisals", period="2026", min_ballots="1").status_code == 302
    template = jia.get("/appraisals/2026/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    table = f"问卷编号,评议群体,{UNITS[0]},{UNITS[1]}\nN-1,企业,满意,不满意\nN-2,客商,很好,\n".encode("utf-8-sig")

    def upload(data: bytes, mode: str):
        page = jia.get("/appraisals/2026").get_data(as_text=True)
        return jia.post("/appraisals/2026", data={"step": "import", "mode": mode, "idem": f"imp-{mode}-{len(data)}",
                                                   "file": (io.BytesIO(data), "评议票.csv"),
                                                   "csrf_token": token(page)}, content_type="multipart/form-data")
    checked = text(upload(table, "dry_run"))
    assert "预检结果" in checked and "共 2 份问卷：无误 1，有误 1" in checked and "“很好”不是评价" in checked
    refused = upload(table, "import")
    assert refused.status_code == 422 and "整表均未导入" in text(refused)
    fixed = table.replace("很好".encode(), "基本满意".encode())
    done = text(upload(fixed, "import"))
    assert "已录入 2 份评议票" in done and "N-2" in done

"""What intake offers a client such as the console: the commands the caller may issue, a deadline preview
before assigning, and evidence files a unit uploads for its report."""
from __future__ import annotations

import hashlib
import io

import pytest

from .test_intake_lifecycle import HELPER, LEAD, OFFICE, assigned_case, client, do, new_case, unit  # noqa: F401

pytestmark = pytest.mark.integration


def test_permitted_commands_are_the_allowed_ones_the_caller_may_issue(client):
    case_id = assigned_case(client)
    assert client.get(f"/v1/cases/{case_id}", headers=unit(LEAD)).json["permitted_commands"] == ["accept", "return"]
    assert client.get(f"/v1/cases/{case_id}", headers=unit(HELPER)).json["permitted_commands"] == []
    office = client.get(f"/v1/cases/{case_id}", headers=OFFICE).json
    assert office["permitted_commands"] == ["reassign", "merge", "accept", "return", "correct_summary",  # it stands
                                            "set_campaign", "dismiss_duplicate"]                         # in for a unit


def test_the_notes_outside_the_state_machine_are_offered_where_the_state_admits_them(client):
    """Joining a campaign and dismissing a duplicate suggestion are not among allowed_commands (they do not
    move the case), yet a client offers them: the office may set a campaign in every state, dismiss a
    suggestion only while the case could still be merged."""
    case_id = assigned_case(client)
    office = client.get(f"/v1/cases/{case_id}", headers=OFFICE).json
    assert {"set_campaign", "dismiss_duplicate"} <= set(office["permitted_commands"])
    assert not {"set_campaign", "dismiss_duplicate"} & set(office["allowed_commands"])
    do(client, case_id, "accept", headers=unit(LEAD))
    accepted = client.get(f"/v1/cases/{case_id}", headers=OFFICE).json["permitted_commands"]
    assert "set_campaign" in accepted and "dismiss_duplicate" not in accepted
    assert "set_campaign" not in client.get(f"/v1/cases/{case_id}", headers=unit(LEAD)).json["permitted_commands"]


def test_a_cooperating_unit_may_only_note_progress(client):
    case_id = assigned_case(client)
    do(client, case_id, "accept", headers=unit(LEAD))
    assert client.get(f"/v1/cases/{case_id}", headers=unit(HELPER)).json["permitted_commands"] == ["note_progress"]


def test_the_deadline_preview_is_what_an_assignment_today_gets(client):
    preview = client.get("/v1/directory/deadline", query_string={"handling_mode": "deadline"}, headers=OFFICE)
    assert preview.status_code == 200, preview.json
    # Monday 2026-11-23: 15 working days (normal priority) and 1 to sign for.
    assert preview.json == {"from_date": "2026-11-23", "handling_mode": "deadline", "priority": "normal",
                            "working_days": 15, "deadline": "2026-12-14", "sign_for_days": 1, "sign_for_due": "2026-11-24"}
    case_id = new_case(client)
    after = do(client, case_id, "assign", {"lead_unit": LEAD, "handling_mode": "deadline"})
    assert (after["deadline"], after["sign_for_due"]) == ("2026-12-14", "2026-11-24")


def test_a_deadline_preview_the_calendar_cannot_count_names_the_year(client):
    client.clock.write_text("2026-12-20T09:00:00+08:00")
    resp = client.get("/v1/directory/deadline", query_string={"handling_mode": "long_term"}, headers=OFFICE)
    assert resp.status_code == 422 and "2027" in resp.json["errors"]["deadline"][0]
    assert client.get("/v1/directory/deadline", query_string={"handling_mode": "deadline"},
                      headers=unit(LEAD)).status_code == 403


def test_a_unit_uploads_evidence_and_every_reader_of_the_case_gets_the_same_bytes(client):
    case_id = assigned_case(client)
    photo = b"\x89PNG\r\n\x1a\n" + b"rectified" * 100
    resp = client.post(f"/v1/cases/{case_id}/files", headers={**unit(LEAD), "Idempotency-Key": "f1"},
                       data={"file": (io.BytesIO(photo), "整改后照片.png", "image/png")})
    assert resp.status_code == 201, resp.json
    stored = resp.json
    assert stored["sha256"] == hashlib.sha256(photo).hexdigest() and stored["size"] == len(photo)
    assert stored["uploaded_by"] == f"unit:officer-{LEAD}"
    for reader in (OFFICE, unit(LEAD), unit(HELPER)):
        got = client.get(stored["url"].removeprefix("http://localhost"), headers=reader)
        assert got.status_code == 200 and got.data == photo and got.mimetype == "image/png"
    assert client.get(stored["url"].removeprefix("http://localhost"), headers=unit("某镇人民政府")).status_code == 404
    do(client, case_id, "accept", headers=unit(LEAD))
    do(client, case_id, "report-rectified", {"text": "已整改", "attachments": [
        {"name": stored["name"], "url": stored["url"]}]}, headers=unit(LEAD))


def test_a_unit_cannot_upload_to_another_units_case_nor_an_empty_file(client):
    case_id = assigned_case(client)
    other = client.post(f"/v1/cases/{case_id}/files", headers=unit("某镇人民政府"),
                        data={"file": (io.BytesIO(b"x"), "a.txt", "text/plain")})
    assert other.status_code == 404
    empty = client.post(f"/v1/cases/{case_id}/files", headers=unit(LEAD), data={"file": (io.BytesIO(b""), "a.txt")})
    assert empty.status_code == 422 and list(empty.json["errors"]) == ["file"]

"""The event catalogue: topics, dead-letter topics and data validation by type."""
from zfcommon.events import catalogue

from .fakes import received_data

RECEIVED = "cn.zhengfeng.case.received.v1"


def test_dead_letter_topic_is_the_topic_with_dlq_suffix():
    assert catalogue.dlq_topic("intake.case.events") == "intake.case.events.dlq"


def test_all_topics_pairs_each_topic_with_its_dead_letters():
    assert catalogue.all_topics()[:2] == ["intake.accountability.events", "intake.accountability.events.dlq"]
    assert "intake.case.events.dlq" in catalogue.all_topics()
    assert len(catalogue.all_topics()) == 2 * len(catalogue.TOPICS)


def test_every_catalogued_topic_follows_the_service_aggregate_events_convention():
    for topic in catalogue.TOPICS:
        service, aggregate, suffix = topic.split(".")
        assert suffix == "events" and service and aggregate


def test_received_is_known_and_travels_on_the_case_topic():
    assert catalogue.is_known(RECEIVED)
    assert not catalogue.is_known("cn.zhengfeng.case.received.v2")
    assert catalogue.topic_for(RECEIVED) == catalogue.CASE_TOPIC


def test_valid_data_has_no_errors():
    assert catalogue.validate_data(RECEIVED, received_data()) == {}


def test_data_that_is_not_an_object_is_refused():
    assert catalogue.validate_data(RECEIVED, ["hotline"]) == {"_schema": ["data must be a JSON object"]}


def test_every_channel_is_accepted():
    for channel in catalogue.CHANNELS:
        assert catalogue.validate_data(RECEIVED, received_data(channel=channel)) == {}


STEP = "cn.zhengfeng.escalation.step_issued.v1"


def _step(step: str, **more) -> dict:
    return {"ladder": "deadline", "step": step, "round": 1, "unit": "县住建局", "due": "2026-11-23",
            "working_days_overdue": 5, "handling_mode": "deadline", "threshold": 5, "crossed_on": "2026-11-30", **more}


LETTER = {"number": "正风办督〔2026〕3号", "year": 2026, "sequence": 3, "issuer": "正风办", "issued_on": "2026-11-30"}


def test_a_supervision_letter_carries_its_number_and_no_other_step_has_one():
    assert catalogue.validate_data(STEP, _step("supervision_letter", document=LETTER)) == {}
    assert catalogue.validate_data(STEP, _step("supervision_letter")) == {}       # issued before numbering
    assert catalogue.validate_data(STEP, _step("reminder", document=LETTER)) == {"document": ["只有督办函有文号"]}
    assert "sequence" in catalogue.validate_data(STEP, _step("supervision_letter",
                                                             document={**LETTER, "sequence": 0}))["document"]


def test_a_weekly_reports_supervision_letter_is_numbered_too_and_no_other_of_its_steps():
    escalated = "cn.zhengfeng.report.escalated.v1"
    data = {"unit": "县住建局", "week": "2026-W48", "step": "supervision_letter", "consecutive_missed": 2,
            "threshold": 2}
    assert catalogue.validate_data(escalated, {**data, "document": LETTER}) == {}
    assert catalogue.validate_data(escalated, data) == {}
    assert catalogue.validate_data(escalated, {**data, "step": "bulletin_criticism", "document": LETTER}) == \
        {"document": ["只有督办函有文号"]}

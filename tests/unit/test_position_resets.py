"""A position kafka-python resets because the broker found it out of range is reported: forward past
deleted records as an error with the count (those events never reach the service), backward as a
warning (read again, recognised by id). kafka-python tells of resets only on its fetcher's logger
(zfcommon.kafka.PositionResets; zfcommon.consumer.EventConsumer._report_position_resets).

Tansu never answers out of range (it deletes nothing, and answers a fetch past its end with no
records), so no broker here can make kafka-python reset a position: these tests speak its two log
lines, and the first test pins them to kafka-python's source."""
from __future__ import annotations

import inspect
import logging

import kafka.consumer.fetcher
import pytest
from kafka import TopicPartition

from zfcommon import kafka as zk
from zfcommon import metrics
from zfcommon.consumer import EventConsumer

TP = TopicPartition("intake.case.events", 0)


@pytest.fixture
def fetcher():
    zk.watch_position_resets()
    zk.POSITION_RESETS.take()
    zk.POSITION_RESETS.out_of_range.clear()
    yield logging.getLogger(zk.FETCHER_LOGGER)
    zk.POSITION_RESETS.take()


def test_the_lines_read_are_kafka_pythons_own():
    source = inspect.getsource(kafka.consumer.fetcher)
    assert f'"{zk.OUT_OF_RANGE_LINE}",' in source          # args: fetch offset, partition
    assert f'log.info("{zk.RESET_LINE}", partition, offset)' in source
    assert kafka.consumer.fetcher.log.name == zk.FETCHER_LOGGER


def test_an_out_of_range_position_and_its_reset_become_one_note(fetcher):
    fetcher.info(zk.OUT_OF_RANGE_LINE, 120, TP)
    fetcher.info(zk.RESET_LINE, TP, 4000)
    assert zk.POSITION_RESETS.take() == [zk.PositionReset("intake.case.events", 0, 120, 4000)]
    assert zk.PositionReset("t", 0, 120, 4000).skipped == 3880
    assert zk.PositionReset("t", 0, 4000, 0).skipped == 0


def test_a_new_groups_first_position_is_not_a_reset_worth_reporting(fetcher):
    fetcher.info(zk.RESET_LINE, TP, 0)                  # no committed offset: earliest, as asked
    assert zk.POSITION_RESETS.take() == []


def test_the_fetchers_other_lines_stay_as_silent_as_before_and_its_errors_pass(fetcher, caplog):
    with caplog.at_level(logging.DEBUG):
        fetcher.info(zk.OUT_OF_RANGE_LINE, 1, TP)
        fetcher.info(zk.RESET_LINE, TP, 0)
        fetcher.info("Node %s sent an invalid full fetch response", 1)
        fetcher.warning("Not authorized to read from topic %s.", "x")
        fetcher.error("Unable to find fetch session handler for node %s", 1)
    assert [r.levelname for r in caplog.records if r.name == zk.FETCHER_LOGGER] == ["ERROR"]


class Client:
    def __init__(self, assigned):
        self.assigned = assigned

    def assignment(self):
        return set(self.assigned)


def consumer_of(*assigned) -> EventConsumer:
    return EventConsumer(group="ledger", apply=lambda conn, e: None, database_url="postgresql://unused",
                         kafka_consumer=Client(assigned), dlq_producer=None)


def skipped_total() -> float:
    return metrics.CONSUMER_RECORDS_SKIPPED.labels("ledger", TP.topic)._value.get()


def test_a_reset_forward_past_deleted_records_is_an_error_with_the_count(fetcher, caplog):
    before = skipped_total()
    fetcher.info(zk.OUT_OF_RANGE_LINE, 120, TP)
    fetcher.info(zk.RESET_LINE, TP, 4000)
    with caplog.at_level(logging.WARNING, logger="zfcommon.consumer"):
        consumer_of(TP)._report_position_resets()
    [record] = [r for r in caplog.records if r.name == "zfcommon.consumer"]
    assert (record.levelname, record.getMessage()) == ("ERROR", "consumer_records_skipped")
    assert (record.topic, record.partition, record.from_offset, record.to_offset, record.skipped) == \
        (TP.topic, 0, 120, 4000, 3880)
    assert skipped_total() == before + 3880


def test_a_reset_back_is_a_warning_and_nothing_is_counted(fetcher, caplog):
    before = skipped_total()
    fetcher.info(zk.OUT_OF_RANGE_LINE, 9000, TP)        # the broker lost records past the position
    fetcher.info(zk.RESET_LINE, TP, 0)
    with caplog.at_level(logging.WARNING, logger="zfcommon.consumer"):
        consumer_of(TP)._report_position_resets()
    [record] = [r for r in caplog.records if r.name == "zfcommon.consumer"]
    assert (record.levelname, record.getMessage()) == ("WARNING", "consumer_position_reset_back")
    assert skipped_total() == before


def test_a_reset_of_a_partition_the_consumer_does_not_hold_is_not_its_to_report(fetcher, caplog):
    fetcher.info(zk.OUT_OF_RANGE_LINE, 1, TP)
    fetcher.info(zk.RESET_LINE, TP, 50)
    with caplog.at_level(logging.WARNING, logger="zfcommon.consumer"):
        consumer_of(TopicPartition("notify.report.events", 0))._report_position_resets()
    assert not [r for r in caplog.records if r.name == "zfcommon.consumer"]
    assert zk.POSITION_RESETS.take() == []

"""A consumer rewinds a partition whose end lies before its position (a broker that came back empty
with a shorter log), and leaves alone one whose position is unknown or within the end
(zfcommon.consumer.EventConsumer._rewind_if_past_the_end; the real broker: tests/integration/test_consumer.py)."""
from __future__ import annotations

from kafka import TopicPartition

from zfcommon.consumer import EventConsumer


class Consumer:
    def __init__(self, ends: dict, positions: dict):
        self.ends, self.positions = ends, positions
        self.rewound: list[TopicPartition] = []
        self.committed: list[dict] = []
        self.timeouts: list[int | None] = []

    def assignment(self):
        return set(self.ends)

    def highwater(self, tp):
        return self.ends[tp]

    def position(self, tp, timeout_ms=None):
        self.timeouts.append(timeout_ms)
        return self.positions[tp]

    def seek_to_beginning(self, *tps):
        self.rewound += tps

    def commit(self, offsets):
        self.committed.append(offsets)


def check(ends: dict, positions: dict) -> Consumer:
    kc = Consumer(ends, positions)
    EventConsumer(group="ledger", apply=lambda conn, e: None, database_url="postgresql://unused",
                  kafka_consumer=kc, dlq_producer=None)._rewind_if_past_the_end()
    return kc


A, B, C, D = (TopicPartition("intake.case.events", p) for p in range(4))


def test_only_a_partition_shorter_than_the_position_is_rewound_and_offset_0_committed():
    kc = check({A: 3, B: 10, C: 10, D: None}, {A: 6, B: 10, C: 4, D: 7})
    assert kc.rewound == [A]
    assert [{tp: o.offset for tp, o in c.items()} for c in kc.committed] == [{A: 0}]


def test_a_position_still_being_reset_is_not_waited_for_long_nor_taken_for_a_number():
    kc = check({A: 3}, {A: None})
    assert kc.rewound == [] and kc.committed == []
    assert kc.timeouts == [500]

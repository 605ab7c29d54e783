"""Which API client tokens ledger, notify and audit refuse, from the client events they follow."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from zfcommon.auth import Principal
from zfcommon.revocation import KEY_ROTATED, REVOKED, ProcessRefusals, Refusals

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def client(key_issued_at: datetime | None, client_id: str = "client-1") -> Principal:
    return Principal(role="unit", sub=client_id, unit="县住建局", client_id=client_id, rate_per_minute=60,
                     key_issued_at=key_issued_at.timestamp() if key_issued_at else None)


def rotated(refusals: Refusals, at: datetime, grace: int, client_id: str = "client-1") -> None:
    refusals.apply(KEY_ROTATED, {"client_id": client_id, "grace_seconds": grace,
                                 "previous_keys_expire_at": (at + timedelta(seconds=grace)).isoformat()})


def test_a_revoked_clients_tokens_are_refused_whatever_key_bought_them():
    refusals = Refusals()
    refusals.apply(REVOKED, {"client_id": "client-1", "reason": None})
    refused = refusals.refusal(client(T0), T0.timestamp())
    assert refused.status == 401 and refused.code == "client.revoked" and "已被撤销" in refused.detail
    assert refusals.refusal(client(T0, "client-2"), T0.timestamp()) is None


def test_people_and_services_are_never_refused_here():
    refusals = Refusals()
    refusals.apply(REVOKED, {"client_id": "client-1", "reason": None})
    assert refusals.refusal(Principal(role="office", sub="client-1"), T0.timestamp()) is None


def test_a_rotation_retires_the_earlier_keys_tokens_when_its_grace_ends():
    refusals = Refusals()
    rotated(refusals, T0, grace=3600)
    old, new = client(T0 - timedelta(days=3)), client(T0)       # the new key is issued by the rotation itself
    during = (T0 + timedelta(minutes=59)).timestamp()
    after = (T0 + timedelta(hours=1)).timestamp()
    assert refusals.refusal(old, during) is None
    refused = refusals.refusal(old, after)
    assert refused.code == "client.key_retired" and "轮换" in refused.detail
    assert refusals.refusal(new, after) is None
    assert refusals.refusal(client(None), after).code == "client.key_retired"   # a token that names no key


def test_a_rotation_without_grace_retires_at_once_and_replaying_it_changes_nothing():
    refusals = Refusals()
    rotated(refusals, T0, grace=0)
    rotated(refusals, T0, grace=0)
    assert refusals.rotations["client-1"] == [(T0.timestamp(), T0.timestamp())]
    assert refusals.refusal(client(T0 - timedelta(seconds=1)), T0.timestamp()).code == "client.key_retired"


class FakeFeed:
    def __init__(self, refusals: Refusals):
        self.refusals, self.ready = refusals, threading.Event()


def test_a_process_starts_one_feed_and_is_unsure_until_it_has_read_the_topic(monkeypatch):
    monkeypatch.setattr("zfcommon.revocation.FIRST_READ_WAIT", 0.01)
    started: list[FakeFeed] = []

    def start(bootstrap, refusals):
        started.append(FakeFeed(refusals))
        return started[-1]
    state = ProcessRefusals("broker:9092", start)
    assert state.current() is None and state.current() is None      # waits once, then answers at once
    started[0].ready.set()
    assert state.current() is started[0].refusals
    assert len(started) == 1


def test_a_forked_process_follows_the_topic_itself(monkeypatch):
    monkeypatch.setattr("zfcommon.revocation.FIRST_READ_WAIT", 0.01)
    started: list[FakeFeed] = []

    def start(bootstrap, refusals):
        started.append(FakeFeed(refusals))
        started[-1].ready.set()
        return started[-1]
    state = ProcessRefusals("broker:9092", start)
    state.current()
    state._pid = -1                        # as if this object had been inherited by a forked worker
    state.current()
    assert len(started) == 2

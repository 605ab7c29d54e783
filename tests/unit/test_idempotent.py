"""Idempotency-Key handling: a retry gets the first answer; a reused key for another request is refused."""
import pytest

from zfcommon.idempotency import StoredAnswer
from zfcommon.idempotency import request_hash, run_command
from zfcommon.problem import Unprocessable

from .fakes import UowFactory

ANSWER = (201, {"case_id": "case-1"}, {"Location": "/v1/cases/case-1"})
DIGEST = request_hash("POST", "/v1/cases", b'{"channel": "hotline"}')


def answer(uow):
    return ANSWER


def must_not_run(uow):
    raise AssertionError("the command ran again")


@pytest.mark.parametrize("other", [("PUT", "/v1/cases", b"{}"), ("POST", "/v1/other", b"{}"),
                                   ("POST", "/v1/cases", b"{ }")], ids=["method", "path", "body"])
def test_request_hash_differs_by_method_path_and_body(other):
    assert request_hash(*other) != request_hash("POST", "/v1/cases", b"{}")


def test_request_hash_is_stable():
    assert request_hash("POST", "/v1/cases", b"{}") == request_hash("POST", "/v1/cases", b"{}")


def test_first_request_stores_its_answer_with_the_effects():
    uows = UowFactory()
    assert run_command(uows, "office:li", "k-1", DIGEST, answer) == ANSWER
    assert uows.answers[("office:li", "k-1")] == StoredAnswer(DIGEST, *ANSWER)
    assert uows.made[-1].committed


def test_retry_gets_the_stored_answer_without_running_the_command():
    uows = UowFactory()
    run_command(uows, "office:li", "k-1", DIGEST, answer)
    status, body, headers = run_command(uows, "office:li", "k-1", DIGEST, must_not_run)
    assert (status, body) == ANSWER[:2]
    assert headers == {"Location": "/v1/cases/case-1", "Idempotent-Replayed": "true"}


def test_same_key_for_a_different_request_is_refused():
    uows = UowFactory()
    run_command(uows, "office:li", "k-1", DIGEST, answer)
    other = request_hash("POST", "/v1/cases", b'{"channel": "media"}')
    with pytest.raises(Unprocessable) as refused:
        run_command(uows, "office:li", "k-1", other, must_not_run)
    assert refused.value.status == 422
    assert "Idempotency-Key" in refused.value.body()["errors"]


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_key_outside_1_to_255_characters_is_refused(key):
    with pytest.raises(Unprocessable) as refused:
        run_command(UowFactory(), "office:li", key, DIGEST, must_not_run)
    assert "Idempotency-Key" in refused.value.body()["errors"]


def test_key_of_255_characters_is_accepted():
    uows = UowFactory()
    assert run_command(uows, "office:li", "k" * 255, DIGEST, answer) == ANSWER
    assert ("office:li", "k" * 255) in uows.answers


def test_without_a_key_every_request_runs_and_nothing_is_remembered():
    uows, runs = UowFactory(), []
    for _ in range(2):
        run_command(uows, "office:li", None, DIGEST, lambda uow: runs.append(uow) or ANSWER)
    assert len(runs) == 2
    assert uows.answers == {}


def test_keys_belong_to_one_principal():
    uows = UowFactory()
    run_command(uows, "office:li", "k-1", DIGEST, answer)
    other = (201, {"case_id": "case-2"}, {})
    assert run_command(uows, "channel:desk", "k-1", DIGEST, lambda uow: other) == other


def test_failed_command_leaves_no_answer_so_a_retry_runs_it():
    uows = UowFactory()

    def failing(uow):
        raise RuntimeError("database went away")
    with pytest.raises(RuntimeError):
        run_command(uows, "office:li", "k-1", DIGEST, failing)
    assert uows.answers == {}
    assert run_command(uows, "office:li", "k-1", DIGEST, answer) == ANSWER


def test_losing_a_race_for_the_key_returns_the_winners_answer_and_rolls_ours_back():
    uows = UowFactory()
    winner = StoredAnswer(DIGEST, 201, {"case_id": "case-winner"}, {})

    def racing(uow):
        uows.answers[("office:li", "k-1")] = winner   # a concurrent request commits meanwhile
        return ANSWER
    status, body, headers = run_command(uows, "office:li", "k-1", DIGEST, racing)
    assert (status, body, headers) == (201, {"case_id": "case-winner"}, {"Idempotent-Replayed": "true"})
    assert uows.made[-1].rolled_back and not uows.made[-1].committed

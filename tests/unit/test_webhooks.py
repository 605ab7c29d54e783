"""Standard Webhooks signing and verification (zfcommon.webhooks), against the spec's published vector."""
import pytest

from zfcommon import webhooks

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID, TS, BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_published_vector():
    assert webhooks.sign([SECRET], MSG_ID, TS, BODY).signature == EXPECTED


def test_a_vector_request_verifies_within_tolerance():
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(TS), "webhook-signature": EXPECTED}
    assert webhooks.verify([SECRET], headers, BODY, now=TS + 299) == MSG_ID


def test_rotation_any_listed_signature_from_any_known_secret_verifies():
    new = webhooks.new_secret()
    headers = webhooks.sign([new, SECRET], MSG_ID, TS, BODY).as_dict()
    assert webhooks.verify([SECRET], headers, BODY, now=TS) == MSG_ID
    assert webhooks.verify([webhooks.new_secret(), new], headers, BODY, now=TS) == MSG_ID


@pytest.mark.parametrize("change, reason", [
    (lambda h, b: ({**h, "webhook-timestamp": str(TS - 301)}, b), "5 minutes"),
    (lambda h, b: ({**h, "webhook-timestamp": str(TS + 301)}, b), "5 minutes"),
    (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "Unix seconds"),
    (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), "missing"),
    (lambda h, b: (h, b + b" "), "no webhook-signature matches"),
    (lambda h, b: ({**h, "webhook-id": "msg_other"}, b), "no webhook-signature matches"),
    (lambda h, b: ({**h, "webhook-signature": "v1a," + EXPECTED[3:]}, b), "no webhook-signature matches"),
])
def test_bad_or_stale_requests_are_refused_naming_the_check(change, reason):
    headers, body = change({"webhook-id": MSG_ID, "webhook-timestamp": str(TS), "webhook-signature": EXPECTED},
                           BODY)
    with pytest.raises(webhooks.WebhookVerificationError, match=reason):
        webhooks.verify([SECRET], headers, body, now=TS)


@pytest.mark.parametrize("bad", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_" + "QUJD"])
def test_malformed_secrets_are_refused(bad):
    with pytest.raises(ValueError):
        webhooks.parse_secrets(bad)


def test_several_secrets_in_one_setting():
    assert webhooks.parse_secrets(f"{SECRET}, {SECRET} ") == (SECRET, SECRET)

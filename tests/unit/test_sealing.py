"""Envelope encryption shared by intake and notify (zfcommon.sealing): self-contained sealed values
open only with their master key and in their own place."""
import base64

import pytest

from zfcommon.sealing import Envelope, SealError
from zfcommon.settings import ConfigError

KEY = base64.b64encode(bytes(range(32))).decode()
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def envelope():
    return Envelope.from_setting(KEY, "ZF_NOTIFY_MASTER_KEY")


def test_a_sealed_secret_opens_again_in_its_place(envelope):
    blob = envelope.seal_text(SECRET, "subscription:sub_1")
    assert envelope.open_text(blob, "subscription:sub_1") == SECRET


def test_the_sealed_form_holds_no_clear_secret_and_differs_every_time(envelope):
    first, second = (envelope.seal_text(SECRET, "subscription:sub_1") for _ in range(2))
    assert SECRET.encode() not in first and SECRET[6:].encode() not in first
    assert first != second      # a fresh data key and nonce each time


def test_a_sealed_value_copied_to_another_row_does_not_open(envelope):
    blob = envelope.seal_text(SECRET, "subscription:sub_1")
    with pytest.raises(SealError):
        envelope.open_text(blob, "subscription:sub_2")


def test_another_master_key_cannot_open_it(envelope):
    blob = envelope.seal_text(SECRET, "a")
    with pytest.raises(SealError):
        Envelope(bytes(32)).open_text(blob, "a")


@pytest.mark.parametrize("blob", [b"", b"whsec_clear", b"\x01" + bytes(40), b"\x02" + bytes(200)])
def test_anything_else_is_refused_not_misread(envelope, blob):
    with pytest.raises(SealError):
        envelope.open(blob, b"a")


def test_an_altered_byte_is_detected(envelope):
    blob = bytearray(envelope.seal_text(SECRET, "a"))
    blob[-1] ^= 1
    with pytest.raises(SealError):
        envelope.open_text(bytes(blob), "a")


def test_the_master_key_setting_is_named_when_it_is_wrong():
    with pytest.raises(ConfigError, match="ZF_NOTIFY_MASTER_KEY must be 32 bytes"):
        Envelope.from_setting(base64.b64encode(bytes(16)).decode(), "ZF_NOTIFY_MASTER_KEY")
    with pytest.raises(ConfigError, match="ZF_NOTIFY_MASTER_KEY must be base64"):
        Envelope.from_setting("change-me", "ZF_NOTIFY_MASTER_KEY")
    with pytest.raises(ConfigError, match="ZF_NOTIFY_MASTER_KEY is not set"):
        Envelope.from_setting(" ", "ZF_NOTIFY_MASTER_KEY")

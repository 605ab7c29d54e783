"""Sealing complainant data: master key loading, envelope encryption and crypto-shredding."""
import base64
import json

import pytest
from cryptography.exceptions import InvalidTag

from intake.adapters.contacts import ContactVault, load_master_key
from zfcommon.sealing import Envelope
from zfcommon.settings import ConfigError

from .fakes import MASTER_KEY, FakeKeyConnection

CONTACT = {"name": "张三", "phone": "13800138000", "confidential": True}


@pytest.fixture
def conn():
    return FakeKeyConnection()


@pytest.fixture
def vault(conn):
    return ContactVault(conn, load_master_key(MASTER_KEY))


def test_master_key_must_be_base64():
    with pytest.raises(ConfigError, match="ZF_CONTACT_KEY must be base64"):
        load_master_key("not base64!")


def test_master_key_must_be_set():
    with pytest.raises(ConfigError, match="ZF_CONTACT_KEY is not set"):
        load_master_key("")


@pytest.mark.parametrize("size", [16, 31, 33])
def test_master_key_must_be_32_bytes(size):
    with pytest.raises(ConfigError, match="32 bytes"):
        load_master_key(base64.b64encode(bytes(size)).decode())


def test_master_key_of_32_bytes_loads():
    assert isinstance(load_master_key(MASTER_KEY), Envelope)


def test_sealed_contact_opens_again(vault):
    assert vault.open("case-1", vault.seal("case-1", CONTACT)) == CONTACT


def test_sealed_form_does_not_contain_the_contact(vault):
    sealed = vault.seal("case-1", CONTACT)
    assert b"13800138000" not in base64.b64decode(sealed["ciphertext"])
    assert "13800138000" not in json.dumps(sealed)
    assert "张三" not in json.dumps(sealed, ensure_ascii=False)


def test_each_case_gets_its_own_wrapped_data_key(vault, conn):
    first, second = vault.seal("case-1", CONTACT), vault.seal("case-2", CONTACT)
    assert (first["kid"], second["kid"]) == ("case:case-1", "case:case-2")
    assert conn.keys["case:case-1"] != conn.keys["case:case-2"]
    assert first["ciphertext"] != second["ciphertext"]


def test_destroying_the_data_key_shreds_the_contact(vault, conn):
    sealed = vault.seal("case-1", CONTACT)
    del conn.keys[sealed["kid"]]
    assert vault.open("case-1", sealed) is None


def test_ciphertext_moved_to_another_case_does_not_decrypt(vault):
    sealed = vault.seal("case-1", CONTACT)
    with pytest.raises(InvalidTag):
        vault.open("case-2", sealed)


def test_data_key_does_not_unwrap_under_another_master_key(vault, conn):
    sealed = vault.seal("case-1", CONTACT)
    other = ContactVault(conn, Envelope(bytes(32)))
    with pytest.raises(InvalidTag):
        other.open("case-1", sealed)

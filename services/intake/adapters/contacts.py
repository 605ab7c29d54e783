"""Sealing complainant data (AES-256-GCM, envelope encryption).

Each case gets its own data key, wrapped by the master key from settings and stored in contact_keys;
only the sealed form enters the event store, Kafka and the trail. Destroying the data key erases the
complainant's data everywhere it was copied (crypto-shredding).
"""
from __future__ import annotations

import base64
import json
import os
from typing import Any

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from zfcommon.settings import decode_key


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def load_master_key(encoded: str) -> AESGCM:
    """The AES-256 master key (ZF_CONTACT_KEY) that wraps every case's data key."""
    return AESGCM(decode_key(encoded, "ZF_CONTACT_KEY"))


class ContactVault:
    def __init__(self, conn: psycopg.Connection, master: AESGCM):
        self.conn = conn
        self.master = master

    def seal(self, case_id: str, contact: dict[str, Any]) -> dict[str, str]:
        key = AESGCM.generate_key(bit_length=256)
        wrap_nonce = os.urandom(12)
        kid = f"case:{case_id}"
        wrapped = wrap_nonce + self.master.encrypt(wrap_nonce, key, kid.encode())
        self.conn.execute("INSERT INTO contact_keys (kid, wrapped) VALUES (%s, %s)", (kid, wrapped))
        nonce = os.urandom(12)
        plaintext = json.dumps(contact, ensure_ascii=False, sort_keys=True).encode()
        return {"kid": kid, "nonce": _b64(nonce),
                "ciphertext": _b64(AESGCM(key).encrypt(nonce, plaintext, case_id.encode()))}

    def destroy(self, kid: str) -> None:
        """Crypto-shredding: without its data key the sealed data is noise, wherever it was copied."""
        self.conn.execute("DELETE FROM contact_keys WHERE kid = %s", (kid,))

    def open(self, case_id: str, sealed: dict[str, str]) -> dict[str, Any] | None:
        """The complainant data, or None once the data key has been destroyed."""
        row = self.conn.execute("SELECT wrapped FROM contact_keys WHERE kid = %s", (sealed["kid"],)).fetchone()
        if row is None:
            return None
        wrapped = bytes(row["wrapped"])
        key = self.master.decrypt(wrapped[:12], wrapped[12:], sealed["kid"].encode())
        plaintext = AESGCM(key).decrypt(base64.b64decode(sealed["nonce"]),
                                        base64.b64decode(sealed["ciphertext"]), case_id.encode())
        return json.loads(plaintext)

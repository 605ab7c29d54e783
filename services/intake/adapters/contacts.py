"""Sealing complainant data (envelope encryption, zfcommon.sealing).

Each case gets its own data key, wrapped by intake's master key (ZF_CONTACT_KEY) and stored in
contact_keys; only the sealed form enters the event store, Kafka and the trail. Destroying the data
key erases the complainant's data everywhere it was copied (crypto-shredding).
"""
from __future__ import annotations

import base64
import json
from typing import Any

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from zfcommon import uow
from zfcommon.sealing import Envelope, decrypt, encrypt


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def load_master_key(encoded: str) -> Envelope:
    """intake's AES-256 master key (ZF_CONTACT_KEY): it wraps every case's data key, and seals the
    units' robot addresses (adapters/robots.py)."""
    return Envelope.from_setting(encoded, "ZF_CONTACT_KEY")


class ContactVault:
    def __init__(self, conn: psycopg.Connection, master: Envelope):
        self.conn = conn
        self.master = master

    def seal(self, case_id: str, contact: dict[str, Any]) -> dict[str, str]:
        key = AESGCM.generate_key(bit_length=256)
        kid = f"case:{case_id}"
        uow.write(self.conn, "INSERT INTO contact_keys (kid, wrapped) VALUES (%s, %s)",
                  (kid, self.master.wrap(key, kid)))
        plaintext = json.dumps(contact, ensure_ascii=False, sort_keys=True).encode()
        nonce, ciphertext = encrypt(key, plaintext, case_id.encode())
        return {"kid": kid, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}

    def destroy(self, kid: str) -> None:
        """Crypto-shredding: without its data key the sealed data is noise, wherever it was copied."""
        self.conn.execute("DELETE FROM contact_keys WHERE kid = %s", (kid,))

    def open(self, case_id: str, sealed: dict[str, str]) -> dict[str, Any] | None:
        """The complainant data, or None once the data key has been destroyed."""
        row = uow.read(self.conn, "SELECT wrapped FROM contact_keys WHERE kid = %s", (sealed["kid"],)).fetchone()
        if row is None:
            return None
        key = self.master.unwrap(bytes(row["wrapped"]), sealed["kid"])
        plaintext = decrypt(key, base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]),
                            case_id.encode())
        return json.loads(plaintext)

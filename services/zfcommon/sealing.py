"""Envelope encryption (AES-256-GCM): what a service must keep but must not keep in clear.

A random 256-bit data key encrypts each secret; a master key from the service's settings (intake:
ZF_CONTACT_KEY, notify: ZF_NOTIFY_MASTER_KEY) wraps the data key. The database then only ever holds
ciphertext and wrapped keys: a dump, a backup or a read-only leak of the tables gives nothing without
the master key, which lives in the deployment's secrets, never in the database.

Two ways to keep the wrapped key, one implementation:
- beside the ciphertext, in one self-contained blob (`Envelope.seal` / `Envelope.open`): notify's
  webhook secrets, intake's unit robot addresses — the row is the secret, deleting it is enough;
- in a key table of its own, under a key id (`Envelope.wrap` / `unwrap` with `encrypt` / `decrypt`):
  intake's complainant data, copied into events, Kafka and the trail, where only destroying the
  data key can erase it everywhere at once (crypto-shredding, intake/adapters/contacts.py).

The associated data binds a ciphertext to its place (a case id, a subscription and column): a sealed
value copied into another row does not open there.
"""
from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .settings import ConfigError, decode_key

NONCE = 12                       # bytes: AES-GCM's standard nonce, random per encryption
WRAPPED = NONCE + 32 + 16        # a wrapped data key: nonce, the 32-byte key, the tag
FORMAT = b"\x01"                 # the first byte of a self-contained blob: its layout's version


class SealError(ValueError):
    """A blob that is not ours, or opened with the wrong master key or associated data."""


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext with its tag) of `plaintext` under the data key `key`."""
    nonce = os.urandom(NONCE)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(nonce, ciphertext, aad)


class Envelope:
    """A master key and what it does: wrap data keys, and seal or open self-contained blobs."""

    def __init__(self, master: bytes):
        self._master = AESGCM(master)

    @classmethod
    def from_setting(cls, encoded: str, variable: str) -> "Envelope":
        """The master key from its base64 setting; ConfigError naming `variable` when it is unset or not
        32 bytes (a service that keeps secrets refuses to start without it)."""
        if not encoded.strip():
            raise ConfigError(f"{variable} is not set")
        return cls(decode_key(encoded.strip(), variable))

    def wrap(self, key: bytes, kid: str) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._master.encrypt(nonce, key, kid.encode())

    def unwrap(self, wrapped: bytes, kid: str) -> bytes:
        return self._master.decrypt(wrapped[:NONCE], wrapped[NONCE:], kid.encode())

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """A blob holding its own wrapped data key: format byte, wrapped key, nonce, ciphertext."""
        key = AESGCM.generate_key(bit_length=256)
        nonce, ciphertext = encrypt(key, plaintext, aad)
        return FORMAT + self.wrap(key, aad.decode("utf-8", "surrogateescape")) + nonce + ciphertext

    def open(self, blob: bytes, aad: bytes) -> bytes:
        blob = bytes(blob)
        if blob[:1] != FORMAT or len(blob) < 1 + WRAPPED + NONCE + 16:
            raise SealError("not a sealed value of this format")
        wrapped, rest = blob[1:1 + WRAPPED], blob[1 + WRAPPED:]
        try:
            key = self.unwrap(wrapped, aad.decode("utf-8", "surrogateescape"))
            return decrypt(key, rest[:NONCE], rest[NONCE:], aad)
        except Exception as exc:    # InvalidTag: another master key, another row, or altered bytes
            raise SealError("the sealed value does not open with this master key and associated data") from exc

    def seal_text(self, text: str, aad: str) -> bytes:
        return self.seal(text.encode(), aad.encode())

    def open_text(self, blob: bytes, aad: str) -> str:
        return self.open(blob, aad.encode()).decode()

"""Encrypted columns (AES-256-GCM) and keyed blind indexes (HMAC-SHA256).

An ``Encrypted`` column stores ``<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``; the key id
lets old values be read after a new key becomes current (``pingan keys rotate`` re-encrypts
them). The keyring travels with the engine (``attach_keyring``), not in a global, so every
platform and every test uses its own keys.
"""

import base64
import hashlib
import hmac
import os
import unicodedata

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine
from sqlalchemy.types import TypeDecorator

from core.security.secrets import Secrets

_KEYRING_ATTRIBUTE = "pingan_keyring"


class Keyring:
    """Encrypts with the current key, decrypts with whichever key a value names."""

    def __init__(self, secrets: Secrets) -> None:
        self.keys = secrets.encryption_keys
        self.current = secrets.current_key_id
        self.index_key = secrets.index_key
        self._ciphers = {kid: AESGCM(key) for kid, key in self.keys.items()}

    def encrypt(self, plaintext: str) -> str:
        """Encrypt text with the current key and a fresh 96-bit nonce."""
        nonce = os.urandom(12)
        sealed = self._ciphers[self.current].encrypt(nonce, plaintext.encode(), None)
        return f"{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str) -> str:
        """Decrypt a stored value; raises if it was tampered with or its key is gone."""
        kid, _, encoded = stored.partition(":")
        if kid not in self._ciphers:
            raise KeyError(f"encryption key {kid!r} is not configured")
        raw = base64.b64decode(encoded)
        return self._ciphers[kid].decrypt(raw[:12], raw[12:], None).decode()

    def key_of(self, stored: str) -> str:
        """The key id a stored value was encrypted with."""
        return stored.partition(":")[0]

    def blind_index(self, value: str, purpose: str) -> str:
        """A keyed hash for equality search and uniqueness, separate per purpose.

        An ID number has too few candidates per person for a plain hash to hide it; without
        the key, this one cannot be recomputed.
        """
        normal = unicodedata.normalize("NFKC", value).strip().upper()
        digest = hmac.new(self.index_key, f"{purpose}\x00{normal}".encode(), hashlib.sha256)
        return digest.hexdigest()


def attach_keyring(engine: Engine, keyring: Keyring) -> None:
    """Make ``keyring`` the one ``Encrypted`` columns use on this engine."""
    setattr(engine.dialect, _KEYRING_ATTRIBUTE, keyring)


def keyring_of(dialect: sa.Dialect) -> Keyring:
    """The keyring attached to an engine's dialect."""
    keyring = getattr(dialect, _KEYRING_ATTRIBUTE, None)
    if keyring is None:
        raise RuntimeError(
            "no keyring attached to this engine (core.security.fields.attach_keyring)"
        )
    return keyring


class Encrypted(TypeDecorator[str]):
    """A text column encrypted at rest; Python sees plain text."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        """Encrypt on the way in."""
        return None if value is None else keyring_of(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        """Decrypt on the way out."""
        return None if value is None else keyring_of(dialect).decrypt(value)

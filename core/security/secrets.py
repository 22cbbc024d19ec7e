"""The deployment's secrets: session/CSRF key, field-encryption keys, blind-index key.

Set them in production (``PINGAN_SECRET_KEY``, ``PINGAN_ENCRYPTION_KEYS``,
``PINGAN_INDEX_KEY``). An embedded SQLite installation that has none gets random ones on
first start, kept in ``var/secrets.json`` (mode 0600) beside its database: there is never a
default key.
"""

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from core.plugins import StartupError
from core.settings import Settings


class SecretsError(StartupError):
    """The secrets are missing or malformed; the message says which setting."""


@dataclass(frozen=True)
class Secrets:
    """Key material, decoded."""

    secret_key: str
    encryption_keys: dict[str, bytes]  # key id → 32-byte AES key; first is current
    current_key_id: str
    index_key: bytes


def new_encryption_key() -> str:
    """A fresh ``kid:base64`` entry for ``PINGAN_ENCRYPTION_KEYS``."""
    return f"k{secrets.token_hex(3)}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}"


def parse_encryption_keys(value: str) -> tuple[dict[str, bytes], str]:
    """Parse ``kid:base64key,kid2:base64key2`` (newest first)."""
    keys: dict[str, bytes] = {}
    for entry in (part.strip() for part in value.split(",") if part.strip()):
        kid, _, encoded = entry.partition(":")
        try:
            key = base64.urlsafe_b64decode(encoded)
        except ValueError as error:
            raise SecretsError(f"PINGAN_ENCRYPTION_KEYS: key {kid!r} is not base64") from error
        if not kid or len(key) != 32:
            raise SecretsError(f"PINGAN_ENCRYPTION_KEYS: key {kid!r} must be 32 bytes, base64")
        keys[kid] = key
    if not keys:
        raise SecretsError("PINGAN_ENCRYPTION_KEYS is empty")
    return keys, next(iter(keys))


def load_secrets(settings: Settings) -> Secrets:
    """The configured secrets, or the embedded installation's own generated ones."""
    values = {
        "secret_key": settings.secret_key,
        "encryption_keys": settings.encryption_keys,
        "index_key": settings.index_key,
    }
    if not all(values.values()):
        if not settings.effective_database_url.startswith("sqlite"):
            missing = [f"PINGAN_{name.upper()}" for name, value in values.items() if not value]
            raise SecretsError(f"set {', '.join(missing)} (required with a server database)")
        stored = _embedded_secrets(settings.var_dir / "secrets.json")
        values = {name: value or stored[name] for name, value in values.items()}
    keys, current = parse_encryption_keys(values["encryption_keys"])
    try:
        index_key = base64.urlsafe_b64decode(values["index_key"])
    except ValueError as error:
        raise SecretsError("PINGAN_INDEX_KEY is not base64") from error
    if len(index_key) < 32:
        raise SecretsError("PINGAN_INDEX_KEY must decode to at least 32 bytes")
    return Secrets(values["secret_key"], keys, current, index_key)


def _embedded_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = {
        "secret_key": secrets.token_urlsafe(48),
        "encryption_keys": new_encryption_key(),
        "index_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(generated, handle)
    return generated

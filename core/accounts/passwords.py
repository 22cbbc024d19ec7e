"""Password hashing (Argon2id) and the password rules (ASVS 6.2)."""

import gzip
import secrets
import string
from functools import cache
from pathlib import Path

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from core.errors import DomainError, FieldError
from core.i18n import text

COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"
MAX_LENGTH = 128

# OWASP's Argon2id floor: 19 MiB memory, 2 iterations, 1 lane. Verifying reads the cost from
# the stored hash, so raising it later still accepts the hashes stored before.
ARGON2ID = PasswordHash((Argon2Hasher(memory_cost=19_456, time_cost=2, parallelism=1),))
_hasher = ARGON2ID


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches; a malformed stored hash is a mismatch, not an error."""
    try:
        return _hasher.verify(password, stored)
    except Exception:  # noqa: BLE001 - an unreadable hash must fail closed
        return False


# A hash to verify against when the account does not exist, so timing does not tell.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@cache
def _common() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def check_password_rules(
    password: str, *, username: str, min_length: int, field: str = "password"
) -> None:
    """Refuse a weak new password, naming the rule it breaks.

    Raises:
        DomainError: too short, too long, all digits, a common password, or close to the
            username.
    """
    problems: list[FieldError] = []
    lowered = password.lower()
    if len(password) < min_length:
        problems.append(
            FieldError(
                field,
                "too_short",
                text(f"至少 {min_length} 个字符", f"at least {min_length} characters"),
            )
        )
    if len(password) > MAX_LENGTH:
        problems.append(
            FieldError(
                field,
                "too_long",
                text(f"最多 {MAX_LENGTH} 个字符", f"at most {MAX_LENGTH} characters"),
            )
        )
    if password.isdigit():
        problems.append(
            FieldError(field, "all_digits", text("不能全是数字", "must not be all digits"))
        )
    if lowered in _common():
        problems.append(
            FieldError(
                field, "common", text("这是常见密码，请换一个", "this is a commonly used password")
            )
        )
    if username and (username.lower() in lowered or lowered in username.lower()):
        problems.append(
            FieldError(
                field, "like_username", text("不能包含用户名", "must not contain the username")
            )
        )
    if problems:
        message = text("密码不符合要求", "The password does not meet the rules")
        raise DomainError(message, "weak_password", 400, problems)


def generate_password(length: int = 16) -> str:
    """A random one-time password for a new or reset account."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate

"""Generating secrets, their digests and their prefixes. Nothing else touches `secrets`.

Every secret is 32 random bytes (256 bits) behind a prefix that names the environment
and the kind of secret, so that a leaked value is recognisable by scanners and a
sandbox secret presented to production can be refused with a clear message.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

ENVIRONMENT_TAGS = {"sandbox": "sbx", "production": "live"}


class Kind(StrEnum):
    CLIENT_ID = "ci"
    CLIENT_SECRET = "cs"  # noqa: S105
    SERVICE_ACCOUNT_PASSWORD = "sap"  # noqa: S105
    API_KEY = "ak"
    ACCESS_TOKEN = "at"  # noqa: S105
    SIGNUP = "su"


def environment_tag(environment: str | None = None) -> str:
    return ENVIRONMENT_TAGS[environment or settings.PORTAL_ENVIRONMENT]


def prefix(kind: Kind, environment: str | None = None) -> str:
    return f"tng_{environment_tag(environment)}_{kind.value}_"


def generate(kind: Kind) -> str:
    """A new 256-bit secret of this kind, with this deployment's prefix."""
    return prefix(kind) + secrets.token_urlsafe(32)


def generate_public_id(kind: Kind) -> str:
    """A public identifier (client ID): prefixed and unguessable, but not a secret."""
    return prefix(kind) + secrets.token_hex(12)


def digest(value: str) -> str:
    """SHA-256 of a high-entropy secret, for storage and lookup by value."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def digest_matches(value: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(value), expected_digest)


def other_environment(value: str) -> str | None:
    """The environment a secret was made for, if it is not this deployment's."""
    for prefix_of_environment, environment in _other_prefixes(settings.PORTAL_ENVIRONMENT):
        if value.startswith(prefix_of_environment):
            return environment
    return None


@functools.cache
def _other_prefixes(here: str) -> tuple[tuple[str, str], ...]:
    # Asked twice on every API call, so built once per environment.
    return tuple(
        (f"tng_{tag}_", environment) for environment, tag in ENVIRONMENT_TAGS.items() if environment != here
    )


def random_suffix(length: int = 8) -> str:
    """Readable random characters (no look-alikes) for generated usernames."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def reveal_token() -> str:
    """A random 128-bit name for a one-time reveal page. Not a secret: it opens nothing."""
    return secrets.token_urlsafe(16)


def seal(secret: str) -> tuple[str, str]:
    """Encrypt `secret` under a new random key: returns (ciphertext, key), each useless alone.

    The key is URL-safe base64 without its `=` padding, so that it is a plain cookie value.
    """
    key = Fernet.generate_key()
    ciphertext = Fernet(key).encrypt(secret.encode("utf-8", "surrogatepass"))
    return ciphertext.decode("ascii"), key.decode("ascii").rstrip("=")


def unseal(ciphertext: str, key: str, *, max_age_seconds: int) -> str | None:
    """The secret `seal` encrypted, or None when `key` is not its key, is malformed or
    the ciphertext is older than `max_age_seconds`."""
    try:
        fernet = Fernet(key + "=" * (-len(key) % 4))
        plaintext = fernet.decrypt(ciphertext.encode("ascii"), ttl=max_age_seconds)
    except (InvalidToken, ValueError, TypeError):
        return None
    return plaintext.decode("utf-8", "surrogatepass")

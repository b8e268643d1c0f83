"""Token-endpoint errors beyond RFC 6749's, in oauthlib's shape (JSON body, status)."""

from __future__ import annotations

from typing import Any

from oauthlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error

from credentials import secrets as credential_secrets
from credentials.oauth import dpop


class RetryLaterError(OAuth2Error):
    """429 (unless a subclass says otherwise) with Retry-After: the request may succeed
    later, unchanged."""

    status_code = 429

    def __init__(self, *, retry_after: int, **kwargs: Any) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(**kwargs)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class TooManyRequestsError(RetryLaterError):
    """The once-a-day rule: the previous token still has long to live."""

    error = "too_many_requests"


class TooManyAttemptsError(RetryLaterError):
    """Brute-force throttling: too many failed authentications from this address."""

    error = "too_many_attempts"
    description = "Too many failed attempts from this address; try again later."


class TemporarilyUnavailableError(RetryLaterError):
    """503 with Retry-After: a check this request needs cannot be made now, because the
    shared cache is unreachable (RFC 6749 4.1.2.1's `temporarily_unavailable`)."""

    error = "temporarily_unavailable"
    status_code = 503


class InvalidDPoPProofError(OAuth2Error):
    """The DPoP proof is missing where required, or refused (RFC 9449 §5)."""

    error = "invalid_dpop_proof"
    status_code = 400


class UseDPoPNonceError(InvalidDPoPProofError):
    """The proof needs the server's current nonce, sent in DPoP-Nonce (RFC 9449 §8)."""

    error = "use_dpop_nonce"

    @property
    def headers(self) -> dict[str, str]:
        return {"DPoP-Nonce": dpop.current_nonce()}


class UnsupportedMediaError(InvalidRequestError):
    description = "The request body must be application/x-www-form-urlencoded."


def wrong_environment_description(value: str, what: str) -> str | None:
    """A clear refusal for a secret of the other environment, or None if it is ours.

    The wording never echoes the secret itself.
    """
    environment = credential_secrets.other_environment(value)
    if environment is None:
        return None
    here = "production" if environment == "sandbox" else "sandbox"
    return (
        f"This {what} is a {environment} credential; it cannot be used in {here}. "
        f"Use credentials created in the {here} portal."
    )

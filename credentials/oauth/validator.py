"""oauthlib's RequestValidator bound to the credential models.

oauthlib runs the protocol (parameter checks, grant dispatch, error bodies); this
class answers its questions from the database: is this client authentic, is this
service account's password right, may this client use this grant, and stores the
token it generated (as a digest only, through credentials.services).
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.utils import timezone
from oauthlib.common import Request
from oauthlib.oauth2 import RequestValidator
from oauthlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)

from credentials import secrets as credential_secrets
from credentials import selectors, services
from credentials.models import OAuthClient, ServiceAccount
from credentials.oauth.errors import (
    InvalidDPoPProofError,
    TooManyRequestsError,
    wrong_environment_description,
)

PASSWORD_GRANT = "password"  # noqa: S105
CLIENT_CREDENTIALS_GRANT = "client_credentials"
# Where save_bearer_token leaves the AccessToken it stored, in the token endpoint's
# `credentials` dict (oauthlib's request.extra_credentials).
ISSUED = "issued"
# Where the token view puts the thumbprint of a verified DPoP proof's key.
DPOP_JKT = "dpop_jkt"
DPOP_TOKEN_TYPE = "DPoP"  # noqa: S105  (RFC 9449's token type, not a secret)


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """The (user, password) pair of an HTTP Basic Authorization header, if that is what it is.

    RFC 6749 2.3.1 form-encodes both parts before Basic encoding; decode that too.
    Raises ValueError for a Basic header that cannot be decoded.
    """
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("Malformed Basic credentials.") from exc
    user, separator, password = decoded.partition(":")
    if not separator:
        raise ValueError("Malformed Basic credentials.")
    return unquote_plus(user), unquote_plus(password)


def _has_nul(value: str) -> bool:
    """PostgreSQL refuses NUL in text parameters, so a value holding one is never looked
    up: it matches nothing, and fails like any other wrong value (counted by the throttle)."""
    return "\x00" in value


@functools.cache
def _decoy_hash() -> str:
    hasher = services.service_account_password_hasher()
    return hasher.encode(
        credential_secrets.generate(credential_secrets.Kind.SERVICE_ACCOUNT_PASSWORD), hasher.salt()
    )


def live_token(token: str | None, scopes: list[str]) -> tuple[selectors.LiveToken | None, str | None]:
    """The live token with this value and every one of `scopes`, or None and, when there is
    more to say than "unknown, expired or revoked", why. For Bearer and DPoP tokens alike."""
    if not token:
        return None, None
    description = wrong_environment_description(token, "access token")
    if description:
        return None, description
    live = selectors.live_token_by_value(token=token)
    if live is None or (scopes and not set(scopes) <= set(live.scope.split())):
        return None, None
    return live, None


class PortalRequestValidator(RequestValidator):
    """Every client is confidential: each request authenticates with its client secret."""

    # --- Client authentication -------------------------------------------------

    def client_authentication_required(self, request: Request, *args: Any, **kwargs: Any) -> bool:
        return True

    def authenticate_client(self, request: Request, *args: Any, **kwargs: Any) -> bool:
        try:
            basic = basic_credentials(request.headers.get("Authorization"))
        except ValueError:
            return False
        if basic is not None:
            if request.client_secret is not None:
                raise InvalidRequestError(
                    description="Use one client authentication method: HTTP Basic or the request body.",
                    request=request,
                )
            if request.client_id is not None and request.client_id != basic[0]:
                raise InvalidRequestError(
                    description="The client_id parameter does not match the HTTP Basic credentials.",
                    request=request,
                )
            client_id, secret = basic
        else:
            client_id, secret = request.client_id, request.client_secret
        if not client_id or not secret:
            return False
        for value, what in ((client_id, "client ID"), (secret, "client secret")):
            description = wrong_environment_description(value, what)
            if description:
                raise InvalidClientError(description=description, request=request)
        client = None if _has_nul(client_id) else selectors.oauth_client_for_token(client_id=client_id)
        if client is None or not credential_secrets.digest_matches(secret, client.secret_digest):
            return False
        if not client.is_active:
            raise InvalidClientError(
                description="These client credentials were deactivated and can no longer be used.",
                request=request,
            )
        request.client = client
        request.client_id = client.client_id
        return True

    def authenticate_client_id(self, client_id: str, request: Request, *args: Any, **kwargs: Any) -> bool:
        # There are no public clients: a client ID alone never authenticates.
        return False

    # --- Token requests ----------------------------------------------------------

    def validate_grant_type(
        self,
        client_id: str,
        grant_type: str,
        client: OAuthClient,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if not client.team.oauth_enabled:
            raise UnauthorizedClientError(
                description="OAuth is not enabled for this team; ask your Tango representative.",
                request=request,
            )
        if grant_type == PASSWORD_GRANT:
            return True
        if grant_type == CLIENT_CREDENTIALS_GRANT:
            if not client.legacy:
                raise UnauthorizedClientError(
                    description=(
                        "Client credentials created since 2025-05-14 need a service account: "
                        "use grant_type=password with its username and password."
                    ),
                    request=request,
                )
            return True
        return False

    def validate_user(
        self,
        username: str,
        password: str,
        client: OAuthClient,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        description = wrong_environment_description(password, "service-account password")
        if description:
            raise InvalidGrantError(description=description, request=request)
        account = (
            None
            if _has_nul(username)
            else selectors.service_account_for_token(team=client.team, username=username)
        )
        if account is None:
            # As slow as a real check, so timing does not reveal which usernames exist.
            services.service_account_password_hasher().verify(password, _decoy_hash())
            ok = False
        else:
            ok = services.service_account_check_password(account, password)
        if not ok:
            raise InvalidGrantError(
                description=(
                    "The service-account username or password is wrong, or the account was deleted "
                    "or belongs to another team."
                ),
                request=request,
            )
        request.user = account
        return True

    def get_default_scopes(self, client_id: str, request: Request, *args: Any, **kwargs: Any) -> list[str]:
        return list(settings.TOKEN_SCOPES)

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: OAuthClient,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return bool(scopes) and set(scopes) <= set(settings.TOKEN_SCOPES)

    def save_bearer_token(self, token: dict[str, Any], request: Request, *args: Any, **kwargs: Any) -> None:
        """Store the token, bound to the DPoP key the token view verified a proof of, if any.

        oauthlib serialises `token` after this returns: a bound token is answered with
        token_type DPoP. A client that requires DPoP gets no token without a proof.
        """
        account: ServiceAccount | None = request.user if request.grant_type == PASSWORD_GRANT else None
        jkt = (request.extra_credentials or {}).get(DPOP_JKT, "")
        if request.client.require_dpop and not jkt:
            raise InvalidDPoPProofError(
                description="These client credentials require DPoP: send a DPoP proof with the request.",
                request=request,
            )
        try:
            issued = services.access_token_issue(
                token=token["access_token"],
                client=request.client,
                service_account=account,
                audience=request.audience,
                scope=token["scope"],
                expires_in=int(token["expires_in"]),
                jkt=jkt,
            )
        except services.TokenRenewalTooEarly as exc:
            seconds = (exc.retry_at - timezone.now()).total_seconds()
            raise TooManyRequestsError(
                retry_after=math.ceil(seconds), description=str(exc), request=request
            ) from exc
        except services.TokenRefused as exc:
            raise InvalidGrantError(description=str(exc), request=request) from exc
        if jkt:
            token["token_type"] = DPOP_TOKEN_TYPE
        if request.extra_credentials is not None:
            # The token view passed this dict: it records the token's use (credentials.usage).
            request.extra_credentials[ISSUED] = issued

    # --- Protected resources, revocation, introspection -----------------------

    def validate_bearer_token(self, token: str | None, scopes: list[str], request: Request) -> bool:
        live, description = live_token(token, scopes)
        if live is None:
            request.invalid_token_description = description
            return False
        request.live_token = live
        return True

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Request, *args: Any, **kwargs: Any
    ) -> None:
        services.access_token_revoke(client=request.client, token=token)

    def introspect_token(
        self, token: str, token_type_hint: str | None, request: Request, *args: Any, **kwargs: Any
    ) -> dict[str, Any] | None:
        live = selectors.live_token_by_value(token=token)
        # Another client's token is reported inactive, exactly like an unknown one.
        if live is None or live.client_pk != request.client.pk:
            return None
        return {
            "scope": live.scope,
            "client_id": live.client_id,
            "username": live.service_account,
            "token_type": DPOP_TOKEN_TYPE if live.jkt else "Bearer",
            **({"cnf": {"jkt": live.jkt}} if live.jkt else {}),
            "exp": int(live.expires_at.timestamp()),
            "iat": int(live.issued_at.timestamp()),
            "aud": live.audience,
            "sub": live.service_account or live.client_id,
            "team": live.team_slug,
        }

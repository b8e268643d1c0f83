"""HTTP glue for the OAuth endpoints and the protected API.

Each view hands the raw request to an oauthlib endpoint (credentials.oauth.server)
and turns oauthlib's (headers, body, status) into a response. What oauthlib does
not know about lives here: brute-force throttling, the legacy-grant deprecation
headers, the authentication challenges this service sends, and the 503 answered when a
DPoP proof cannot be checked for replay because the shared cache is down.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error

from credentials import selectors, services, usage
from credentials.models import ApiKey, CredentialType
from credentials.oauth import dpop, throttle
from credentials.oauth.errors import (
    InvalidDPoPProofError,
    TemporarilyUnavailableError,
    TooManyAttemptsError,
    UseDPoPNonceError,
    wrong_environment_description,
)
from credentials.oauth.server import endpoints
from credentials.oauth.validator import (
    CLIENT_CREDENTIALS_GRANT,
    DPOP_JKT,
    ISSUED,
    basic_credentials,
    live_token,
)
from credentials.selectors import LiveToken
from tango_portal.accounts.sudo import sudo_exempt
from tango_portal.core import security_log
from tango_portal.core.http import client_ip

REALM = "Tango API"
# Failures that mean someone presented a wrong secret: these feed the throttle.
CREDENTIAL_FAILURES = {
    "invalid_client": throttle.Outcome.CLIENT_FAILED,
    "invalid_grant": throttle.Outcome.ACCOUNT_FAILED,
}
Triple = tuple[dict[str, str], str, int]
# While the shared cache is down no DPoP proof is accepted (dpop.ReplayCheckUnavailable).
REPLAY_CHECK_UNAVAILABLE = (
    "DPoP proofs cannot be checked for replay at the moment, so none is accepted; "
    "try again shortly with a new proof."
)
REPLAY_CHECK_RETRY_AFTER = 30


def _form(body: str) -> dict[str, list[str]]:
    try:
        return parse_qs(body, keep_blank_values=True)
    except ValueError:
        return {}


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _presented(request: HttpRequest, body: str) -> tuple[throttle.Presented, dict[str, list[str]]]:
    form = _form(body)
    try:
        basic = basic_credentials(request.headers.get("Authorization"))
    except ValueError:
        basic = None
    client_id = basic[0] if basic else _first(form, "client_id")
    username = _first(form, "username")
    return throttle.Presented(address=client_ip(request), client_id=client_id, username=username), form


def _error_triple(error: OAuth2Error) -> Triple:
    return {"Content-Type": "application/json", **error.headers}, error.json, error.status_code


def _replay_check_unavailable(request: HttpRequest, error: dpop.ReplayCheckUnavailable) -> Triple:
    """503 temporarily_unavailable: failing open would let a proof be replayed."""
    security_log.event(
        "cache_unavailable",
        request=request,
        use="dpop_replay_check",
        fallback="none, refused",
        reason=str(error),
    )
    return _error_triple(
        TemporarilyUnavailableError(
            retry_after=REPLAY_CHECK_RETRY_AFTER, description=REPLAY_CHECK_UNAVAILABLE
        )
    )


def _call(endpoint_method: Any, request: HttpRequest, body: str) -> Triple:
    try:
        headers, response_body, status = endpoint_method(
            request.build_absolute_uri(), http_method=request.method, body=body, headers=dict(request.headers)
        )
    except OAuth2Error as error:
        # Raised outside the grant's own error handling: our endpoint-level checks,
        # and refusals at save time (once a day, a credential deleted meanwhile).
        return _error_triple(error)
    return headers, response_body, status


def _respond(triple: Triple) -> HttpResponse:
    headers, body, status = triple
    response = HttpResponse(body, status=status, content_type=headers.get("Content-Type", "application/json"))
    for name, value in headers.items():
        if name.lower() == "content-type":
            continue
        response[name] = value
    # Every answer of these endpoints is about secrets: nothing may cache it.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    if status == HTTPStatus.UNAUTHORIZED:
        # oauthlib answers with a Bearer challenge; these endpoints authenticate clients
        # by HTTP Basic (or the body), so challenge for that (RFC 6749 5.2).
        response["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    return response


def _body_text(request: HttpRequest) -> str | None:
    try:
        return request.body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _error_code(triple: Triple) -> str | None:
    try:
        data = json.loads(triple[1]) if triple[1] else {}
    except ValueError:
        return None
    return data.get("error") if isinstance(data, dict) else None


def _throttled_call(request: HttpRequest, endpoint_method: Any) -> tuple[Triple, dict[str, list[str]]]:
    body = _body_text(request)
    if body is None:
        return _error_triple(InvalidRequestError(description="The request body must be UTF-8.")), {}
    presented, form = _presented(request, body)
    reservation = throttle.reserve(presented)
    if reservation.retry_after is not None:
        security_log.event(
            "token_throttled",
            request=request,
            client_id=presented.client_id,
            username=presented.username,
            retry_after=reservation.retry_after,
        )
        return _error_triple(TooManyAttemptsError(retry_after=reservation.retry_after)), form
    try:
        triple = _call(endpoint_method, request, body)
    except BaseException:
        reservation.settle(throttle.Outcome.OK)
        raise
    error = _error_code(triple)
    reservation.settle(CREDENTIAL_FAILURES.get(error or "", throttle.Outcome.OK))
    if error is not None:
        security_log.event(
            "token_request_failed",
            request=request,
            error=error,
            client_id=presented.client_id,
            username=presented.username,
        )
    return triple, form


@csrf_exempt
@require_POST
@sudo_exempt("machine endpoint: the client authenticates every request, no session is used")
def token(request: HttpRequest) -> HttpResponse:
    """POST /oauth/token: a token for client credentials and a service account; bound to
    a DPoP key (token_type DPoP) when the request carries a valid DPoP proof."""
    issued: dict[str, Any] = {}
    refused = _token_request_proof(request, issued)
    if refused is not None:
        response = _respond(refused)
    else:
        triple, form = _throttled_call(
            request, functools.partial(endpoints().token.create_token_response, credentials=issued)
        )
        response = _respond(triple)
    if settings.DPOP_NONCES:
        response["DPoP-Nonce"] = dpop.current_nonce()
    if refused is not None:
        return response
    if triple[2] == HTTPStatus.OK and (row := issued.get(ISSUED)) is not None:
        usage.record(
            request,
            usage.token_credentials(
                team_id=row.client.team_id, client_pk=row.client_id, service_account_pk=row.service_account_id
            ),
            last_used_stamped=True,
        )
    if triple[2] == HTTPStatus.OK and form.get("grant_type") == [CLIENT_CREDENTIALS_GRANT]:
        cutoff = services.legacy_cutoff()
        response["Deprecation"] = f"@{int(cutoff.timestamp())}"
        response["Warning"] = (
            '299 - "The client_credentials grant is deprecated: create a service account and use '
            f'grant_type=password (migration deadline {settings.OAUTH_MIGRATION_DEADLINE})."'
        )
    return response


def _token_request_proof(request: HttpRequest, issued: dict[str, Any]) -> Triple | None:
    """Verify a token request's DPoP proof, if it has one, noting its key's thumbprint in
    `issued` for the validator; the refusal to answer when the proof is not valid."""
    value = request.headers.get("DPoP")
    if value is None:
        return None
    try:
        proof = dpop.verify(value, method="POST", uri=request.build_absolute_uri(request.path))
    except dpop.NonceRequired as missing:
        return _error_triple(UseDPoPNonceError(description=str(missing)))
    except dpop.InvalidProof as invalid:
        security_log.event("dpop_proof_refused", request=request, reason=str(invalid))
        return _error_triple(InvalidDPoPProofError(description=str(invalid)))
    except dpop.ReplayCheckUnavailable as unavailable:
        return _replay_check_unavailable(request, unavailable)
    issued[DPOP_JKT] = proof.jkt
    return None


@csrf_exempt
@require_POST
@sudo_exempt("machine endpoint: the client authenticates every request, no session is used")
def revoke(request: HttpRequest) -> HttpResponse:
    """POST /oauth/revoke (RFC 7009): a client revokes one of its own tokens."""
    triple, _form_data = _throttled_call(request, endpoints().revocation.create_revocation_response)
    return _respond(triple)


@csrf_exempt
@require_POST
@sudo_exempt("machine endpoint: the client authenticates every request, no session is used")
def introspect(request: HttpRequest) -> HttpResponse:
    """POST /oauth/introspect (RFC 7662): is this token of mine active, and what is it."""
    triple, _form_data = _throttled_call(request, endpoints().introspection.create_introspect_response)
    return _respond(triple)


# --- The protected API -------------------------------------------------------------

UNKNOWN_TOKEN = "The access token is unknown, expired or revoked."  # noqa: S105


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _unauthorized(
    scheme: str, error: str | None = None, description: str | None = None, *, extra: Sequence[str] = ()
) -> JsonResponse:
    """401 with a challenge for `scheme`, then the `extra` parameters; error details only
    if credentials were presented."""
    body: dict[str, str] = {}
    params = []
    if error:
        body["error"] = error
        params.append(f'error="{error}"')
        if description:
            body["error_description"] = description
            # A quoted-string: no double quote may end it early.
            params.append(f'error_description="{description.replace(chr(34), chr(39))}"')
    if scheme == "Basic" or not error:
        params.insert(0, f'realm="{REALM}"')
    params.extend(extra)
    response = JsonResponse(body, status=HTTPStatus.UNAUTHORIZED)
    response["WWW-Authenticate"] = f"{scheme} {', '.join(params)}"
    response["Cache-Control"] = "no-store"
    return response


def _bearer_unauthorized(description: str | None = None) -> JsonResponse:
    return _unauthorized(
        "Bearer",
        "invalid_token",
        description or UNKNOWN_TOKEN,
    )


def _dpop_unauthorized(error: str, description: str) -> JsonResponse:
    """401 with a DPoP challenge (RFC 9449 §7.1) naming the algorithms proofs may use."""
    response = _unauthorized("DPoP", error, description, extra=[f'algs="{dpop.ALGS_VALUE}"'])
    if error == UseDPoPNonceError.error:
        response["DPoP-Nonce"] = dpop.current_nonce()
    return response


def _authenticate_dpop(request: HttpRequest, authorization: str) -> LiveToken | HttpResponse:
    """A DPoP-bound token (`Authorization: DPoP <token>`) and a fresh proof of its key."""
    value = authorization.split(" ", 1)[1].strip() if " " in authorization else ""
    proof = request.headers.get("DPoP")
    if not value or " " in value:
        return _dpop_unauthorized("invalid_token", "Malformed DPoP authorization: send DPoP <access token>.")
    if proof is None:
        return _dpop_unauthorized("invalid_dpop_proof", "A DPoP token needs a DPoP proof in the DPoP header.")
    try:
        verified = dpop.verify(
            proof,
            method=request.method or "GET",
            uri=request.build_absolute_uri(request.path),
            access_token=value,
        )
    except dpop.NonceRequired as missing:
        return _dpop_unauthorized(UseDPoPNonceError.error, str(missing))
    except dpop.InvalidProof as invalid:
        security_log.event("dpop_proof_refused", request=request, reason=str(invalid))
        return _dpop_unauthorized("invalid_dpop_proof", str(invalid))
    except dpop.ReplayCheckUnavailable as unavailable:
        return _respond(_replay_check_unavailable(request, unavailable))
    live, description = live_token(value, list(settings.TOKEN_SCOPES))
    if live is None:
        return _dpop_unauthorized(
            "invalid_token", description or "The access token is unknown, expired or revoked."
        )
    if not live.jkt:
        return _dpop_unauthorized(
            "invalid_token", "This is a bearer token: send it as Authorization: Bearer."
        )
    if live.jkt != verified.jkt:
        return _dpop_unauthorized(
            "invalid_dpop_proof", "The DPoP proof is signed by another key than the token is bound to."
        )
    return live


def _token_identity(live: LiveToken) -> dict[str, Any]:
    return {
        "team": live.team_name,
        "team_slug": live.team_slug,
        "environment": settings.PORTAL_ENVIRONMENT,
        "authentication": "dpop" if live.jkt else "bearer",
        "client_id": live.client_id,
        "service_account": live.service_account,
        "scope": live.scope,
        "audience": live.audience,
        "expires_at": _iso(live.expires_at),
    }


def _api_key_identity(key: ApiKey) -> dict[str, Any]:
    return {
        "team": key.team.name,
        "team_slug": key.team.slug,
        "environment": settings.PORTAL_ENVIRONMENT,
        "authentication": "api_key",
        "api_key": key.masked,
        "platform_name": key.platform_name,
        "client_id": None,
        "service_account": None,
        "scope": " ".join(settings.TOKEN_SCOPES),
        "expires_at": None,
    }


def _api_key_unauthorized(description: str) -> JsonResponse:
    return _unauthorized("Basic", "invalid_api_key", description)


def _authenticate_api_key(authorization: str) -> ApiKey | JsonResponse:
    """A legacy API key by HTTP Basic: the team slug as username, the key as password."""
    try:
        basic = basic_credentials(authorization)
    except ValueError:
        basic = None
    if basic is None:
        return _api_key_unauthorized("Malformed Basic credentials.")
    team_slug, value = basic
    description = wrong_environment_description(value, "API key")
    if description:
        return _api_key_unauthorized(description)
    key = selectors.api_key_by_value(key=value)
    if key is None or key.team.slug != team_slug:
        return _api_key_unauthorized("Unknown team or API key.")
    if not key.is_active:
        return _api_key_unauthorized("This API key was deactivated and can no longer be used.")
    return key


def _used_token_identity(request: HttpRequest, live: LiveToken) -> dict[str, Any]:
    usage.record(
        request,
        usage.token_credentials(
            team_id=live.team_id, client_pk=live.client_pk, service_account_pk=live.service_account_pk
        ),
    )
    return _token_identity(live)


@require_GET
def whoami(request: HttpRequest) -> HttpResponse:
    """GET /api/v2/whoami: who the token (Bearer or DPoP) or legacy API key in this request is."""
    authorization = request.headers.get("Authorization", "")
    scheme = authorization.split(" ", 1)[0].lower()
    if scheme == "basic":
        outcome = _authenticate_api_key(authorization)
        if isinstance(outcome, HttpResponse):
            return outcome
        usage.record(request, [usage.Credential(CredentialType.API_KEY, outcome.pk, outcome.team_id)])
        identity = _api_key_identity(outcome)
    elif scheme == "dpop":
        bound = _authenticate_dpop(request, authorization)
        if isinstance(bound, HttpResponse):
            return bound
        identity = _used_token_identity(request, bound)
    elif scheme == "bearer":
        valid, oauth_request = endpoints().resource.verify_request(
            # Only the Authorization header carries the token (never the URL, which logs keep).
            request.path,
            http_method="GET",
            headers={"Authorization": authorization},
            scopes=list(settings.TOKEN_SCOPES),
        )
        if not valid:
            return _bearer_unauthorized(getattr(oauth_request, "invalid_token_description", None))
        live = oauth_request.live_token
        if live.jkt:
            # A stolen DPoP-bound token is useless without the key: never as a bearer token.
            return _dpop_unauthorized(
                "invalid_token",
                "This token is bound to a DPoP key: send it with the DPoP scheme and a DPoP proof.",
            )
        identity = _used_token_identity(request, live)
    else:
        # No credentials (or a scheme we do not speak): a bare challenge (RFC 6750 3.1).
        return _unauthorized("Bearer")
    return JsonResponse(identity, headers={"Cache-Control": "no-store"})

"""DPoP proofs (RFC 9449): a client proves it holds the private key a token is bound to.

A proof is a JWT signed by the client's key, whose public half travels in its header.
`verify` checks it with joserfc, never by hand, with the algorithms pinned here (no
`none`, no HMAC, nothing taken from the proof itself), then the claims: `htm` and `htu`
against the request (§4.3, with the URI normalised), `iat` within DPOP_PROOF_SKEW, `ath`
(the hash of the access token) when one is presented, an optional server nonce, and
`jti` single use, remembered in the shared cache for as long as the proof could be
accepted, so a proof replayed to another app server is refused too. When that cache
cannot be reached the check fails closed: no proof is accepted (`ReplayCheckUnavailable`,
a 503), since accepting one unchecked could let a stolen proof be replayed.

The token a valid proof obtains is bound to the key's RFC 7638 thumbprint (`jkt`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey, import_key
from redis.exceptions import RedisError

# The only algorithms accepted, each with the one key type and curve it may use. RFC 9864
# names Ed25519 signatures "Ed25519"; DPoP clients still send the older "EdDSA", so both.
ALGORITHMS = {"ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519"), "Ed25519": ("OKP", "Ed25519")}
ALGS_VALUE = " ".join(ALGORITHMS)
PROOF_TYPE = "dpop+jwt"
MAX_PROOF_LENGTH = 4096
MAX_JTI_LENGTH = 256
_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidProof(Exception):
    """The DPoP proof is refused (`invalid_dpop_proof`); the message says why."""


class NonceRequired(InvalidProof):
    """The server wants a fresh nonce in the proof (`use_dpop_nonce`)."""


class ReplayCheckUnavailable(Exception):
    """The proof holds, but whether its `jti` was spent cannot be known: the shared cache is
    unreachable. Not an InvalidProof: the same request, with a fresh proof, may pass later."""


@dataclass(frozen=True)
class Proof:
    """A verified proof: the thumbprint of its key (what a token is bound to)."""

    jkt: str


def token_hash(access_token: str) -> str:
    """`ath`: base64url (no padding) of the SHA-256 of the access token's ASCII value."""
    return _b64(hashlib.sha256(access_token.encode("ascii")).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def normalise_uri(uri: str) -> str:
    """The URI without query and fragment, scheme and host lower-cased and a default port
    dropped (RFC 9449 §4.3, RFC 3986 §6.2.2 and §6.2.3), so that equal URIs compare equal."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as error:
        raise InvalidProof("The htu claim is not a valid URI.") from error
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


# --- Server nonces (DPOP_NONCES): stateless, valid for this window and the one before ---


def _nonce_for(window: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"dpop-nonce:{window}".encode(), hashlib.sha256).digest()
    return _b64(digest[:18])


def current_nonce(now: float | None = None) -> str:
    """The nonce to send in `DPoP-Nonce`: the same on every app server sharing SECRET_KEY."""
    return _nonce_for(int((now or time.time()) // settings.DPOP_NONCE_SECONDS))


def _nonce_is_fresh(nonce: Any, now: float) -> bool:
    if not isinstance(nonce, str):
        return False
    window = int(now // settings.DPOP_NONCE_SECONDS)
    return any(hmac.compare_digest(nonce, _nonce_for(w)) for w in (window, window - 1))


# --- The proof ----------------------------------------------------------------------


def _header(proof: str) -> dict[str, Any]:
    try:
        header = json.loads(base64.urlsafe_b64decode(proof.split(".", 1)[0] + "=="))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidProof("The DPoP proof is not a JWT.") from error
    if not isinstance(header, dict):
        raise InvalidProof("The DPoP proof is not a JWT.")
    return header


def _public_key(header: dict[str, Any]) -> ECKey | OKPKey:
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise InvalidProof(f"The DPoP proof must be signed with one of: {ALGS_VALUE}.")
    if header.get("typ") != PROOF_TYPE:
        raise InvalidProof(f'The DPoP proof\'s typ must be "{PROOF_TYPE}".')
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or "d" in jwk:
        raise InvalidProof("The DPoP proof's header must carry the public key (jwk), and only it.")
    kty, crv = ALGORITHMS[alg]
    if jwk.get("kty") != kty or jwk.get("crv") != crv:
        raise InvalidProof(f"A DPoP proof signed with {alg} needs a {kty} {crv} key.")
    fields: dict[str, str | list[str]] = {
        name: value for name, value in jwk.items() if isinstance(value, str)
    }
    try:
        key = import_key(fields)
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidProof("The DPoP proof's key is not a valid public key.") from error
    if not isinstance(key, ECKey | OKPKey):
        raise InvalidProof("The DPoP proof's key is not a valid public key.")
    return key


def verify(proof: str, *, method: str, uri: str, access_token: str | None = None) -> Proof:
    """Verify the DPoP proof of a request to `uri` by `method`; raise InvalidProof otherwise.

    `access_token` is the token presented with it (API calls): the proof must then carry
    its hash. The proof's `jti` is spent only once everything else holds.
    """
    if not proof or len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2:
        raise InvalidProof("The DPoP header must hold one proof, a signed JWT.")
    header = _header(proof)
    key = _public_key(header)
    try:
        with warnings.catch_warnings():
            # joserfc warns that "EdDSA" is the RFC 9864-deprecated name; it is accepted on purpose.
            warnings.simplefilter("ignore", SecurityWarning)
            signed = jws.deserialize_compact(proof, key, algorithms=[header["alg"]])
        claims = json.loads(signed.payload)
    except (JoseError, ValueError, UnicodeDecodeError) as error:
        raise InvalidProof("The DPoP proof's signature does not verify.") from error
    if not isinstance(claims, dict):
        raise InvalidProof("The DPoP proof's claims are not a JSON object.")
    now = time.time()
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise InvalidProof("The DPoP proof needs a jti.")
    if claims.get("htm") != method:
        raise InvalidProof(f"The DPoP proof's htm must be {method}.")
    htu = claims.get("htu")
    if not isinstance(htu, str) or normalise_uri(htu) != normalise_uri(uri):
        raise InvalidProof("The DPoP proof's htu is not this request's URI.")
    iat = claims.get("iat")
    skew = settings.DPOP_PROOF_SKEW_SECONDS
    if not isinstance(iat, int | float) or isinstance(iat, bool) or abs(now - iat) > skew:
        raise InvalidProof(f"The DPoP proof's iat must be within {skew} seconds of the server's time.")
    if access_token is not None and claims.get("ath") != token_hash(access_token):
        raise InvalidProof("The DPoP proof's ath must be the hash of the access token.")
    if settings.DPOP_NONCES and not _nonce_is_fresh(claims.get("nonce"), now):
        raise NonceRequired("Sign the DPoP proof again with the nonce in the DPoP-Nonce header.")
    jkt = key.thumbprint()
    # Single use across every app server: the first to add the jti wins.
    try:
        first_use = cache.add(f"dpop-jti:{jkt}:{jti}", 1, timeout=2 * skew + 1)
    except RedisError as error:
        raise ReplayCheckUnavailable(str(error)) from error
    if not first_use:
        raise InvalidProof("This DPoP proof was already used: sign a new one for each request.")
    return Proof(jkt=jkt)

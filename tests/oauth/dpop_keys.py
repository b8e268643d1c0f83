"""DPoP proofs for tests, signed with joserfc as a client would."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from typing import Any

from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey

from credentials.oauth.dpop import token_hash


def new_key(alg: str = "ES256") -> ECKey | OKPKey:
    return ECKey.generate_key("P-256") if alg == "ES256" else OKPKey.generate_key("Ed25519")


def proof(
    key: ECKey | OKPKey,
    *,
    method: str = "POST",
    uri: str = "http://testserver/oauth/token",
    access_token: str | None = None,
    alg: str | None = None,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A DPoP proof of `key` for `method` `uri`; `claims` override or add (None drops one)."""
    alg = alg or ("ES256" if isinstance(key, ECKey) else "EdDSA")
    body: dict[str, Any] = {"jti": uuid.uuid4().hex, "htm": method, "htu": uri, "iat": int(time.time())}
    if access_token is not None:
        body["ath"] = token_hash(access_token)
    body.update(claims)
    body = {name: value for name, value in body.items() if value is not None}
    protected = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False), **(header or {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # "EdDSA", as DPoP clients still send
        return jws.serialize_compact(protected, json.dumps(body), key, algorithms=[alg])

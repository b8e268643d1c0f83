"""DPoP proofs are verified by joserfc with pinned algorithms, then claim by claim (RFC 9449 §4.3)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jws
from joserfc.jwk import OctKey

from credentials.oauth import dpop
from tests.oauth.dpop_keys import new_key, proof

URI = "http://testserver/oauth/token"


def _verify(value: str, **kwargs):
    return dpop.verify(value, method=kwargs.pop("method", "POST"), uri=kwargs.pop("uri", URI), **kwargs)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "Ed25519"])
def test_a_valid_proof_gives_the_keys_thumbprint(alg):
    key = new_key(alg)
    assert _verify(proof(key, alg=alg)).jkt == key.thumbprint()


def test_a_proof_is_single_use():
    value = proof(new_key())
    _verify(value)
    with pytest.raises(dpop.InvalidProof, match="already used"):
        _verify(value)


@pytest.mark.parametrize(
    ("uri", "htu"),
    [
        ("http://testserver/oauth/token", "HTTP://TestServer/oauth/token"),
        ("http://testserver/oauth/token", "http://testserver:80/oauth/token"),
        ("https://portal.example/oauth/token", "https://portal.example:443/oauth/token"),
        ("http://testserver/oauth/token?x=1", "http://testserver/oauth/token#frag"),
    ],
)
def test_htu_is_compared_normalised(uri, htu):
    _verify(proof(new_key(), htu=htu), uri=uri)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"htm": "GET"}, "htm"),
        ({"htu": "http://testserver/other"}, "htu"),
        ({"htu": "https://testserver/oauth/token"}, "htu"),
        ({"htu": "http://testserver:8080/oauth/token"}, "htu"),
        ({"iat": int(time.time()) - 3600}, "iat"),
        ({"iat": int(time.time()) + 3600}, "iat"),
        ({"iat": "now"}, "iat"),
        ({"jti": None}, "jti"),
        ({"jti": "x" * 300}, "jti"),
    ],
)
def test_wrong_claims_are_refused(claims, message):
    with pytest.raises(dpop.InvalidProof, match=message):
        _verify(proof(new_key(), **claims))


def test_ath_must_be_the_hash_of_the_presented_token():
    key = new_key()
    with pytest.raises(dpop.InvalidProof, match="ath"):
        _verify(proof(key, method="GET"), method="GET", access_token="tng_sbx_at_abc")
    with pytest.raises(dpop.InvalidProof, match="ath"):
        _verify(proof(key, method="GET", access_token="another"), method="GET", access_token="tng_sbx_at_abc")
    _verify(
        proof(key, method="GET", access_token="tng_sbx_at_abc"), method="GET", access_token="tng_sbx_at_abc"
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"typ": "JWT"}, "typ"),
        ({"alg": "RS256"}, "signed with one of"),
        ({"alg": "none"}, "signed with one of"),
        ({"jwk": None}, "public key"),
    ],
)
def test_wrong_headers_are_refused(header, message):
    with pytest.raises(dpop.InvalidProof, match=message):
        _verify(_tampered(proof(new_key()), **header))


def _tampered(good: str, **header) -> str:
    """`good` with its protected header changed (its signature no longer matches)."""
    protected = json.loads(base64.urlsafe_b64decode(good.split(".")[0] + "=="))
    protected.update(header)
    encoded = base64.urlsafe_b64encode(json.dumps(protected).encode()).rstrip(b"=").decode()
    return ".".join([encoded, *good.split(".")[1:]])


def test_a_private_key_in_the_header_is_refused():
    key = new_key()
    with pytest.raises(dpop.InvalidProof, match="only it"):
        _verify(proof(key, header={"jwk": key.as_dict(private=True)}))


def test_a_key_of_the_wrong_curve_for_its_algorithm_is_refused():
    with pytest.raises(dpop.InvalidProof, match="needs a OKP"):
        _verify(_tampered(proof(new_key("ES256")), alg="EdDSA"))


def test_a_proof_signed_by_another_key_than_its_header_names_is_refused():
    signer, named = new_key(), new_key()
    with pytest.raises(dpop.InvalidProof, match="signature"):
        _verify(proof(signer, header={"jwk": named.as_dict(private=False)}))


def test_an_hmac_proof_is_refused_even_when_it_verifies():
    secret = OctKey.generate_key(256)
    protected = {"typ": "dpop+jwt", "alg": "HS256", "jwk": secret.as_dict(private=False)}
    body = json.dumps({"jti": "1", "htm": "POST", "htu": URI, "iat": int(time.time())})
    value = jws.serialize_compact(protected, body, secret, algorithms=["HS256"])
    with pytest.raises(dpop.InvalidProof, match="signed with one of"):
        _verify(value)


@pytest.mark.parametrize("value", ["", "abc", "a.b", "a.b.c", "x" * 5000, "\x00.\x00.\x00"])
def test_garbage_is_refused(value):
    with pytest.raises(dpop.InvalidProof):
        _verify(value)


def test_with_nonces_on_a_proof_needs_the_current_or_previous_nonce(settings):
    settings.DPOP_NONCES = True
    key = new_key()
    with pytest.raises(dpop.NonceRequired):
        _verify(proof(key))
    with pytest.raises(dpop.NonceRequired):
        _verify(proof(key, nonce="made-up"))
    _verify(proof(key, nonce=dpop.current_nonce()))
    previous = dpop.current_nonce(time.time() - settings.DPOP_NONCE_SECONDS)
    _verify(proof(key, nonce=previous))
    stale = dpop.current_nonce(time.time() - 3 * settings.DPOP_NONCE_SECONDS)
    with pytest.raises(dpop.NonceRequired):
        _verify(proof(key, nonce=stale))

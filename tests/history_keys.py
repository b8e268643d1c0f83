"""A throwaway Ed25519 key pair for the history signatures, set the way a deployment sets it."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def key_settings(private: Ed25519PrivateKey) -> dict[str, str]:
    """The private key as base64 of its raw bytes, the public one as PEM: both forms are read."""
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"HISTORY_SIGNING_KEY": base64.b64encode(raw).decode(), "HISTORY_VERIFY_KEY": public.decode()}


@pytest.fixture
def history_keys(settings) -> Ed25519PrivateKey:
    """Signing and verify keys configured; returns the private key (tests alone hold it)."""
    private = Ed25519PrivateKey.generate()
    for name, value in key_settings(private).items():
        setattr(settings, name, value)
    return private

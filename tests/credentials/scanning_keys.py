"""A secret-scanning service's key pair, made afresh for each test run: never a file in the repo.

`ScannerKeys` signs a body as GitHub's secret scanning does (ECDSA P-256, SHA-256, base64 DER)
and writes the public half in the shape GitHub publishes, for SECRET_SCANNING_KEYS_FILE.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_IDENTIFIER = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"


def _private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class ScannerKeys:
    identifier: str = KEY_IDENTIFIER
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=_private_key)

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, body: bytes) -> str:
        return base64.b64encode(self.private_key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        return {
            "Github-Public-Key-Identifier": self.identifier,
            "Github-Public-Key-Signature": self.sign(body),
        }

    def write_key_file(self, path: Path, *, also: list[dict[str, object]] | None = None) -> Path:
        listed = [{"key_identifier": self.identifier, "key": self.public_pem(), "is_current": True}]
        path.write_text(json.dumps({"public_keys": listed + (also or [])}))
        return path

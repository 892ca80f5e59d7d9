"""Signed verification tokens carried by the certificate's QR code (Ed25519).

Token format (version 1), compact and URL-safe:

    base64url(payload) + "." + base64url(signature)        (no padding)

`payload` is canonical JSON (UTF-8, keys sorted, no spaces) with short keys:
`{"d": issue date (ISO), "i": institution, "id": masked ID number, "n": certificate number,
"nm": masked name, "p": position, "s": specialisation or null, "v": 1}`.
`signature` is Ed25519 over the ASCII bytes of the first segment (as in JWS), so the exact bytes that were
signed are the bytes that travel, and no re-encoding of the payload verifies.

Only masked personal data is in the token: it is printed on paper as a QR code and anyone may scan it.
Anyone holding the public key (PEM, published by the platform) can check a certificate offline.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from servicekit.errors import DomainError

from ..domain.numbers import mask_id_number, mask_name

TOKEN_VERSION = 1
SIGNATURE_LENGTH = 64
MAX_TOKEN_LENGTH = 4096
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_KEYS = {"v", "n", "nm", "id", "p", "s", "i", "d"}

__all__ = [
    "TOKEN_VERSION",
    "CertificateSigner",
    "InvalidToken",
    "VerificationClaims",
    "mask_id_number",
    "mask_name",
    "verify_token",
]


class InvalidToken(DomainError):
    """A verification token that is malformed, forged, tampered with or signed by another key."""

    status = 400
    code = "certificate_token_invalid"

    def __init__(self, message: str = "查验码无效：证书信息无法验证，可能被篡改或不是本平台签发") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class VerificationClaims:
    """What the QR code asserts about a certificate (personal data masked)."""

    number: str
    name_masked: str
    id_masked: str
    position: str
    specialisation: str | None
    institution: str
    issued_on: date

    @classmethod
    def for_holder(
        cls,
        *,
        number: str,
        holder_name: str,
        id_number: str,
        position: str,
        specialisation: str | None,
        institution: str,
        issued_on: date,
    ) -> VerificationClaims:
        """Claims from the unmasked holder data (masks the name and the ID number)."""
        return cls(
            number=number,
            name_masked=mask_name(holder_name),
            id_masked=mask_id_number(id_number),
            position=position,
            specialisation=specialisation,
            institution=institution,
            issued_on=issued_on,
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "v": TOKEN_VERSION,
            "n": self.number,
            "nm": self.name_masked,
            "id": self.id_masked,
            "p": self.position,
            "s": self.specialisation,
            "i": self.institution,
            "d": self.issued_on.isoformat(),
        }

    @classmethod
    def from_payload(cls, payload: Any) -> VerificationClaims:
        if not isinstance(payload, dict) or set(payload) != _KEYS:
            raise InvalidToken()
        if payload["v"] != TOKEN_VERSION or isinstance(payload["v"], bool):
            raise InvalidToken("查验码版本不受支持，请使用最新的查验工具")
        texts = [payload[k] for k in ("n", "nm", "id", "p", "i", "d")]
        if not all(isinstance(t, str) and t for t in texts):
            raise InvalidToken()
        if payload["s"] is not None and not isinstance(payload["s"], str):
            raise InvalidToken()
        try:
            issued_on = date.fromisoformat(payload["d"])
        except ValueError as exc:
            raise InvalidToken() from exc
        return cls(
            number=payload["n"],
            name_masked=payload["nm"],
            id_masked=payload["id"],
            position=payload["p"],
            specialisation=payload["s"],
            institution=payload["i"],
            issued_on=issued_on,
        )


def canonical_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes:
    """Strict base64url without padding: only the canonical encoding of some bytes is accepted."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken()
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken() from exc
    if _b64encode(data) != segment:
        raise InvalidToken()
    return data


class CertificateSigner:
    """Signs verification tokens with the platform's Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key

    @classmethod
    def from_seed_b64(cls, seed_b64: str) -> CertificateSigner:
        """The key from its raw 32-byte seed, base64 (standard or URL-safe alphabet, padding optional)."""
        text = seed_b64.strip().replace("-", "+").replace("_", "/")
        try:
            seed = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("证书签名密钥格式错误：应为 32 字节 Ed25519 种子的 base64 编码") from exc
        if len(seed) != 32:
            raise ValueError("证书签名密钥格式错误：应为 32 字节 Ed25519 种子的 base64 编码")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @staticmethod
    def generate_seed_b64() -> str:
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return base64.b64encode(seed).decode("ascii")

    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def token(self, claims: VerificationClaims) -> str:
        segment = _b64encode(canonical_json(claims.to_payload()))
        signature = self._key.sign(segment.encode("ascii"))
        return f"{segment}.{_b64encode(signature)}"


def load_public_key(public_key_pem: str | bytes) -> Ed25519PublicKey:
    """The Ed25519 public key from PEM (SubjectPublicKeyInfo); ValueError for anything else."""
    data = public_key_pem.encode("ascii", "replace") if isinstance(public_key_pem, str) else public_key_pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ValueError("公钥格式错误：应为 PEM 格式的 Ed25519 公钥") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("公钥类型错误：应为 Ed25519 公钥")
    return key


def verify_token(token: str, public_key_pem: str) -> VerificationClaims:
    """The claims of a token signed by the key of `public_key_pem`; InvalidToken for anything else."""
    key = load_public_key(public_key_pem)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken()
    parts = token.strip().split(".")
    if len(parts) != 2:
        raise InvalidToken()
    segment, signature_segment = parts
    payload_bytes = _b64decode(segment)  # also checks that the segment is plain ASCII base64url
    signature = _b64decode(signature_segment)
    if len(signature) != SIGNATURE_LENGTH:
        raise InvalidToken()
    try:
        key.verify(signature, segment.encode("ascii"))
    except InvalidSignature as exc:
        raise InvalidToken() from exc
    try:
        payload = json.loads(payload_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidToken() from exc
    return VerificationClaims.from_payload(payload)

"""Signed QR tokens: round trip, every kind of bad token refused, the public key, the offline check CLI."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from certification.adapters.signing import (
    CertificateSigner,
    InvalidToken,
    VerificationClaims,
    canonical_json,
    verify_token,
)
from certification.verify_qr import extract_token, main
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from servicekit.errors import DomainError

SEED = base64.b64encode(bytes(range(32))).decode()
CLAIMS = VerificationClaims.for_holder(
    number="3320260100001236",
    holder_name="欧阳建国",
    id_number="33010619900517001X",
    position="施工员",
    specialisation="土建施工",
    institution="浙江省建设职业技术培训中心有限公司",
    issued_on=date(2026, 11, 25),
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def signed(payload: dict[str, object], seed_b64: str = SEED) -> str:
    """A token over an arbitrary payload, correctly signed (to check what the verifier accepts)."""
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_b64))
    segment = b64(canonical_json(payload))
    return f"{segment}.{b64(key.sign(segment.encode()))}"


@pytest.fixture
def signer() -> CertificateSigner:
    return CertificateSigner.from_seed_b64(SEED)


def test_claims_mask_the_holder() -> None:
    assert CLAIMS.name_masked == "欧***"
    assert CLAIMS.id_masked == "330106********001X"
    assert (
        VerificationClaims.for_holder(
            number="1",
            holder_name="张*三",
            id_number="33010619900517123X",
            position="安全员",
            specialisation=None,
            institution="机构",
            issued_on=date(2026, 1, 1),
        ).name_masked
        == "张**"
    )


@pytest.mark.parametrize("specialisation", ["土建施工", None])
def test_round_trip(signer: CertificateSigner, specialisation: str | None) -> None:
    claims = VerificationClaims(**{**CLAIMS.__dict__, "specialisation": specialisation})
    token = signer.token(claims)
    assert verify_token(token, signer.public_key_pem()) == claims
    # The payload is readable canonical JSON with a version field, and carries no unmasked personal data.
    payload = json.loads(unb64(token.split(".")[0]))
    assert payload["v"] == 1 and payload["n"] == "3320260100001236" and payload["d"] == "2026-11-25"
    assert "欧阳建国" not in unb64(token.split(".")[0]).decode()
    assert "33010619900517001X" not in unb64(token.split(".")[0]).decode()


def test_token_is_url_safe_short_and_deterministic(signer: CertificateSigner) -> None:
    token = signer.token(CLAIMS)
    print(f"token length: {len(token)}")
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}", token)
    assert len(token) < 400
    # Ed25519 signatures are deterministic: the same seed and claims give the same token.
    assert CertificateSigner.from_seed_b64(SEED).token(CLAIMS) == token


def test_public_key_pem_loads_with_cryptography(signer: CertificateSigner) -> None:
    pem = signer.public_key_pem()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, Ed25519PublicKey)
    expected = Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()
    assert key.public_bytes_raw() == expected.public_bytes_raw()


def test_generated_seeds_are_random_and_usable() -> None:
    first, second = CertificateSigner.generate_seed_b64(), CertificateSigner.generate_seed_b64()
    assert first != second and len(base64.b64decode(first)) == 32
    one, other = CertificateSigner.from_seed_b64(first), CertificateSigner.from_seed_b64(second)
    assert one.public_key_pem() != other.public_key_pem()
    assert verify_token(one.token(CLAIMS), one.public_key_pem()) == CLAIMS
    # URL-safe alphabet and missing padding are accepted for the seed too.
    assert CertificateSigner.from_seed_b64(b64(bytes(range(32)))).public_key_pem() == (
        CertificateSigner.from_seed_b64(SEED).public_key_pem()
    )


@pytest.mark.parametrize("seed", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_bad_seed_is_refused(seed: str) -> None:
    with pytest.raises(ValueError):
        CertificateSigner.from_seed_b64(seed)


def test_invalid_token_error_contract() -> None:
    error = InvalidToken()
    assert isinstance(error, DomainError)
    assert error.code == "certificate_token_invalid" and error.status == 400
    assert error.problem()["code"] == "certificate_token_invalid"


def test_tampered_payload_is_refused(signer: CertificateSigner) -> None:
    token = signer.token(CLAIMS)
    segment, signature = token.split(".")
    payload = json.loads(unb64(segment))
    for key, value in [("n", "3320260100001245"), ("nm", "王**"), ("s", None), ("d", "2027-01-01")]:
        forged = b64(canonical_json({**payload, key: value}))
        with pytest.raises(InvalidToken):
            verify_token(f"{forged}.{signature}", signer.public_key_pem())
    # One character changed anywhere in the token.
    for position in (0, len(segment) // 2, len(segment) + 1 + 40):
        replacement = "A" if token[position] != "A" else "B"
        with pytest.raises(InvalidToken):
            verify_token(token[:position] + replacement + token[position + 1 :], signer.public_key_pem())


def test_wrong_key_is_refused(signer: CertificateSigner) -> None:
    other = CertificateSigner.from_seed_b64(CertificateSigner.generate_seed_b64())
    with pytest.raises(InvalidToken):
        verify_token(other.token(CLAIMS), signer.public_key_pem())


def test_truncated_tokens_are_refused(signer: CertificateSigner) -> None:
    token = signer.token(CLAIMS)
    segment = token.split(".")[0]
    for cut in (token[:-1], token[:-2], token[: len(token) // 2], segment, segment + ".", token[1:]):
        with pytest.raises(InvalidToken):
            verify_token(cut, signer.public_key_pem())


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "..", "abc", "a.b", "a.b.c", "中文.中文", "%%%.%%%", "x" * 5000, "=" * 100 + "." + "A" * 86],
)
def test_garbage_is_refused(signer: CertificateSigner, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(garbage, signer.public_key_pem())


def test_signed_but_unacceptable_payloads_are_refused(signer: CertificateSigner) -> None:
    payload = CLAIMS.to_payload()
    assert verify_token(signed(payload), signer.public_key_pem()) == CLAIMS  # the helper itself is right
    bad_payloads = [
        {**payload, "v": 2},
        {**payload, "v": True},
        {k: v for k, v in payload.items() if k != "i"},
        {**payload, "extra": 1},
        {**payload, "d": "2026-13-01"},
        {**payload, "n": 3320260100001236},
        {**payload, "nm": ""},
        {**payload, "s": 5},
    ]
    for bad in bad_payloads:
        with pytest.raises(InvalidToken):
            verify_token(signed(bad), signer.public_key_pem())
    # Signed bytes that are not JSON, or not UTF-8.
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    for raw in (b"not json", b"\xff\xfe", b"[1, 2]"):
        segment = b64(raw)
        with pytest.raises(InvalidToken):
            verify_token(f"{segment}.{b64(key.sign(segment.encode()))}", signer.public_key_pem())


def test_non_canonical_base64_is_refused(signer: CertificateSigner) -> None:
    segment, signature = signer.token(CLAIMS).split(".")
    # The same signature bytes written differently (padding; last character with non-zero spare bits).
    last = signature[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alphabet[alphabet.index(last) ^ 1]
    assert unb64(signature[:-1] + sibling) == unb64(signature)
    for variant in (signature + "==", signature[:-1] + sibling):
        with pytest.raises(InvalidToken):
            verify_token(f"{segment}.{variant}", signer.public_key_pem())


def test_bad_public_key_is_a_value_error(signer: CertificateSigner) -> None:
    token = signer.token(CLAIMS)
    with pytest.raises(ValueError, match="公钥"):
        verify_token(token, "not a key")
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="公钥类型错误"):
        verify_token(token, ec_pem)


# ---- the offline check CLI ------------------------------------------------------------------------------


@pytest.fixture
def key_file(tmp_path: Path, signer: CertificateSigner) -> Path:
    path = tmp_path / "key.pem"
    path.write_text(signer.public_key_pem(), encoding="ascii")
    return path


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_extract_token_from_urls(signer: CertificateSigner) -> None:
    token = signer.token(CLAIMS)
    assert extract_token(token) == token
    assert extract_token(f"  {token}\n") == token
    for url in (
        f"https://cert.example.cn/verify?t={token}",
        f"http://127.0.0.1:8000/api/certification/verify?token={token}",
        f"https://cert.example.cn/verify?lang=zh&token={token}",
        f"https://cert.example.cn/certificates/verify/{token}",
        f"https://cert.example.cn/verify/{token}/",
        f"https://cert.example.cn/index.html#/verify?t={token}",
        f"https://cert.example.cn/verify#{token}",
    ):
        assert extract_token(url) == token, url
    assert extract_token("https://cert.example.cn/verify?t=abc.def") is None
    assert extract_token("hello") is None


def test_cli_prints_claims_for_a_valid_token(signer: CertificateSigner, key_file: Path) -> None:
    token = signer.token(CLAIMS)
    code, out, err = run_cli(f"https://cert.example.cn/verify?t={token}", "--public-key", str(key_file))
    assert code == 0, err
    assert "证书编号：3320260100001236" in out
    assert "姓名：欧***" in out and "身份证号：330106********001X" in out
    assert "岗位（专业）：施工员（土建施工）" in out
    assert "培训机构：浙江省建设职业技术培训中心有限公司" in out
    assert "发证日期：2026年11月25日" in out
    assert "签名有效" in out


def test_cli_refuses_bad_tokens_and_keys(signer: CertificateSigner, key_file: Path, tmp_path: Path) -> None:
    other = CertificateSigner.from_seed_b64(CertificateSigner.generate_seed_b64())
    code, out, err = run_cli(other.token(CLAIMS), "--public-key", str(key_file))
    assert code == 1 and "签名无效" in err and "签名有效" not in out
    token = signer.token(CLAIMS)
    tampered = ("B" if token[5] == "A" else "A").join((token[:5], token[6:]))
    code, out, err = run_cli(tampered, "--public-key", str(key_file))
    assert code == 1 and "签名无效" in err
    code, _, err = run_cli("no token here", "--public-key", str(key_file))
    assert code == 2 and "没有找到查验码" in err
    code, _, err = run_cli(token, "--public-key", str(tmp_path / "missing.pem"))
    assert code == 2 and "无法读取公钥文件" in err
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    code, _, err = run_cli(token, "--public-key", str(bad_key))
    assert code == 2 and "公钥格式错误" in err


def test_cli_runs_as_a_module(signer: CertificateSigner, key_file: Path) -> None:
    token = signer.token(CLAIMS)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    ok = subprocess.run(
        [sys.executable, "-m", "certification.verify_qr", token, "--public-key", str(key_file)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "签名有效" in ok.stdout and "3320260100001236" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "certification.verify_qr", token[:-3], "--public-key", str(key_file)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
    )
    assert bad.returncode != 0 and "签名有效" not in bad.stdout

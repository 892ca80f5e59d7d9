import hashlib
import hmac

import pytest
from servicekit.signing import SignatureError, sign, signed_headers, verify

SECRET = "s" * 32
BODY = b'{"id":"e1"}'


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, 1_700_000_000) == expected


def test_signed_headers_verify() -> None:
    headers = signed_headers(SECRET, BODY, timestamp_header="T", signature_header="S", timestamp=100)
    assert headers["T"] == "100"
    assert verify(SECRET, BODY, headers["T"], headers["S"], now=100) == 100
    assert verify(SECRET, BODY, "100", headers["S"].upper(), now=399) == 100


@pytest.mark.parametrize(
    ("secret", "body", "timestamp", "now", "message"),
    [
        ("x" * 32, BODY, "100", 100, "签名不匹配"),
        (SECRET, BODY + b" ", "100", 100, "签名不匹配"),
        (SECRET, BODY, "101", 101, "签名不匹配"),  # the timestamp is signed too
        (SECRET, BODY, "100", 401, "已过期"),
        (SECRET, BODY, "100", -201, "已过期"),
        (SECRET, BODY, "abc", 100, "时间戳格式"),
        (SECRET, BODY, "", 100, "缺少"),
    ],
)
def test_refused(secret: str, body: bytes, timestamp: str, now: float, message: str) -> None:
    signature = sign(SECRET, BODY, 100)
    with pytest.raises(SignatureError, match=message):
        verify(secret, body, timestamp, signature, now=now)


def test_missing_signature() -> None:
    with pytest.raises(SignatureError, match="缺少"):
        verify(SECRET, BODY, "100", "", now=100)

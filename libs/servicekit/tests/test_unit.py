from __future__ import annotations

import pytest
from servicekit.auth import Identity, Role, TokenCodec
from servicekit.errors import Unauthorized
from servicekit.logging import mask_personal_data


def test_masks_id_numbers_and_mobiles() -> None:
    text = "applicant 11010119800101001X mobile 13812345678 order 2024"
    masked = mask_personal_data(text)
    assert "11010119800101001X" not in masked
    assert "110101********001X" in masked
    assert "138****5678" in masked
    assert "2024" in masked


def test_token_round_trip_and_tamper() -> None:
    codec = TokenCodec("s" * 40, "issuer")
    token = codec.issue(Identity("acc-1", Role.ENTERPRISE, org_id="ent-1", city="杭州", username="e"))
    identity, _ = codec.decode(token)
    assert identity.role is Role.ENTERPRISE and identity.org_id == "ent-1" and identity.city == "杭州"
    other = TokenCodec("t" * 40, "issuer")
    with pytest.raises(Unauthorized):
        other.decode(token)
    with pytest.raises(Unauthorized):
        codec.decode(token, token_type="refresh")


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError):
        TokenCodec("short", "issuer")

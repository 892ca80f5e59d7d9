"""Identity context (the gateway): access that ended before its tokens expired.

Every service keeps a small view of these (servicekit.revocation) and refuses the tokens they name. They
carry no personal data: account ids, token ids and instants only.
"""

from __future__ import annotations

from datetime import datetime

from events.base import DomainEvent
from events.registry import event

CONTEXT = "identity"


@event(CONTEXT, "AccountSessionsRevoked")
class AccountSessionsRevoked(DomainEvent):
    """Every token of the account issued before now is void: its password changed, a refresh token was used
    twice, or an administrator disabled it. Tokens whose `ver` claim is below `token_version` are refused
    (tokens without the claim count as version 0)."""

    account_id: str
    token_version: int
    revoked_at: datetime
    # password_changed | refresh_token_reused | account_disabled (informative only)
    reason: str = ""


@event(CONTEXT, "AccessTokenRevoked")
class AccessTokenRevoked(DomainEvent):
    """One access token was ended by a logout: refuse its `jti` until it would have expired anyway."""

    jti: str
    account_id: str
    expires_at: datetime

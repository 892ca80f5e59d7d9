"""The identity events, appended to the gateway's event store; its relay publishes them to `identity.events`
and every service's revocation view (servicekit.revocation) applies them."""

from __future__ import annotations

import uuid
from datetime import datetime

from events.identity import AccessTokenRevoked, AccountSessionsRevoked
from servicekit.eventstore import EventStore


class StoreRevocationLog:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def sessions_revoked(self, account_id: str, token_version: int, at: datetime, reason: str) -> None:
        event = AccountSessionsRevoked(
            account_id=account_id, token_version=token_version, revoked_at=at, reason=reason
        )
        # One stream per revocation: no contention, and the view keeps the highest version anyway.
        await self.store.append(
            f"revocation-{uuid.uuid4().hex}", [event], expected_version=0, stream_type="revocation"
        )

    async def access_token_revoked(self, jti: str, account_id: str, expires_at: datetime) -> None:
        event = AccessTokenRevoked(jti=jti, account_id=account_id, expires_at=expires_at)
        await self.store.append(
            f"revocation-{uuid.uuid4().hex}", [event], expected_version=0, stream_type="revocation"
        )

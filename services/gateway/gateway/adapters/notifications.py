"""The activation codes' SMS: stored `pending` in the `notifications` collection, like the notifications'.

The notifications' SMS dispatcher (gateway.notifications.application.dispatch) hands every pending SMS to
the one SMS port (NOTIFY_SMS_PROVIDER; the local adapter appends it to NOTIFY_SMS_FILE): a developer or a
tester reads the message in the collection or the file. The message of an activation code holds the code, so
it is purged from the collection once the code has expired; logs show the mobile masked and never the text.
"""

from __future__ import annotations

import uuid

from pymongo.errors import OperationFailure
from servicekit.logging import get_logger
from servicekit.mongo import Database

from ..application.ports import Clock, Notification, utc_now
from ..domain.persons import mask_mobile

COLLECTION = "notifications"

log = get_logger(__name__)


class LocalNotifier:
    channel = "sms"

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self.collection = db[COLLECTION]
        self.clock = clock

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("mobile", 1), ("created_at", -1)], name="mobile_created")
        try:
            await self.collection.create_index("expires_at", expireAfterSeconds=0, name="expires_ttl")
        except OperationFailure as exc:
            log.warning("notifications.ttl_index_unavailable", error=str(exc))

    async def send(self, notification: Notification) -> None:
        message_id = uuid.uuid4().hex
        await self.collection.insert_one(
            {
                "_id": message_id,
                "channel": self.channel,
                "kind": notification.kind,
                "mobile": notification.mobile,
                "id_number": notification.id_number,
                "text": notification.text,
                "created_at": self.clock(),
                "expires_at": notification.expires_at,
                "status": "pending",  # the SMS dispatcher sends it and marks it `sent`
            }
        )
        log.info(
            "notification.stored",
            channel=self.channel,
            kind=notification.kind,
            mobile=mask_mobile(notification.mobile),
            message_id=message_id,
        )

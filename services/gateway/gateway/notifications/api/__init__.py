"""`/api/notifications/inbox…`: every account reads its own principal's messages."""

"""Back-office event feeds (pulled with a cursor, or as Server-Sent Events) and webhooks."""

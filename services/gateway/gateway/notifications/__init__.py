"""Notifications: the in-app inbox of every account and the SMS port, built from the public events."""

"""Storage of the messages (MongoDB) and the SMS port's adapters."""

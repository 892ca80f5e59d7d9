"""Back-office feeds: domain."""

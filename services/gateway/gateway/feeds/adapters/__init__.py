"""Back-office feeds: adapters."""

"""Back-office feeds: application."""

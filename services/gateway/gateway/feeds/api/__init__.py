"""Back-office feeds: api."""

"""taxi's domain, use cases and persistence: plain Python over SQLAlchemy, no WAMP, no Twisted."""

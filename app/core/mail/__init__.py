"""Email: the outbox, its backends and delivery."""

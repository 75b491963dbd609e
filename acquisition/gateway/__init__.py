"""The gateway loop: batches, retries, the spool, per-device rate limits."""

"""Health, metrics, dead letters and API keys over HTTP; per-route request metrics."""

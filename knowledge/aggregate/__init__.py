"""The vectorised aggregation core and domain indicators (pure numpy, no IO)."""

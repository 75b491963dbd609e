"""The test fleet's tenant and service-group apikey."""

from __future__ import annotations

TENANT = "leon"


APIKEY = "test-key"

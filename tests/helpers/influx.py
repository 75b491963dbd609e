"""InfluxQL queries against the test InfluxDB."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any


def influx_query(url: str, database: str, query: str) -> Any:
    """An InfluxQL statement over HTTP, the decoded JSON answer (nanosecond epochs)."""
    params = urllib.parse.urlencode({"db": database, "q": query, "epoch": "ns"})
    request = urllib.request.Request(f"{url}/query?{params}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())

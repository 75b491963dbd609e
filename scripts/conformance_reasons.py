"""Why each conformance test that fails fails: a deliberate deviation, a suite defect or
something this machine lacks, or (the default) not built yet. The first rule that matches
the test's folder, its file-and-name or its failure message wins."""

from __future__ import annotations

import re

NOT_BUILT = "not built yet (issue 18)"
RULES: list[tuple[str, str]] = [
    (r"MqttNotification|^058_",
     "environment: the suite starts its MQTT broker with docker, which this machine lacks"),
    (r"Setup failed.*(400|Bad Request)",
     "not built yet (issue 18): the suite's set-up creates an entity the store cannot hold "
     "yet (LanguageProperty, JsonProperty, datasetId, scope, sub-properties)"),
    (r"TemporalEntity/QueryTemporalEvolutionOfEntities",
     "not built yet (issue 18): GET/POST /temporal/entities"),
    (r"Discovery", "not built yet (issue 18): /types and /attributes"),
]  # fmt: skip


def reason_for(folder: str, name: str, message: str) -> str:
    for pattern, reason in RULES:
        if any(re.search(pattern, part) for part in (folder, name, message)):
            return reason
    return NOT_BUILT

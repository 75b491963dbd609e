"""Why each conformance test that fails fails: a deliberate deviation, the machine, or
(the default) something not built yet. The first rule whose pattern matches the test's
folder, its file-and-name or its failure message wins; docs/conformance.md lists them."""

from __future__ import annotations

import re

NOT_BUILT = "not built yet (issue 18)"
RULES: list[tuple[str, str]] = [
    (r"MqttNotification|^058_",
     "environment: the suite's MQTT broker (a local mosquitto here, scripts/conformance_kit) "
     "or its 1 s listening window"),
    (r"/Discovery/",
     "environment: ciudad demo's simulated devices are entities of the same tenant, so "
     "discovery lists their types and attributes too (the suite expects only its own; all "
     "pass with --api-only)"),
    (r"Without Minimal Parameters",
     "deliberate deviation: GET /entities without a selector lists the entities"),
    (r"^008_01",
     "deliberate deviation: at an equal observedAt the first value stays (replays change "
     "nothing)"),
    (r"default-context/availableSpotNumber",
     "deliberate deviation: without a context, ciudad's own terms (core + Smart Data Models)"),
    (r"(^|\s)(001_05_02|003_05_02|010_04_01)\b",
     "deliberate deviation: a name no context defines reads back as its term under the "
     "core @vocab (the suite wants ngsi-ld:default-context/... here, the full IRI there)"),
    (r"\u00c3|Ã",
     "suite defect: its expectation holds mis-encoded text (ParÃ­s for París)"),
    (r"\{'dataset': ",
     "not built yet: keyValues of an attribute of several datasetIds as {\"dataset\": {...}} "
     "(its expectation also holds mis-encoded text)"),
    (r"csourceRegistration|Context Source",
     "not built yet: context source registrations (distributed operations)"),
    (r"\['(createdAt|modifiedAt)'\] removed",
     "not built yet: createdAt/modifiedAt of readings (numeric and text Properties)"),
    (r"->: \d+ != 503",
     "environment: the test names a JSON-LD context on a public host, unreachable here"),
    (r"[Ss]etup failed",
     "not built yet: a set-up step the API refuses (robot's log names it)"),
]  # fmt: skip


def reason_for(folder: str, name: str, message: str) -> str:
    for pattern, reason in RULES:
        if any(re.search(pattern, part) for part in (folder, name, message)):
            return reason
    return NOT_BUILT

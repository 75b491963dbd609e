"""Bulk import/export of devices as CSV (one row per device), pure text <-> entries.

Columns: device_id, apikey, entity_type, entity_id, period_s, longitude, latitude,
attributes, static_attributes, dev_eui, lorawan. ``longitude``/``latitude`` make the
``location`` GeoProperty; ``attributes``, ``static_attributes`` and ``lorawan`` are
JSON (may be empty). ``dev_eui`` makes the device a LoRaWAN one; ``lorawan`` holds
the rest of its entry (codec, layout, application, downlinks), docs/lorawan.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from acquisition.provisioning.model import DeviceEntry
from support import ConfigurationError

COLUMNS = (
    "device_id",
    "apikey",
    "entity_type",
    "entity_id",
    "period_s",
    "longitude",
    "latitude",
    "attributes",
    "static_attributes",
    "dev_eui",
    "lorawan",
)


def _json_cell(text: str, line: int, column: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError as exc:
        raise ConfigurationError(f"line {line}: {column} is not JSON: {exc}") from None


def _row_to_entry(row: dict[str, str], line: int) -> DeviceEntry:
    static = _json_cell(row.get("static_attributes", ""), line, "static_attributes") or {}
    lon, lat = row.get("longitude", "").strip(), row.get("latitude", "").strip()
    if lon or lat:
        try:
            point = [float(lon), float(lat)]
        except ValueError:
            raise ConfigurationError(f"line {line}: longitude/latitude must be numbers") from None
        static["location"] = {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": point},
        }
    fields: dict[str, Any] = {
        "device_id": row.get("device_id", ""),
        "apikey": row.get("apikey", ""),
        "entity_type": row.get("entity_type", ""),
        "static_attributes": static,
    }
    for optional in ("entity_id", "period_s"):
        if row.get(optional, "").strip():
            fields[optional] = row[optional].strip()
    attributes = _json_cell(row.get("attributes", ""), line, "attributes")
    if attributes is not None:
        fields["attributes"] = attributes
    lorawan = _json_cell(row.get("lorawan") or "", line, "lorawan")
    dev_eui = (row.get("dev_eui") or "").strip()
    if dev_eui or lorawan is not None:
        fields["lorawan"] = {**(lorawan or {}), **({"dev_eui": dev_eui} if dev_eui else {})}
    try:
        return DeviceEntry.model_validate(fields)
    except ValidationError as exc:
        raise ConfigurationError(f"line {line}: {exc}") from None


def parse_devices_csv(text: str) -> list[DeviceEntry]:
    """Every row as a validated device entry; the first bad row stops it with its line number."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"device_id", "apikey", "entity_type"} - set(reader.fieldnames or ())
    if missing:
        raise ConfigurationError(f"CSV header lacks {', '.join(sorted(missing))}")
    return [_row_to_entry(row, n) for n, row in enumerate(reader, start=2)]


def devices_to_csv(entries: Iterable[DeviceEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        static = dict(entry.static_attributes)
        coordinates: list[Any] = ["", ""]
        location = static.get("location", {}).get("value", {})
        if location.get("type") == "Point":  # other geometries stay in static_attributes
            coordinates = location["coordinates"]
            del static["location"]
        writer.writerow(
            {
                "device_id": entry.device_id,
                "apikey": entry.apikey,
                "entity_type": entry.entity_type,
                "entity_id": entry.entity_id or "",
                "period_s": "" if entry.period_s is None else entry.period_s,
                "longitude": coordinates[0],
                "latitude": coordinates[1],
                "attributes": ""
                if entry.attributes is None
                else json.dumps([a.model_dump(mode="json") for a in entry.attributes]),
                "static_attributes": json.dumps(static) if static else "",
                **_lorawan_cells(entry),
            }
        )
    return out.getvalue()


def _lorawan_cells(entry: DeviceEntry) -> dict[str, str]:
    if entry.lorawan is None:
        return {"dev_eui": "", "lorawan": ""}
    rest = entry.lorawan.model_dump(mode="json", exclude={"dev_eui"}, exclude_defaults=True)
    return {"dev_eui": entry.lorawan.dev_eui, "lorawan": json.dumps(rest) if rest else ""}

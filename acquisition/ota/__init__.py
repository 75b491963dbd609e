"""Firmware updates over the air: release bundles, the protocol v1 codec and the service that
delivers bundles to the nodes (docs/firmware.md, "Updates over the air")."""

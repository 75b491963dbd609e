"""Alerts: rules, their evaluation into Alert entities, acknowledgement."""

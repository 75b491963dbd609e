"""Where device messages come in: the MQTT and NATS inputs (manual acknowledgements)."""

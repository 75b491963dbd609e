"""Where device messages come in: the MQTT input (manual acknowledgements)."""

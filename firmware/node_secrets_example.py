# Copy to node_secrets.py (never committed: see .gitignore) and fill in on each node.
wifi_ssid = "city-iot"
wifi_password = "change-me"
mqtt_user = "noise-001"
mqtt_password = "change-me"

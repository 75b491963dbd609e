"""Provisioning: service groups and devices, CSV files, live reload, device credentials and
the broker's layout for them."""

"""Parking: availability, history, forecast and nearest free bay."""

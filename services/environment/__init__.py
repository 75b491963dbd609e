"""Noise and air quality: Leq, Lden days against objectives, noise maps, the European AQI."""

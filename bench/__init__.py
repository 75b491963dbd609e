"""Benchmarks run by `ciudad bench` (each script also runs on its own)."""

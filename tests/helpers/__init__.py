"""Helpers shared by tests: processes, servers, waiting, data (no tests here)."""

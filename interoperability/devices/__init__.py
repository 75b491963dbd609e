"""The device registry and device commands over HTTP."""

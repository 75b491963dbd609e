"""Commands to devices: dispatch from the queue, results back into readings."""

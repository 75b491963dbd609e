# Small timing helpers shared by the node and its apps (ticks arithmetic wraps safely).
import time


class Every:
    """True once per period; ``due()`` re-arms itself."""

    def __init__(self, period_ms, first_ms=None):
        self.period_ms = period_ms
        start = time.ticks_ms()
        self._next = time.ticks_add(start, period_ms if first_ms is None else first_ms)

    def due(self):
        now = time.ticks_ms()
        if time.ticks_diff(now, self._next) < 0:
            return False
        self._next = time.ticks_add(now, self.period_ms)
        return True

    def restart(self):
        self._next = time.ticks_add(time.ticks_ms(), self.period_ms)

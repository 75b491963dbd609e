# Bounded ring buffer of encoded measures: drop-oldest with a counter, optionally saved to
# flash (before deep sleep or periodically) and restored after a reset.


class RingBuffer:
    def __init__(self, capacity):
        self._slots = [None] * capacity  # preallocated: appending allocates nothing here
        self._capacity = capacity
        self._head = 0  # index of the oldest item
        self._count = 0
        self.dropped = 0

    def __len__(self):
        return self._count

    @property
    def capacity(self):
        return self._capacity

    def append(self, item):
        if self._count == self._capacity:
            self._head = (self._head + 1) % self._capacity
            self._count -= 1
            self.dropped += 1
        self._slots[(self._head + self._count) % self._capacity] = item
        self._count += 1

    def peek(self, n):
        """The oldest ``n`` items (fewer if the buffer holds fewer), oldest first."""
        n = min(n, self._count)
        return [self._slots[(self._head + k) % self._capacity] for k in range(n)]

    def discard(self, n):
        """Removes the oldest ``n`` items once they are safely delivered."""
        n = min(n, self._count)
        for k in range(n):
            self._slots[(self._head + k) % self._capacity] = None
        self._head = (self._head + n) % self._capacity
        self._count -= n

    def save(self, path):
        with open(path, "wb") as f:
            f.write(("%d\n" % self.dropped).encode())
            for item in self.peek(self._count):
                f.write(item)
                f.write(b"\n")

    def restore(self, path):
        try:
            with open(path, "rb") as f:
                lines = f.read().split(b"\n")
        except OSError:
            return 0
        self.dropped += int(lines[0] or b"0")
        restored = 0
        for line in lines[1:]:
            if line:
                self.append(line)
                restored += 1
        return restored

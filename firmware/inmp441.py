# InvenSense INMP441 MEMS microphone on I2S: 24-bit samples left-justified in 32-bit words.
from array import array

import micropython


class INMP441:
    def __init__(self, i2s, block):
        self._i2s = i2s
        self._raw = array("i", [0] * block)  # preallocated: the read loop allocates nothing
        self.samples = array("f", [0.0] * block)

    def read(self):
        """Reads what is available (up to one block); returns how many samples are ready."""
        n = self._i2s.readinto(self._raw) // 4
        if n:
            _to_full_scale(self._raw, self.samples, n)
        return n


@micropython.native
def _to_full_scale(raw, out, n):
    scale = 1.0 / 2147483648.0
    for k in range(n):
        out[k] = raw[k] * scale

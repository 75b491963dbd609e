# Plantower PMS5003 particulate sensor over UART: streaming frame parser with checksum.
# Frames: 0x42 0x4D, length 28, 13 big-endian words, checksum = sum of the first 30 bytes.
import struct

from micropython import const

FRAME_LEN = const(32)


class PMS5003:
    def __init__(self, uart):
        self._uart = uart
        self._buf = bytearray()
        self.frames_ok = 0
        self.frames_bad = 0

    def feed(self, data):
        """Adds raw bytes; returns the list of (pm1, pm2.5, pm10) in ug/m3 of valid frames."""
        self._buf.extend(data)
        out = []  # type: list
        while True:
            start = self._buf.find(b"\x42\x4d")
            if start < 0:
                # Keep a trailing 0x42: it may be the first half of the next start marker.
                self._buf = self._buf[-1:] if self._buf[-1:] == b"\x42" else bytearray()
                return out
            if len(self._buf) - start < FRAME_LEN:
                self._buf = self._buf[start:]
                return out
            frame = self._buf[start : start + FRAME_LEN]
            values = parse_frame(frame)
            if values is None:
                self.frames_bad += 1
                self._buf = self._buf[start + 2 :]  # resynchronise after the false start
            else:
                self.frames_ok += 1
                out.append(values)
                self._buf = self._buf[start + FRAME_LEN :]

    def poll(self):
        """Reads what the UART has and returns the valid readings in it."""
        waiting = self._uart.any()
        return self.feed(self._uart.read(waiting)) if waiting else []


def parse_frame(frame):
    """(pm1, pm2.5, pm10) atmospheric ug/m3 from one 32-byte frame, or None if corrupt."""
    if len(frame) != FRAME_LEN or frame[0] != 0x42 or frame[1] != 0x4D:
        return None
    if struct.unpack(">H", frame[2:4])[0] != 28:
        return None
    if sum(frame[:30]) & 0xFFFF != struct.unpack(">H", frame[30:32])[0]:
        return None
    words = struct.unpack(">13H", frame[4:30])
    return words[3], words[4], words[5]


def build_frame(pm1, pm25, pm10):
    """A valid frame (for simulated sensors and tests)."""
    body = struct.pack(
        ">2sH13H", b"\x42\x4d", 28, pm1, pm25, pm10, pm1, pm25, pm10, 0, 0, 0, 0, 0, 0, 0
    )
    return body + struct.pack(">H", sum(body) & 0xFFFF)

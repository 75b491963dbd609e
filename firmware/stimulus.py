# Stimulus protocol for hardware-in-the-loop rigs: one JSON object per line in, one JSON
# reply per line out (docs/hil.md). The host injects sensor inputs, moves the clock,
# drops the broker link, hangs the node and reads its state.
import json
import select

from bootloader import Reset


class WatchdogReset(Reset):
    """Raised by the simulated watchdog: main.py restarts the node, as a reset would."""

    def __init__(self):
        super().__init__("watchdog")


def _state(node, board):
    app = node.app
    state = {
        "kind": node.cfg.kind,
        "device_id": node.cfg.device_id,
        "connected": node.client.connected,
        "link_up": node.link_up,
        "recorded": node.recorded,
        "sent": node.sent,
        "buffered": len(node.buffer),
        "dropped": node.buffer.dropped,
        "commands": node.commands,
        "reset_cause": board.reset_cause(),
    }
    for name in ("rejected_frames", "level", "energy_wh"):
        if hasattr(app, name):
            state[name] = getattr(app, name)
    return state


def handle(line, node, board):
    """One request line -> the reply dict (the node and board are changed as asked)."""
    try:
        request = json.loads(line)
        command = request["cmd"]
    except (ValueError, KeyError, TypeError):
        return {"ok": False, "error": "expected a JSON object with cmd"}
    if command == "state":
        return {"ok": True, "state": _state(node, board)}
    if command == "set":
        board.scenario.values.update(request.get("values", {}))
    elif command == "link":
        node.set_link(bool(request.get("up", True)))
    elif command == "time":
        board.clock_offset_ms += int(float(request.get("offset_s", 0)) * 1000)
    elif command == "hang":
        board.hang(int(request.get("ms", 0)))
    elif command == "pms_corrupt":
        board.scenario.values["pms_corrupt_next"] = int(request.get("count", 1))
    else:
        return {"ok": False, "error": "unknown cmd " + str(command)}
    return {"ok": True}


class Channel:
    """A line channel on a stream (a pty on the unix port, the USB console on a board)."""

    def __init__(self, stream):
        self._stream = stream
        self._poll = select.poll()
        self._poll.register(stream, select.POLLIN)
        self._partial = b""

    def lines(self):
        out = []
        # One byte per readiness check: a bigger read would block on a tty until it is full.
        while self._poll.poll(0):
            byte = self._stream.read(1)
            if not byte:
                break
            self._partial += byte if isinstance(byte, bytes) else byte.encode()
            if self._partial.endswith(b"\n"):
                if self._partial.strip():
                    out.append(self._partial.strip())
                self._partial = b""
        return out

    def reply(self, obj):
        data = json.dumps(obj) + "\n"
        self._stream.write(data.encode())


def open_pty(path):
    """The unix port's end of a pty pair (socat), switched to raw mode."""
    import termios

    stream = open(path, "r+b")  # noqa: SIM115 - the channel keeps it for the node's life
    termios.setraw(stream.fileno())
    return Channel(stream)

# A small MQTT 3.1.1 client for the nodes: QoS 0/1, last will, keepalive, bounded in-flight,
# TCP_NODELAY, non-blocking receive. The protocol code only builds and parses packets;
# reconnects and backoff live in node.py.
import select
import socket
import struct

from micropython import const

_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBSCRIBE = const(0x82)
_SUBACK = const(0x90)
_PINGREQ = const(0xC0)
_PINGRESP = const(0xD0)
_DISCONNECT = const(0xE0)
_IPPROTO_TCP = const(6)
_TCP_NODELAY = const(1)


class MQTTError(Exception):
    pass


def _encode_length(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return out


def _string(s):
    data = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(data)) + data


def connect_packet(client_id, keepalive, clean, user=None, password=None, will=None):
    """CONNECT bytes. ``will``: (topic, message, qos, retain) or None."""
    flags = 0x02 if clean else 0
    payload = _string(client_id)
    if will is not None:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += _string(topic) + _string(message)
    if user is not None:
        flags |= 0x80
        payload += _string(user)
        if password is not None:
            flags |= 0x40
            payload += _string(password)
    variable = _string("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive)
    body = variable + payload
    return bytes([_CONNECT]) + _encode_length(len(body)) + body


def publish_packet(topic, message, qos, retain, pid):
    header = _PUBLISH | (qos << 1) | (1 if retain else 0)
    body = _string(topic) + (struct.pack("!H", pid) if qos else b"") + message
    return bytes([header]) + _encode_length(len(body)) + body


def subscribe_packet(topic, qos, pid):
    body = struct.pack("!H", pid) + _string(topic) + bytes([qos])
    return bytes([_SUBSCRIBE]) + _encode_length(len(body)) + body


class MQTTClient:
    def __init__(
        self, client_id, server, port=1883, user=None, password=None, keepalive=30, max_inflight=8
    ):
        self.client_id = client_id
        self.server = server
        self.port = port
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.max_inflight = max_inflight
        self.inflight = {}  # pid -> caller's token, until PUBACK
        self.acked = []  # tokens whose PUBACK arrived since the last take_acked()
        self.on_message = None
        self._will = None
        self._sock = None
        self._poll = None
        self._pid = 0

    def set_last_will(self, topic, message, retain=False, qos=0):
        self._will = (topic, message, qos, retain)

    @property
    def connected(self):
        return self._sock is not None

    def connect(self, clean=True, timeout_s=5):
        addr = socket.getaddrinfo(self.server, self.port)[0][-1]
        sock = socket.socket()
        sock.settimeout(timeout_s)
        try:
            sock.connect(addr)
            # One packet may be written in pieces; without this Nagle + delayed ACK cap QoS 1
            # at ~20 msg/s (FACTS.md).
            sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
            sock.write(
                connect_packet(
                    self.client_id, self.keepalive, clean, self.user, self.password, self._will
                )
            )
            head = self._read_exact(sock, 4)
        except OSError:
            sock.close()
            raise
        if head[0] != _CONNACK or head[3] != 0:
            sock.close()
            raise MQTTError("connection refused, code %d" % head[3])
        self._sock = sock
        sock.settimeout(None)
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)
        self.inflight = {}

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._poll = None

    def disconnect(self):
        if self._sock is not None:
            try:
                self._sock.write(bytes([_DISCONNECT, 0]))
            except OSError:
                pass
        self.close()

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    def publish(self, topic, message, qos=0, retain=False, token=None):
        """Sends one message. For QoS 1, ``token`` is reported by take_acked() after PUBACK."""
        if self._sock is None:
            raise MQTTError("not connected")
        if qos and len(self.inflight) >= self.max_inflight:
            raise MQTTError("in-flight window full")
        pid = self._next_pid() if qos else 0
        self._send(publish_packet(topic, message, qos, retain, pid))
        if qos:
            self.inflight[pid] = token
        return pid

    def subscribe(self, topic, qos=1):
        self._send(subscribe_packet(topic, qos, self._next_pid()))

    def ping(self):
        self._send(bytes([_PINGREQ, 0]))

    def take_acked(self):
        done = self.acked
        self.acked = []
        return done

    def check_msg(self, timeout_ms=0):
        """Handles every packet that is already waiting (or arrives within ``timeout_ms``)."""
        while self._sock is not None and self._poll is not None and self._poll.poll(timeout_ms):
            self._handle_packet()
            timeout_ms = 0

    def _send(self, data):
        sock = self._sock
        if sock is None:
            raise MQTTError("not connected")
        try:
            sock.write(data)
        except OSError as exc:
            self.close()
            raise MQTTError("send failed: %s" % exc)

    def _handle_packet(self):
        sock = self._sock
        if sock is None:
            return
        try:
            first = sock.read(1)
            if not first:
                raise OSError("connection closed by broker")
            length = self._read_length(sock)
            body = self._read_exact(sock, length) if length else b""
        except OSError as exc:
            self.close()
            raise MQTTError("receive failed: %s" % exc)
        kind = first[0] & 0xF0
        if kind == _PUBACK:
            pid = struct.unpack("!H", body[:2])[0]
            if pid in self.inflight:
                self.acked.append(self.inflight.pop(pid))
        elif kind == _PUBLISH:
            self._deliver(first[0], body)
        # CONNACK, SUBACK and PINGRESP need no action.

    def _deliver(self, header, body):
        topic_len = struct.unpack("!H", body[:2])[0]
        topic = body[2 : 2 + topic_len].decode()
        offset = 2 + topic_len
        qos = (header >> 1) & 3
        if qos:
            pid = struct.unpack("!H", body[offset : offset + 2])[0]
            offset += 2
            self._send(bytes([_PUBACK, 2]) + struct.pack("!H", pid))
        if self.on_message is not None:
            # A view, not a copy: an OTA start or chunk is kilobytes (json.loads takes it).
            self.on_message(topic, memoryview(body)[offset:])

    def _read_length(self, sock):
        n = 0
        shift = 0
        while True:
            byte = self._read_exact(sock, 1)[0]
            n |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return n
            shift += 7

    @staticmethod
    def _read_exact(sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.read(n - len(data))
            if not chunk:
                raise OSError("connection closed")
            data += chunk
        return data

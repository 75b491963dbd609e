# Ed25519 signature verification (RFC 8032) in pure MicroPython, with the SHA-512 it needs
# (MicroPython's hashlib has no sha512). Verification only: a node never signs. Everything is
# plain integers, so the compiled .mpy has no native code and loads on any port; heap use is a
# few big integers and two points at a time (docs/firmware.md, "OTA on the node").
import struct
from binascii import unhexlify

_M64 = 0xFFFFFFFFFFFFFFFF
# Round constants and initial hash as bytes: 640 bytes instead of 80 big integers on the heap.
_K = unhexlify(
    "428a2f98d728ae227137449123ef65cdb5c0fbcfec4d3b2fe9b5dba58189dbbc3956c25bf348b538"
    "59f111f1b605d019923f82a4af194f9bab1c5ed5da6d8118d807aa98a303024212835b0145706fbe"
    "243185be4ee4b28c550c7dc3d5ffb4e272be5d74f27b896f80deb1fe3b1696b19bdc06a725c71235"
    "c19bf174cf692694e49b69c19ef14ad2efbe4786384f25e30fc19dc68b8cd5b5240ca1cc77ac9c65"
    "2de92c6f592b02754a7484aa6ea6e4835cb0a9dcbd41fbd476f988da831153b5983e5152ee66dfab"
    "a831c66d2db43210b00327c898fb213fbf597fc7beef0ee4c6e00bf33da88fc2d5a79147930aa725"
    "06ca6351e003826f142929670a0e6e7027b70a8546d22ffc2e1b21385c26c9264d2c6dfc5ac42aed"
    "53380d139d95b3df650a73548baf63de766a0abb3c77b2a881c2c92e47edaee692722c851482353b"
    "a2bfe8a14cf10364a81a664bbc423001c24b8b70d0f89791c76c51a30654be30d192e819d6ef5218"
    "d69906245565a910f40e35855771202a106aa07032bbd1b819a4c116b8d2d0c81e376c085141ab53"
    "2748774cdf8eeb9934b0bcb5e19b48a8391c0cb3c5c95a634ed8aa4ae3418acb5b9cca4f7763e373"
    "682e6ff3d6b2b8a3748f82ee5defb2fc78a5636f43172f6084c87814a1f0ab728cc702081a6439ec"
    "90befffa23631e28a4506cebde82bde9bef9a3f7b2c67915c67178f2e372532bca273eceea26619c"
    "d186b8c721c0c207eada7dd6cde0eb1ef57d4f7fee6ed17806f067aa72176fba0a637dc5a2c898a6"
    "113f9804bef90dae1b710b35131c471b28db77f523047d8432caab7b40c724933c9ebe0a15c9bebc"
    "431d67c49c100d4c4cc5d4becb3e42b6597f299cfc657e2a5fcb6fab3ad6faec6c44198c4a475817"
)
_H0 = unhexlify(
    "6a09e667f3bcc908bb67ae8584caa73b3c6ef372fe94f82ba54ff53a5f1d36f1510e527fade682d1"
    "9b05688c2b3e6c1f1f83d9abfb41bd6b5be0cd19137e2179"
)


def _rotr(x, n):
    return ((x >> n) | (x << (64 - n))) & _M64


def _compress(h, block):
    # A 16-word rolling message schedule instead of 80 words: less heap per block.
    w = list(struct.unpack(">16Q", block))
    a, b, c, d, e, f, g, hh = h
    for i in range(80):
        if i >= 16:
            w15 = w[(i - 15) & 15]
            w2 = w[(i - 2) & 15]
            s0 = _rotr(w15, 1) ^ _rotr(w15, 8) ^ (w15 >> 7)
            s1 = _rotr(w2, 19) ^ _rotr(w2, 61) ^ (w2 >> 6)
            w[i & 15] = (w[i & 15] + s0 + w[(i - 7) & 15] + s1) & _M64
        t1 = hh + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41)) + (g ^ (e & (f ^ g)))
        t1 += struct.unpack_from(">Q", _K, i * 8)[0] + w[i & 15]
        t2 = (_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + ((a & b) | (c & (a | b)))
        hh, g, f, e = g, f, e, (d + t1) & _M64
        d, c, b, a = c, b, a, (t1 + t2) & _M64
    return [(x + y) & _M64 for x, y in zip(h, (a, b, c, d, e, f, g, hh))]


class SHA512:
    """hashlib-like SHA-512 (FIPS 180-4): update() any number of times, then digest()."""

    def __init__(self, data=b""):
        self._h = list(struct.unpack(">8Q", _H0))
        self._buf = bytearray(128)  # a partial block
        self._fill = 0
        self._length = 0
        self.update(data)

    def update(self, data):
        # Whole blocks are hashed straight from ``data`` (no copy of the message on the heap).
        data = memoryview(data)
        self._length += len(data)
        i = 0
        if self._fill:
            i = min(128 - self._fill, len(data))
            self._buf[self._fill : self._fill + i] = data[:i]
            self._fill += i
            if self._fill < 128:
                return
            self._h = _compress(self._h, self._buf)
            self._fill = 0
        while len(data) - i >= 128:
            self._h = _compress(self._h, data[i : i + 128])
            i += 128
        rest = len(data) - i
        self._buf[:rest] = data[i:]
        self._fill = rest

    def digest(self):
        bits = self._length * 8
        tail = bytearray(self._buf[: self._fill])
        tail.append(0x80)
        tail.extend(bytes((112 - len(tail)) % 128))
        tail.extend(struct.pack(">QQ", bits >> 64, bits & _M64))
        h = self._h
        for done in range(0, len(tail), 128):
            h = _compress(h, tail[done : done + 128])
        return struct.pack(">8Q", *h)


# ---- Ed25519 (RFC 8032, section 5.1) ------------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = 37095705934669439343138083508754565189542113879843219016388785533085940283555
_D2 = 2 * _D % _P
_SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752
_BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202
_BY = 46316835694926478169428394003475163141307993866256225615783033603165251855960


def _add(p1, p2):
    # Extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z ("add-2008-hwcd-3").
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = t1 * _D2 * t2 % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(p1):
    x1, y1, z1, _ = p1
    a = x1 * x1 % _P
    b = y1 * y1 % _P
    c = 2 * z1 * z1 % _P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1) % _P
    g = a - b
    f = c + g
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _decode_point(s):
    """The point encoded in 32 bytes, or None if they encode none (RFC 8032 5.1.3)."""
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P or (x == 0 and sign):
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _encode_point(pt):
    zinv = pow(pt[2], _P - 2, _P)
    x = pt[0] * zinv % _P
    y = pt[1] * zinv % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def verify(public_key, message, signature):
    """True if ``signature`` (64 bytes) is ``public_key``'s (32 bytes) Ed25519 signature of
    ``message``. Checks [S]B = R + [k]A as encodings (cofactorless) and rejects S >= L."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decode_point(public_key)
    s = int.from_bytes(signature[32:], "little")
    if a is None or s >= _L:
        return False
    h = SHA512(signature[:32])
    h.update(public_key)
    h.update(message)
    k = int.from_bytes(h.digest(), "little") % _L
    # Straus: one pass over both scalars computes [s]B + [k](-A).
    neg_a = (_P - a[0], a[1], 1, _P - a[3])
    base = (_BX, _BY, 1, _BX * _BY % _P)
    table = (None, base, neg_a, _add(base, neg_a))
    sb = s.to_bytes(32, "little")
    kb = k.to_bytes(32, "little")
    q = (0, 1, 1, 0)
    for i in range(252, -1, -1):
        q = _double(q)
        j = i >> 3
        bit = 1 << (i & 7)
        idx = (1 if sb[j] & bit else 0) | (2 if kb[j] & bit else 0)
        if idx:
            q = _add(q, table[idx])
    return _encode_point(q) == signature[:32]

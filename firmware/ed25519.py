# Ed25519 signature verification (RFC 8032) in pure MicroPython, with sha512.py. Verification
# only: a node never signs. Plain integers and bytecode, so the .mpy loads on any port; it is
# loaded only to check an update's signature and let go after (docs/firmware.md, "OTA on the
# node"), and it is small on purpose: its code is part of that step's heap peak.

# ---- Ed25519 (RFC 8032, section 5.1) ------------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = 37095705934669439343138083508754565189542113879843219016388785533085940283555
_D2 = 16295367250680780974490674513165176452449235426866156013048779062215315747161
_SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752


def _mod(x):
    # x mod p in as few digits as it needs: a remainder keeps the room of the product it came
    # from (twice its own), and negating copies exactly. Less heap per stored coordinate.
    x = -(x % _P)
    return -x


def _add(p, q):
    # Extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z: RFC 8032's addition,
    # complete, so it doubles too (one formula, less code).
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = p[3] * q[3] % _P * _D2 % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (_mod(e * f), _mod(g * h), _mod(f * g), _mod(e * h))


def _point(s):
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


def verify(public_key, message, signature):
    """True if ``signature`` (64 bytes) is ``public_key``'s (32 bytes) Ed25519 signature of
    ``message``. Checks [S]B = R + [k]A as encodings (cofactorless) and rejects S >= L."""
    import sys

    import sha512

    h = sha512.digest((signature[:32], public_key, message))
    del sha512, sys.modules["sha512"]
    return verify_hashed(public_key, h, signature)


def verify_hashed(public_key, h, signature):
    """verify() given ``h`` = SHA-512(R || public key || message), R the signature's first 32
    bytes: a caller that hashes first (sha512.py) never has both modules on the heap."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _point(public_key)
    s = int.from_bytes(signature[32:], "little")
    if a is None or s >= _L:
        return False
    k = int.from_bytes(h, "little") % _L
    # Straus: one pass over both scalars computes [s]B + [k](-A).
    a = (_P - a[0], a[1], 1, _P - a[3])
    b = _point(b"\x58" + b"\x66" * 31)  # the base point (y = 4/5)
    table = (None, b, a, _add(b, a))
    q = (0, 1, 1, 0)
    for i in range(252, -1, -1):
        q = _add(q, q)
        i = (s >> i & 1) | (k >> i & 1) << 1
        if i:
            q = _add(q, table[i])
    s = pow(q[2], _P - 2, _P)
    a = q[0] * s % _P
    s = q[1] * s % _P
    return (s | (a & 1) << 255).to_bytes(32, "little") == signature[:32]

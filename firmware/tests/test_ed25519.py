# SHA-512 (FIPS 180-4 examples) and Ed25519 verification (RFC 8032 section 7.1 test vectors)
# on MicroPython. CPython's side (cryptography-signed manifests): tests/firmware/test_ed25519.py.
import time
from binascii import unhexlify

from ed25519 import verify
from sha512 import digest

_SHA = (
    (b"", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
    (b"abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
    (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
     b"klmnopqrlmnopqrsmnopqrstnopqrstu",
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
     "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"),
)  # fmt: skip

# (public key, message, signature): RFC 8032 7.1 TEST 1, 2, 3 and TEST SHA(abc).
_RFC8032 = (
    ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
)  # fmt: skip


def _hex(data):
    from binascii import hexlify

    return hexlify(data).decode()


def test_sha512_matches_the_fips_examples():
    for message, expected in _SHA:
        assert _hex(digest((message,))) == expected, message


def test_sha512_fed_in_pieces_equals_one_piece():
    data = bytes(range(256)) * 3
    whole = digest((data,))
    for step in (1, 7, 127, 128, 129, 500):
        pieces = [data[i : i + step] for i in range(0, len(data), step)]
        assert digest(pieces) == whole, step
    # Every padding case: the length in the last data block, or in a block of its own.
    for n, expected in (
        (111, "a1a111449b198d9b1f538bad7f3fc1022b3a5b1a5e90a0bc860de8512746cbc3"
         "1599e6c834de3a3235327af0b51ff57bf7acf1974a73014d9c3953812edc7c8d"),
        (112, "c5fbd731d19d2ae1180f001be72c2c1aaba1d7b094b3748880e24593b8e117a7"
         "50e11c1bd867cc2f96dace8c8b74abd2d5c4f236be444e77d30d1916174070b9"),
        (239, "cb4c7fd522756d5781ad3a4f590a1d862906b960e7720136cb3fb36b563caa1e"
         "a5689134291fa79c80ccc2b4092b41df32ebdcb36dbe79db483440228c1622a8"),
        (240, "6c48466c9f6c07e4ab762c696b7eeb35cfe236fca73683e5fab873ac3489b4d2"
         "eb3d7afcce7e8165dbbf37aded3b5b0c889c0b7e0f1790a8330d8677429d91a5"),
    ):  # fmt: skip
        assert _hex(digest((data[:n],))) == expected, n


def test_rfc8032_vectors_verify():
    for pub, msg, sig in _RFC8032:
        started = time.ticks_ms()
        assert verify(unhexlify(pub), unhexlify(msg), unhexlify(sig))
        print("  verified in", time.ticks_diff(time.ticks_ms(), started), "ms")


def test_tampered_message_signature_or_key_is_rejected():
    pub, msg, sig = (unhexlify(x) for x in _RFC8032[2])
    assert not verify(pub, msg + b"\x00", sig)
    assert not verify(pub, b"\xaf\x83", sig)
    for i in (0, 31, 32, 63):
        bad = bytearray(sig)
        bad[i] ^= 0x01
        assert not verify(pub, msg, bytes(bad)), i
    other = unhexlify(_RFC8032[0][0])
    assert not verify(other, msg, sig)


def test_malformed_inputs_are_rejected_not_raised():
    pub, msg, sig = (unhexlify(x) for x in _RFC8032[1])
    assert not verify(pub[:31], msg, sig)
    assert not verify(pub, msg, sig[:63])
    # S >= L (the group order) is a malleable signature: RFC 8032 requires rejecting it.
    big_s = sig[:32] + (2**253 - 1).to_bytes(32, "little")
    assert not verify(pub, msg, big_s)
    # y >= p does not encode a point.
    assert not verify(b"\xff" * 31 + b"\x7f", msg, sig)

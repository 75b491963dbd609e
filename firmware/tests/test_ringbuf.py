import os

from ringbuf import RingBuffer


def test_drops_the_oldest_and_counts_it():
    ring = RingBuffer(3)
    for n in range(5):
        ring.append(str(n).encode())
    assert len(ring) == 3
    assert ring.dropped == 2
    assert ring.peek(10) == [b"2", b"3", b"4"]


def test_discard_removes_delivered_items_in_order():
    ring = RingBuffer(4)
    for n in range(4):
        ring.append(str(n).encode())
    ring.discard(2)
    ring.append(b"4")
    assert ring.peek(2) == [b"2", b"3"]
    assert ring.peek(9) == [b"2", b"3", b"4"]


def test_save_and_restore_across_a_reset():
    ring = RingBuffer(5)
    for n in range(7):
        ring.append(('{"t":%d}' % n).encode())
    path = "/tmp/ringbuf-test-%d.dat" % id(ring)
    ring.save(path)
    again = RingBuffer(5)
    assert again.restore(path) == 5
    assert again.peek(5) == ring.peek(5)
    assert again.dropped == 2
    os.remove(path)
    assert RingBuffer(2).restore(path) == 0

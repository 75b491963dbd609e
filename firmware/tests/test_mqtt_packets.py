import mqtt


def test_remaining_length_encoding():
    assert mqtt._encode_length(0) == b"\x00"
    assert mqtt._encode_length(127) == b"\x7f"
    assert mqtt._encode_length(128) == b"\x80\x01"
    assert mqtt._encode_length(16383) == b"\xff\x7f"
    assert mqtt._encode_length(16384) == b"\x80\x80\x01"


def test_connect_with_will_and_credentials():
    packet = mqtt.connect_packet("n1", 30, True, "u", "p", ("/s", b"offline", 1, True))
    assert packet[0] == 0x10
    assert packet[2:10] == b"\x00\x04MQTT\x04" + bytes([0x02 | 0x04 | 0x08 | 0x20 | 0x80 | 0x40])
    assert packet[10:12] == b"\x00\x1e"  # keepalive 30 s
    assert packet[12:] == b"\x00\x02n1\x00\x02/s\x00\x07offline\x00\x01u\x00\x01p"
    assert packet[1] == len(packet) - 2


def test_qos1_publish_carries_a_packet_id():
    packet = mqtt.publish_packet("/t", b"hi", 1, False, 258)
    assert packet == b"\x32\x08\x00\x02/t\x01\x02hi"
    assert mqtt.publish_packet("/t", b"hi", 0, True, 0) == b"\x31\x06\x00\x02/thi"

import json

import codec

_HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."


def _golden():
    with open(_HERE + "/../golden_vectors.json") as f:
        return json.load(f)


def test_golden_measures_encode_to_the_exact_bytes():
    for vector in _golden()["vectors"]:
        fields = [tuple(f) for f in vector["fields"]]
        got = codec.encode_measure(vector["epoch_ms"], fields)
        assert got == vector["payload"].encode(), (vector["name"], got)


def test_golden_backlog_is_one_json_array():
    backlog = _golden()["backlog"]
    items = [i.encode() for i in backlog["items"]]
    assert codec.encode_backlog(items) == backlog["payload"].encode()


def test_times_across_leap_days_and_year_ends():
    assert codec.format_time(0) == "1970-01-01T00:00:00.000Z"
    assert codec.format_time(951782400000) == "2000-02-29T00:00:00.000Z"
    assert codec.format_time(1709251199999) == "2024-02-29T23:59:59.999Z"
    assert codec.format_time(4107542400001) == "2100-03-01T00:00:00.001Z"


def test_topics_follow_the_iot_agent_conventions():
    assert codec.measure_topic("k", "d") == "/json/k/d/attrs"
    assert codec.command_topic("k", "d") == "/k/d/cmd"
    assert codec.result_topic("k", "d") == "/json/k/d/cmdexe"


def test_commands_decode_and_results_encode():
    assert codec.decode_command(b'{"dim": 40}') == ("dim", 40)
    for bad in (b"dim 40", b"[1]", b'{"a": 1, "b": 2}', b"{}"):
        try:
            codec.decode_command(bad)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % bad)
    assert codec.encode_command_result("dim", 'OK "40"') == b'{"dim":"OK \'40\'"}'

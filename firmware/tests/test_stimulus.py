# The stimulus protocol's request handling, with stand-ins for the node and the board.
import json

import stimulus
from ringbuf import RingBuffer


class _Values:
    def __init__(self):
        self.values = {}


class _Board:
    def __init__(self):
        self.scenario = _Values()
        self.clock_offset_ms = 0
        self.hung_ms = 0

    def hang(self, ms):
        self.hung_ms += ms

    def reset_cause(self):
        return "power-on"


class _Client:
    connected = True


class _Cfg:
    kind = "air"
    device_id = "air-001"


class _App:
    rejected_frames = 3


class _Node:
    def __init__(self):
        self.cfg = _Cfg()
        self.app = _App()
        self.client = _Client()
        self.buffer = RingBuffer(4)
        self.link_up = True
        self.recorded = 5
        self.sent = 4
        self.commands = 0

    def set_link(self, up):
        self.link_up = up


def _ask(node, board, request):
    return stimulus.handle(json.dumps(request), node, board)


def test_state_reports_counters_and_app_details():
    reply = _ask(_Node(), _Board(), {"cmd": "state"})
    assert reply["ok"]
    state = reply["state"]
    assert (state["kind"], state["sent"], state["rejected_frames"]) == ("air", 4, 3)
    assert state["link_up"] and state["connected"]


def test_actions_change_the_node_and_board():
    node, board = _Node(), _Board()
    assert _ask(node, board, {"cmd": "set", "values": {"pm25": 40}})["ok"]
    assert board.scenario.values["pm25"] == 40
    assert _ask(node, board, {"cmd": "link", "up": False})["ok"]
    assert not node.link_up
    assert _ask(node, board, {"cmd": "time", "offset_s": 1.5})["ok"]
    assert board.clock_offset_ms == 1500
    assert _ask(node, board, {"cmd": "hang", "ms": 20})["ok"]
    assert board.hung_ms == 20
    assert _ask(node, board, {"cmd": "pms_corrupt", "count": 2})["ok"]
    assert board.scenario.values["pms_corrupt_next"] == 2


def test_bad_requests_get_an_error_reply_not_a_crash():
    node, board = _Node(), _Board()
    for line in ("not json", "[1]", '{"nocmd": 1}', '{"cmd": "explode"}'):
        reply = stimulus.handle(line, node, board)
        assert reply["ok"] is False and reply["error"]

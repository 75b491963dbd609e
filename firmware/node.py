# The node runtime shared by every node type: buffer, MQTT link with reconnect and
# jittered backoff, commands, device info, watchdog, deep sleep and (through ota.py, loaded
# only when an update is under way) firmware updates. Apps only sense.
import gc
import random
import sys
import time

import codec
from config import FIRMWARE_VERSION
from mqtt import MQTTClient, MQTTError
from ringbuf import RingBuffer
from schedule import Every

_OTA_START = b'{"ota":{'  # how the platform's start message begins


class Node:
    def __init__(self, cfg, board, app, boot=None):
        self.cfg = cfg
        self.board = board
        self.app = app
        self.boot = boot  # main.py's boot state (bootloader.Boot); None: no OTA
        # This boot runs a version on trial. Not boot.trial, which an install in this run sets
        # before the reset: the old version must not confirm the new one.
        self._on_trial = boot is not None and bool(boot.trial)
        self._ota = None
        self._ota_start = None  # [an update's start], accepted at the next step
        self._ota_accepted = False  # one was: the updater is loaded at the step after
        self.buffer = RingBuffer(cfg.buffer_capacity)
        self.client = MQTTClient(
            cfg.device_id,
            cfg.broker_host,
            cfg.broker_port,
            user=getattr(cfg, "mqtt_user", None),
            password=getattr(cfg, "mqtt_password", None),
            keepalive=cfg.keepalive_s,
            max_inflight=2,  # readings use one (self._in_flight); replies and OTA the other
        )
        self.client.on_message = self._on_message
        self._topics = (
            codec.measure_topic(cfg.apikey, cfg.device_id),
            codec.command_topic(cfg.apikey, cfg.device_id),
            codec.result_topic(cfg.apikey, cfg.device_id),
            codec.status_topic(cfg.apikey, cfg.device_id),
        )
        self.client.set_last_will(self._topics[3], b"offline", retain=True, qos=1)
        self._in_flight = 0  # buffered readings in the unacknowledged message
        self._retry_at = time.ticks_ms()
        self._failures = 0
        self._last_io = time.ticks_ms()
        self._device_info = Every(cfg.device_info_s * 1000, first_ms=0)
        self._status = Every(5000)
        self.link_up = True  # a rig can take the link down (stimulus "link")
        self.recorded = 0
        self.sent = 0
        self.commands = 0
        if boot is not None and (boot.report is not None or boot.has_download()):
            self.updater()  # resume a download, or tell the platform how an update ended

    def updater(self):
        if self._ota is None:
            from ota import Updater

            self._ota = Updater(self)
        return self._ota

    # ---- buffering -------------------------------------------------------------------
    def record(self, fields):
        dropped = self.buffer.dropped
        self.buffer.append(codec.encode_measure(self.board.epoch_ms(), fields))
        self.recorded += 1
        if self.buffer.dropped > dropped and self._in_flight:
            self._in_flight -= 1  # the oldest in-flight reading was just overwritten

    def _flush(self):
        """Sends the oldest buffered readings (one object, or an array for a backlog)."""
        for done in self.client.take_acked():
            if done is None:
                continue  # a command result, not buffered readings
            if isinstance(done, str):
                self.updater().acked(done)
                continue
            self.buffer.discard(min(done, self._in_flight))
            self.sent += min(done, self._in_flight)
            self._in_flight = 0
            if self._on_trial and done:
                self._on_trial = False
                self.updater().confirm()  # a new version connected and published: keep it
        if self._in_flight or not len(self.buffer):
            return
        items = self.buffer.peek(self.cfg.backlog_chunk)
        payload = items[0] if len(items) == 1 else codec.encode_backlog(items)
        self.client.publish(self._topics[0], payload, qos=1, token=len(items))
        self._in_flight = len(items)
        self._last_io = time.ticks_ms()

    # ---- link ------------------------------------------------------------------------
    def _connect(self):
        if time.ticks_diff(time.ticks_ms(), self._retry_at) < 0:
            return
        try:
            self.client.connect(clean=True)
            self.client.subscribe(self._topics[1], qos=1)
            self.client.publish(self._topics[3], b"online", qos=0, retain=True)
            self._failures = 0
            self._in_flight = 0  # anything unacknowledged before the outage is sent again
            print("mqtt connected")
            if self._ota is not None:
                self._ota.on_connect()
        except (OSError, MQTTError) as exc:
            self._link_failed(exc)

    def _link_failed(self, exc):
        self.client.close()
        self._in_flight = 0
        self._failures += 1
        # Jittered exponential backoff: 1, 2, 4 ... 60 s, times 0.5..1.
        delay = min(60000, 1000 * (1 << min(self._failures - 1, 6)))
        delay = delay // 2 + random.getrandbits(16) % (delay // 2 + 1)
        self._retry_at = time.ticks_add(time.ticks_ms(), delay)
        print("mqtt down:", exc, "retry in", delay, "ms")

    def set_link(self, up):
        """Simulates losing (or regaining) the network: nothing reaches the broker while down."""
        self.link_up = up
        if not up:
            self.client.close()
            self._in_flight = 0

    def _service_link(self):
        if not self.link_up:
            return
        if not self.client.connected:
            self._connect()
            return
        try:
            self.client.check_msg()
            self._flush()
            if time.ticks_diff(time.ticks_ms(), self._last_io) > self.cfg.keepalive_s * 500:
                self.client.ping()
                self._last_io = time.ticks_ms()
        except (OSError, MQTTError) as exc:
            self._link_failed(exc)

    # ---- commands --------------------------------------------------------------------
    def _on_message(self, topic, payload):
        if topic != self._topics[1]:
            return
        self.commands += 1
        if self._ota is None and self.boot is not None and bytes(payload[:8]) == _OTA_START:
            # An update's start, kept as received: its manifest is kilobytes of base64, as
            # JSON it would take three times the room (docs/firmware.md, "OTA on the node").
            self._ota_start = [bytes(payload)]
            return
        try:
            name, value = codec.decode_command(payload)
        except ValueError as exc:
            name, result = "unknown", "ERROR " + str(exc)
        else:
            if name[:3] == "ota" and self.boot is not None:
                self._ota_command(name, value)  # answered on the ota topic, not cmdexe
                return
            try:
                result = self.app.command(name, value)
            except (ValueError, TypeError) as exc:
                result = "ERROR " + str(exc)
        reply = codec.encode_command_result(name, result)
        qos = 1 if len(self.client.inflight) < self.client.max_inflight else 0
        self.client.publish(self._topics[2], reply, qos=qos)

    def _ota_command(self, name, value):
        if name == "ota" and self._ota is None and isinstance(value, dict) and "id" in value:
            # Accepted at the next step, once the received message is freed and with the
            # updater not loaded: accepting a start is the heap peak of an update
            # (docs/firmware.md, "OTA on the node").
            self._ota_start = [value]
            return
        self.updater().handle(name, value)

    def _accept_start(self, box):
        if self._ota is not None:  # loaded since the start came (another message): its turn
            start = box[0]
            if not isinstance(start, dict):
                try:
                    start = codec.decode_command(start)[1]
                except ValueError:
                    start = None  # answered as a bad request
            self._ota.handle("ota", start)
            return False
        from ota_start import accept

        try:
            return accept(self, box)  # empties box: the message is let go inside
        finally:
            del sys.modules["ota_start"]

    # ---- main loop -------------------------------------------------------------------
    def _device_fields(self):
        return [
            ("fw", (self.boot and self.boot.version) or FIRMWARE_VERSION, 0),
            ("bat", self.board.battery_pct(), 0),
            ("rssi", self.board.rssi(), 0),
        ]

    def step(self):
        self.board.service(self)
        self.app.poll(self.board.epoch_ms())
        fields = self.app.report()
        if fields:
            if self._device_info.due():
                fields = fields + self._device_fields()  # rides along: no extra message
            self.record(fields)
        self._service_link()
        if self._ota_accepted:
            # A step after the accepting one, so that the two heap peaks never add up: the
            # start and the code that checked it are let go before the updater is loaded.
            self._ota_accepted = False
            self.updater().on_connect()  # resumes the download just accepted: chunk 0
        box, self._ota_start = self._ota_start, None
        if box is not None and self._accept_start(box):
            self._ota_accepted = True
        if self._ota is not None:
            self._ota.poll()
            if self._ota.idle():  # an update ended (failed, or reported): its code is let go
                self._ota = None
                sys.modules.pop("ota", None)
        if self._status.due():
            gc.collect()
            print(
                "status heap=%d buffered=%d dropped=%d sent=%d connected=%d"
                % (
                    gc.mem_alloc(),
                    len(self.buffer),
                    self.buffer.dropped,
                    self.sent,
                    self.client.connected,
                )
            )

    def run(self, seconds=None):
        cfg = self.cfg
        watchdog = self.board.watchdog(cfg.watchdog_ms)
        print(
            "boot",
            cfg.kind,
            cfg.device_id,
            "fw",
            FIRMWARE_VERSION,
            "reset:",
            self.board.reset_cause(),
        )
        restored = self.buffer.restore(cfg.buffer_file)
        if restored:
            print("restored", restored, "buffered readings")
        self._bring_up_network()
        started = time.ticks_ms()
        while seconds is None or time.ticks_diff(time.ticks_ms(), started) < seconds * 1000:
            watchdog.feed()
            try:
                self.step()
            except Exception as exc:  # keep serving; the watchdog covers real hangs
                print("step failed:", repr(exc))
            if cfg.deep_sleep_s and self._report_cycle_done():
                self.buffer.save(cfg.buffer_file)
                self.client.disconnect()
                self.board.deepsleep(cfg.deep_sleep_s * 1000)
            time.sleep_ms(cfg.loop_ms)
        self.buffer.save(cfg.buffer_file)
        self.client.disconnect()
        print(
            "final recorded=%d sent=%d buffered=%d dropped=%d heap=%d"
            % (self.recorded, self.sent, len(self.buffer), self.buffer.dropped, gc.mem_alloc())
        )

    def _report_cycle_done(self):
        return self.sent > 0 and not len(self.buffer)

    def _bring_up_network(self):
        cfg = self.cfg
        attempt = 0
        while not self.board.wifi_connect(
            getattr(cfg, "wifi_ssid", ""), getattr(cfg, "wifi_password", "")
        ):
            attempt += 1
            time.sleep_ms(min(30000, 500 << min(attempt, 6)) + random.getrandbits(10))
        if not self.board.sync_time():
            print("time sync failed; measures keep the board's clock")

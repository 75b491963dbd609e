"""One settings model per process, validated at start and passed down.

Every field can be set from the environment with the ``CIUDAD_`` prefix
(``CIUDAD_MQTT_PORT=1884``) or from a ``.env`` file; docs/configuration.md
lists them all.  Secrets are ``SecretStr`` so they never appear in logs or
reprs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from support.net import is_loopback

LEON_LATITUDE = 42.5987
LEON_LONGITUDE = -5.5671


class Settings(BaseSettings):
    """Settings shared by every ciudad process (gateway, api, simulator, demo)."""

    model_config = SettingsConfigDict(
        env_prefix="CIUDAD_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(Path(".ciudad"), description="Where embedded data live.")
    database_url: SecretStr | None = Field(
        None,
        description="PostgreSQL DSN; empty starts the embedded PostgreSQL under data_dir/pg.",
    )
    database_read_url: SecretStr | None = Field(
        None,
        description="Where the API's entity and temporal queries read, e.g. a Patroni standby "
        "(target_session_attrs=prefer-standby); empty: the database_url (docs/scaling.md).",
    )
    db_pool_max: int = Field(4, ge=1, le=64, description="Largest PostgreSQL pool per process.")
    db_timeout_s: float = Field(
        5.0, gt=0, description="How long to wait for a database connection before giving up."
    )

    mqtt_host: str = Field("127.0.0.1", description="MQTT broker host.")
    mqtt_port: int = Field(1883, ge=1, le=65535, description="MQTT broker port.")
    mqtt_username: str | None = Field(None, description="MQTT user name, if the broker asks.")
    mqtt_password: SecretStr | None = Field(None, description="MQTT password.")
    mqtt_keepalive_s: int = Field(30, ge=5, description="MQTT keepalive interval.")
    mqtt_tls: bool = Field(False, description="Reach the broker over TLS (port usually 8883).")
    mqtt_ca_file: Path | None = Field(
        None, description="CA certificate(s) the broker's must chain to; unset: the system's."
    )

    gateway_client_id: str = Field(
        "ciudad-gateway",
        # No ".": device client ids are "<apikey>.<device_id>", so none can equal a gateway's.
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="MQTT client id (persistent); letters, digits, '-' and '_' only.",
    )
    gateway_share_group: str | None = Field(
        None, description="Share subscriptions in this group so several gateways split the load."
    )
    mqtt_receive_maximum: int = Field(
        10000, ge=1, le=65535, description="Unacknowledged messages the broker may send us."
    )
    mqtt_v311: bool = Field(
        False, description="Speak MQTT 3.1.1 to the broker (NATS's MQTT listener needs it)."
    )
    gateway_input: Literal["mqtt", "nats"] = Field(
        "mqtt", description="Where the gateway reads device messages: MQTT, or NATS JetStream."
    )
    nats_urls: str = Field(
        "nats://127.0.0.1:4222",
        description="NATS servers (comma-separated; give every cluster node) for input nats.",
    )
    nats_stream: str = Field(
        "$MQTT_msgs",
        pattern=r"^[^.*>\s]{1,64}$",
        description="JetStream stream read: $MQTT_msgs (every MQTT QoS 1 publish) or one of ours.",
    )
    nats_consumer: str = Field(
        "ciudad-gateway",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Durable consumer name; gateway workers sharing it split the messages.",
    )
    nats_max_ack_pending: int = Field(
        20_000, ge=1, description="Messages the workers may hold unacknowledged (backpressure)."
    )
    nats_ack_wait_s: float = Field(
        120.0, ge=5, description="An unacknowledged message is redelivered after this long."
    )
    lorawan_mqtt_host: str | None = Field(
        None, description="A LoRaWAN network server's MQTT broker; unset: no LoRaWAN input."
    )
    lorawan_mqtt_port: int = Field(1883, ge=1, le=65535, description="Its port.")
    lorawan_mqtt_username: str | None = Field(None, description="User name on that broker.")
    lorawan_mqtt_password: SecretStr | None = Field(None, description="Password on that broker.")
    lorawan_mqtt_v311: bool = Field(
        False, description="Speak MQTT 3.1.1 to it (The Things Stack's MQTT server needs it)."
    )
    lorawan_mqtt_tls: bool = Field(False, description="Reach it over TLS (port usually 8883).")
    lorawan_mqtt_ca_file: Path | None = Field(
        None, description="CA certificate(s) its certificate must chain to; unset: the system's."
    )
    batch_max_messages: int = Field(5000, ge=1, description="Flush a batch at this many messages.")
    batch_max_wait_ms: int = Field(200, ge=1, description="Flush a batch after this long.")
    spool_dir: Path | None = Field(
        None, description="Store-and-forward spool; default data_dir/spool/<gateway client id>."
    )
    spool_max_bytes: int = Field(
        256 * 1024 * 1024, ge=0, description="Spool size limit; 0 disables the spool."
    )
    device_max_msgs_per_s: float = Field(
        10.0, ge=0, description="Messages a second one device may send on average; 0: no limit."
    )
    device_burst_msgs: int = Field(
        3600, ge=1, description="Messages one device may send at once above that rate."
    )
    max_future_skew_s: float = Field(
        300.0, ge=0, description="Reject measures stamped further than this in the future."
    )
    max_past_age_s: float = Field(
        30 * 86400.0, gt=0, description="Reject measures older than this."
    )
    api_max_write_days: int = Field(
        40, ge=1, description="Most distinct days (daily partitions) one API write may touch."
    )
    temporal_max_instances: int = Field(
        10_000, ge=1, le=1_000_000,
        description="Most instances per attribute one temporal answer holds (206 beyond).",
    )  # fmt: skip
    influx_url: str | None = Field(
        None, description="InfluxDB base URL: observations are also written there."
    )
    influx_api: Literal["v1", "v2"] = Field(
        "v2", description="v2: /api/v2/write (2.x, 1.8+); v1: /write?db= (any 1.x)."
    )
    influx_database: str = Field("ciudad", description="InfluxDB bucket (v2) or database (v1).")
    influx_org: str = Field("ciudad", description="InfluxDB organisation (v2).")
    influx_token: SecretStr | None = Field(None, description="InfluxDB API token (v2).")
    retention_raw_days: int = Field(
        30, ge=0, description="Days raw observations are kept (0 keeps them forever)."
    )
    retention_minute_days: int = Field(365, ge=0, description="Days 1-minute roll-ups are kept.")
    retention_quarter_hour_days: int = Field(
        730, ge=0, description="Days 15-minute roll-ups are kept."
    )
    retention_hour_days: int = Field(0, ge=0, description="Days hourly roll-ups are kept.")
    retention_day_days: int = Field(0, ge=0, description="Days daily roll-ups are kept.")
    retention_dead_letter_days: int = Field(
        30, ge=0, description="Days dead letters are kept (0 keeps them forever)."
    )
    retention_interval_s: float = Field(
        3600.0, ge=0, description="How often the gateway applies retention (0: never)."
    )
    gateway_ops_port: int = Field(
        9101,
        ge=0,
        le=65535,
        description="Port of the gateway's /metrics and /health/* (on api_host); 0: none.",
    )
    provisioning_file: Path | None = Field(
        None,
        description="Provisioning (JSON or CSV) imported into the registry at gateway start.",
    )
    ota_start_resend_s: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="Firmware updates: a start no node answered is sent again after this long.",
    )

    api_host: str = Field("127.0.0.1", description="Address the HTTP API binds to.")
    api_port: int = Field(1026, ge=0, le=65535, description="Port of the HTTP API.")
    api_auth: Literal["keys", "off"] = Field(
        "keys",
        description="keys: every request needs an API key; off: open (loopback address only).",
    )
    api_max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body the API reads (413 above)."
    )
    api_max_json_depth: int = Field(
        32, ge=4, le=1000, description="Deepest nesting of a JSON body the API parses."
    )
    api_server_names: str = Field(
        "localhost,127.0.0.1,[::1]",
        description="Host names an open API (keys off) answers to, comma-separated; * any.",
    )
    outbound_allow: str = Field(
        "",
        description="Non-public networks or host names (comma-separated) that @context links "
        "and subscription endpoints may reach; all others of them are refused.",
    )
    jsonld_context_timeout_s: float = Field(
        5.0, gt=0, le=60, description="How long fetching a user @context may take (once each)."
    )
    notifier_enabled: bool = Field(
        True, description="Run the subscription notifier in this API process (one leads)."
    )
    notification_timeout_s: float = Field(
        5.0, gt=0, le=120, description="How long an endpoint may take to accept a notification."
    )
    notification_max_backoff_s: float = Field(
        300.0, ge=1, description="Longest wait between two attempts of a failing notification."
    )
    notification_max_pending: int = Field(
        10_000, ge=1, description="Queued notifications per subscription before the oldest go."
    )
    default_tenant: str = Field(
        "default", description="Tenant used when a request has no NGSILD-Tenant header."
    )

    slo_ingest_latency_s: float = Field(
        5.0, gt=0, description="Objective: a reading is queryable this soon after its timestamp."
    )
    slo_ingest_share: float = Field(
        0.95, gt=0, le=1, description="Share of readings that must meet the latency objective."
    )
    slo_api_availability: float = Field(
        0.999, gt=0, le=1, description="Share of API requests answered without a server error."
    )
    slo_completeness: float = Field(
        0.95, gt=0, le=1, description="Share of its expected readings each sensor must deliver."
    )

    alert_rules_file: Path | None = Field(
        None, description="Alert rules table (JSON list); empty: the built-in EU/WHO rules."
    )
    noise_objectives_file: Path | None = Field(
        None, description="Noise quality objectives per area (JSON); empty: RD 1367/2007."
    )
    alert_interval_s: float = Field(
        60.0, ge=0, description="How often the API evaluates the alert rules (0: never)."
    )
    sim_latitude: float = Field(LEON_LATITUDE, ge=-90, le=90, description="Simulated city centre.")
    sim_longitude: float = Field(LEON_LONGITUDE, ge=-180, le=180)
    sim_tenant: str = Field("leon", pattern=r"^[a-z0-9_]+$", description="Tenant of the fleet.")
    sim_apikey: str = Field("leon-sensors", description="Service-group apikey of the fleet.")
    sim_interval_s: float = Field(5.0, gt=0, description="Seconds between a device's readings.")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO")
    log_format: Literal["json", "text"] = Field("text", description="Log line format.")

    @model_validator(mode="after")
    def _late_readings_fit_in_raw_retention(self) -> Settings:
        """A reading accepted as late must have a raw partition to land in."""
        if self.retention_raw_days and self.max_past_age_s > self.retention_raw_days * 86_400:
            raise ValueError(
                f"max_past_age_s ({self.max_past_age_s:g} s) exceeds retention_raw_days "
                f"({self.retention_raw_days} days): lower CIUDAD_MAX_PAST_AGE_S or raise "
                "CIUDAD_RETENTION_RAW_DAYS"
            )
        return self

    @model_validator(mode="after")
    def _open_api_only_on_loopback(self) -> Settings:
        if self.api_auth == "off" and not is_loopback(self.api_host):
            raise ValueError(
                f"api_auth=off with api_host={self.api_host} would open the API to the "
                "network: set CIUDAD_API_AUTH=keys or CIUDAD_API_HOST=127.0.0.1"
            )
        return self

    @property
    def spool_path(self) -> Path:
        return self.spool_dir or self.data_dir / "spool" / self.gateway_client_id

    @property
    def embedded_db_dir(self) -> Path:
        return self.data_dir / "pg"

"""The Patroni cluster's generated configuration: loopback only, passwords everywhere,
timings Patroni accepts, and no password in a repr or a printed URL."""

from __future__ import annotations

from pathlib import Path

from support.store.patroni import Passwords, Timings
from support.store.patroni.__main__ import masked
from support.store.patroni.config import NodePorts, node_config
from support.store.patroni.etcd import EtcdMember, etcd_argv


def config() -> dict[str, object]:
    node = NodePorts("pg0", 5432, 8008)
    passwords = Passwords("su-secret", "repl-secret", "app-secret")
    return node_config(node, Path("/tmp/n"), ["127.0.0.1:2379"], passwords, Timings())


def test_timings_fit_patroni_rule_and_fail_over_in_seconds() -> None:
    t = Timings()
    assert t.loop_wait + 2 * t.retry_timeout <= t.ttl <= 10


def test_every_listener_is_loopback_and_every_connection_needs_a_password() -> None:
    document = config()
    assert document["restapi"] == {"listen": "127.0.0.1:8008", "connect_address": "127.0.0.1:8008"}
    postgresql = document["postgresql"]
    assert isinstance(postgresql, dict)
    assert postgresql["listen"] == "127.0.0.1:5432"
    bootstrap = document["bootstrap"]
    assert isinstance(bootstrap, dict)
    for line in bootstrap["pg_hba"]:
        assert line.endswith("scram-sha-256"), line
        assert "0.0.0.0" not in line
        assert "::" not in line
    assert bootstrap["dcs"]["synchronous_mode"] is True
    assert bootstrap["dcs"]["postgresql"]["parameters"]["synchronous_commit"] == "remote_apply"
    argv = etcd_argv(EtcdMember("e0", 2379, 2380), (EtcdMember("e0", 2379, 2380),), Path("/d"), "t")
    urls = [a.split("=", 1)[1] for a in argv if "-urls=" in a]
    assert urls
    assert all(u.startswith("http://127.0.0.1:") for u in urls)


def test_generated_passwords_differ_and_stay_out_of_reprs_and_printed_urls() -> None:
    first, second = Passwords.generate(), Passwords.generate()
    assert len({first.superuser, first.replication, first.app, second.app}) == 4
    assert first.app not in repr(first)
    url = f"postgresql://ciudad:{first.app}@127.0.0.1:1,127.0.0.1:2/ciudad"
    assert first.app not in masked(url)
    assert masked(url).startswith("postgresql://ciudad:****@127.0.0.1:1,127.0.0.1:2/")

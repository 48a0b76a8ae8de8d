"""What the launcher writes for `--proxies N` (taxi/node_config.py, crossbar_config/proxies.yaml):
the public transport moves, unchanged but for the shared port and /healthz, from the router
worker into each proxy node; with no proxies the node is config.yaml's. The nodes themselves:
tests/e2e/test_proxies.py."""

from pathlib import Path

import yaml
from twisted.logger import LogLevel

from taxi.node_config import check_tls, proxy_config, write_node_config
from taxi.supervisor import CROSSBAR_CONFIG, node_environment
from taxi_core.config import Settings


def written(tmp_path, proxies: int):
    environ = node_environment(Settings(port=8123), str(tmp_path), LogLevel.warn)
    router = yaml.safe_load(Path(write_node_config(CROSSBAR_CONFIG, str(tmp_path), environ, proxies)).read_text())
    return environ, router, [yaml.safe_load(Path(proxy_config(str(tmp_path), n)).read_text()) for n in range(1, proxies + 1)]


def public_of(worker: dict) -> list[dict]:
    return [t for t in worker["transports"] if t["type"] == "web" and "ws" in t.get("paths", {})]


def test_with_no_proxies_the_router_worker_serves_the_public_port_as_config_yaml_has_it(tmp_path):
    _, router, proxies = written(tmp_path, 0)
    source = yaml.safe_load(Path(CROSSBAR_CONFIG).read_text())
    assert proxies == [] and not (tmp_path / "proxy-1").exists()
    assert public_of(router["workers"][0]) == public_of(source["workers"][0])
    assert [w["type"] for w in router["workers"]] == ["router"]


def test_with_proxies_each_serves_the_public_transport_on_the_shared_port_and_the_router_worker_none(tmp_path):
    environ, router, proxies = written(tmp_path, 2)
    source = public_of(yaml.safe_load(Path(CROSSBAR_CONFIG).read_text())["workers"][0])[0]
    assert public_of(router["workers"][0]) == []
    assert len(proxies) == 2 and proxies[0] == proxies[1]
    [worker] = proxies[0]["workers"]
    [public] = worker["transports"]
    assert public["endpoint"] == {**source["endpoint"], "port": 8123, "shared": True}
    assert public["paths"]["ws"] == source["paths"]["ws"]  # the same options, origins and authentication
    assert public["paths"]["healthz"] == {
        "type": "resource", "classname": "components.proxy_guard.HealthRelay",
        "extra": {"port": int(environ["TAXI_HEALTH_PORT"])},
    }  # fmt: skip
    [connection] = worker["connections"].values()
    assert connection["transport"]["endpoint"] == {"type": "unix", "path": environ["TAXI_PROXY_SOCKET"]}
    assert set(worker["routes"]["taxi"]) == {"anonymous", "rider", "driver", "trusted"}  # never "backend"


def test_with_proxies_the_router_worker_listens_for_them_on_its_unix_socket_and_for_healthz_on_the_loopback(tmp_path):
    environ, router, _ = written(tmp_path, 1)
    endpoints = {t["type"]: t for t in router["workers"][0]["transports"][-2:]}
    assert endpoints["rawsocket"]["endpoint"] == {"type": "unix", "path": "${TAXI_PROXY_SOCKET}"}
    assert endpoints["rawsocket"]["auth"] == {"anonymous-proxy": {"type": "static"}}
    assert endpoints["web"]["endpoint"] == {"type": "tcp", "port": "$TAXI_HEALTH_PORT", "interface": "127.0.0.1"}
    # Left to Crossbar's substitution, and no secret written into the files.
    assert environ["TAXI_BACKEND_TICKET"] not in "".join(p.read_text() for p in tmp_path.rglob("config.yaml"))


def test_the_backend_port_speaks_tls_exactly_when_its_key_and_certificate_are_given(tmp_path):
    key, certificate = tmp_path / "router.key", tmp_path / "router.pem"
    key.write_text("a key"), certificate.write_text("a certificate")
    files = {"TAXI_BACKEND_TLS_KEY": str(key), "TAXI_BACKEND_TLS_CERTIFICATE": str(certificate)}
    assert check_tls(CROSSBAR_CONFIG, files) is True
    assert check_tls(CROSSBAR_CONFIG, {}) is False
    assert check_tls(CROSSBAR_CONFIG, {name: " " for name in files}) is False


def test_the_public_port_queues_a_reconnect_storm_in_the_router_and_in_every_proxy(tmp_path):
    # Crossbar's default of 50 dropped the SYNs of a storm's thousands, each tried again 1 s,
    # 3 s, 7 s later by the client's kernel (docs/reliability.md, "Reconnect storm").
    _, router, _ = written(tmp_path, 0)
    _, _, proxies = written(tmp_path / "proxied", 2)
    publics = public_of(router["workers"][0]) + [public_of(p["workers"][0])[0] for p in proxies]
    assert [public["endpoint"]["backlog"] for public in publics] == [4096] * 3

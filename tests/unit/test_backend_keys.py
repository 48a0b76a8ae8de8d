"""Backends over TCP, without a node: the key lists (taxi_core/backend_keys.py), `taxi keygen`
(taxi/keygen.py), the router's answer for a key (components/backend_keys.py), the backend's URL
(components/backend_link.py) and the interface the launcher fills in (taxi/node_config.py).
tests/e2e/test_remote_backend.py runs them all on a node."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from autobahn.wamp.exception import ApplicationError
from twisted.logger import LogLevel

from components.backend_keys import BackendKeys
from components.backend_link import RouterURLInvalid, link_for, tcp_endpoint
from taxi.cli import main
from taxi.keygen import KeyFileExists, public_path, write_key_pair
from taxi.node_config import write_node_config
from taxi.supervisor import CROSSBAR_CONFIG, node_environment
from taxi_core.backend_keys import (
    BackendKeysUnusable,
    authid_for,
    parse_keys,
    public_key_of,
    read_keys_file,
    read_private_key,
)
from taxi_core.config import Settings

A = "a" * 64
B = "0123456789abcdef" * 4


def test_a_keys_file_takes_one_key_a_line_with_comments_and_blank_lines(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"# the backends of the north city\n\n{A}  # host a\n   {B.upper()}\n{A}\n")
    assert read_keys_file(str(keys)) == (A, B)


def test_a_line_that_is_not_a_key_stops_the_list_naming_the_line(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"{A}\n{B[:-1]}\n")
    with pytest.raises(BackendKeysUnusable, match=r"line 2: '0123456789abcdef0123\.\.\.' is not a public key"):
        read_keys_file(str(keys))
    # Two keys on one line of a file are a mistake (a lost line break), not two keys.
    keys.write_text(f"{A} {B}\n")
    with pytest.raises(BackendKeysUnusable, match="line 1"):
        read_keys_file(str(keys))


def test_a_keys_file_that_cannot_be_read_is_one_reason(tmp_path):
    with pytest.raises(BackendKeysUnusable, match="No such file or directory") as missing:
        read_keys_file(str(tmp_path / "nowhere"))
    assert missing.value.source == str(tmp_path / "nowhere")


def test_the_environment_s_keys_may_be_separated_by_spaces_or_commas():
    assert parse_keys(f"{A}, {B}") == (A, B)
    assert parse_keys("") == ()
    assert Settings.from_environ({"TAXI_BACKEND_KEYS": f"{B} {A}"}).backend_keys == (B, A)
    with pytest.raises(BackendKeysUnusable, match="TAXI_BACKEND_KEYS: line 1: 'backend'"):
        Settings.from_environ({"TAXI_BACKEND_KEYS": "backend"})


def test_keygen_writes_a_private_key_only_its_owner_may_read_and_the_public_key_beside_it(tmp_path):
    path = str(tmp_path / "b.key")
    public = write_key_pair(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert Path(public_path(path)).read_text() == public + "\n"
    assert read_keys_file(public_path(path)) == (public,)  # the .pub is a keys file of one line
    assert public_key_of(read_private_key(path)) == public
    assert write_key_pair(str(tmp_path / "other.key")) != public


def test_keygen_never_overwrites_a_key(tmp_path):
    path = str(tmp_path / "b.key")
    write_key_pair(path)
    before = Path(path).read_text()
    with pytest.raises(KeyFileExists):
        write_key_pair(path)
    os.remove(path)
    with pytest.raises(KeyFileExists, match=r"b\.key\.pub exists"):  # nor the public half alone
        write_key_pair(path)
    assert not Path(path).exists() and before


def test_taxi_keygen_prints_the_public_key_first_and_how_to_use_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["keygen"])
    first, *rest = capsys.readouterr().out.splitlines()
    assert read_keys_file("taxi-backend.key.pub") == (first,)
    assert any("TAXI_BACKEND_KEYS_FILE" in line for line in rest)
    assert any("TAXI_BACKEND_KEY_FILE=taxi-backend.key taxi backend --router rs://" in line for line in rest)
    with pytest.raises(SystemExit, match="taxi keygen: taxi-backend.key exists"):
        main(["keygen"])


def test_the_router_makes_a_listed_key_a_backend_named_after_it_whatever_it_asked_for():
    authenticate = BackendKeys([A, B]).authenticate
    asked = {"authextra": {"pubkey": B.upper()}, "authid": "trusted", "authrole": "trusted"}
    principal = authenticate("elsewhere", "trusted", asked)
    assert principal == {"pubkey": B, "authid": "backend-01234567", "role": "backend", "realm": "taxi"}
    assert authid_for(A) == "backend-aaaaaaaa"


@pytest.mark.parametrize("extra", [{"pubkey": "c" * 64}, {}, None, {"pubkey": 7}, {"pubkey": A[:-2]}])
def test_the_router_refuses_any_other_key_or_none(extra):
    with pytest.raises(ApplicationError) as refused:
        BackendKeys([A]).authenticate("taxi", None, {"authextra": extra})
    assert refused.value.error == "wamp.error.authentication_failed"
    assert BackendKeys([]).authenticate is not None  # no key listed: everyone is refused
    with pytest.raises(ApplicationError):
        BackendKeys([]).authenticate("taxi", None, {"authextra": {"pubkey": A}})


def test_a_backend_joins_the_socket_with_the_ticket_unless_given_a_router_url(tmp_path):
    local = link_for(Settings(backend_socket="/run/taxi/b.sock", backend_ticket="t"))
    assert local.is_local and local.endpoint == {"type": "unix", "path": "/run/taxi/b.sock"}
    assert local.authentication == {"ticket": {"authid": "backend", "ticket": "t"}}
    key = str(tmp_path / "b.key")
    write_key_pair(key)
    remote = link_for(Settings(backend_router="rs://10.0.0.5:8081", backend_key_file=key))
    assert not remote.is_local and remote.endpoint == {"type": "tcp", "host": "10.0.0.5", "port": 8081}
    assert remote.authentication == {"cryptosign": {"privkey": read_private_key(key)}}


def test_a_router_url_without_a_key_or_with_a_key_file_that_is_not_one_is_refused(tmp_path):
    with pytest.raises(ValueError, match="set TAXI_BACKEND_KEY_FILE"):
        link_for(Settings(backend_router="rs://router:8081"))
    with pytest.raises(ValueError, match="cannot read TAXI_BACKEND_KEY_FILE"):
        link_for(Settings(backend_router="rs://router:8081", backend_key_file=str(tmp_path / "none")))
    public_only = tmp_path / "b.key.pub"
    public_only.write_text(A + "\n" + A + "\n")
    with pytest.raises(ValueError, match="is not a private key"):
        link_for(Settings(backend_router="rs://router:8081", backend_key_file=str(public_only)))


def test_router_urls_are_rawsocket_over_tcp_with_tls_for_rss():
    assert tcp_endpoint("tcp://router:9000") == {"type": "tcp", "host": "router", "port": 9000}
    assert tcp_endpoint("rss://router.example:8443", "/etc/taxi/ca.pem") == {
        "type": "tcp", "host": "router.example", "port": 8443,
        "tls": {"hostname": "router.example", "trust_root": "/etc/taxi/ca.pem"},
    }  # fmt: skip
    for wrong in ("ws://router:8080/ws", "rs://:8081", "router:8081", "rs://router:port", "rs://router:1/x"):
        with pytest.raises(RouterURLInvalid):
            tcp_endpoint(wrong)


def test_the_launcher_binds_the_backend_port_where_it_is_told_and_to_the_loopback_otherwise(tmp_path):
    default = node_environment(Settings(), str(tmp_path), LogLevel.warn)
    opened = node_environment(Settings(backend_host="0.0.0.0", backend_port=9001), str(tmp_path), LogLevel.warn)
    assert (default["TAXI_BACKEND_HOST"], opened["TAXI_BACKEND_HOST"], opened["TAXI_BACKEND_PORT"]) == (
        "127.0.0.1", "0.0.0.0", "9001")  # fmt: skip
    assert int(default["TAXI_BACKEND_PORT"]) > 0  # one the OS had free
    config = yaml.safe_load(Path(write_node_config(CROSSBAR_CONFIG, str(tmp_path), opened)).read_text())
    endpoints = [t["endpoint"] for t in config["workers"][0]["transports"]]
    tcp_backend = [e for e in endpoints if e.get("port") == "$TAXI_BACKEND_PORT"]
    assert tcp_backend == [{"type": "tcp", "port": "$TAXI_BACKEND_PORT", "interface": "0.0.0.0"}]
    # Everything else is left to Crossbar's own substitution: the file holds no secret.
    assert opened["TAXI_BACKEND_TICKET"] not in Path(tmp_path / "config.yaml").read_text()


def test_the_backend_port_speaks_tls_with_the_files_it_is_given_as_absolute_paths(tmp_path, monkeypatch):
    for name in ("key.pem", "cert.pem"):
        (tmp_path / name).write_text("PEM")
    monkeypatch.chdir(tmp_path)  # Crossbar would read a relative path from its node directory
    (tmp_path / "node").mkdir()
    environment = {**node_environment(Settings(), str(tmp_path), LogLevel.warn),
                   "TAXI_BACKEND_TLS_KEY": "key.pem", "TAXI_BACKEND_TLS_CERTIFICATE": "cert.pem"}  # fmt: skip
    config = yaml.safe_load(Path(write_node_config(CROSSBAR_CONFIG, str(tmp_path / "node"), environment)).read_text())
    [tcp_backend] = [t["endpoint"] for t in config["workers"][0]["transports"] if "tls" in t["endpoint"]]
    assert tcp_backend["tls"] == {"key": str(tmp_path / "key.pem"), "certificate": str(tmp_path / "cert.pem")}
    assert tcp_backend["port"] == "$TAXI_BACKEND_PORT"


def test_the_launcher_hands_the_router_the_keys_themselves(tmp_path):
    settings = Settings(backend_keys=(A, B), backend_keys_file="/etc/taxi/backend-keys")
    environment = node_environment(settings, str(tmp_path), LogLevel.warn)
    assert parse_keys(environment["TAXI_BACKEND_KEYS"]) == (A, B)

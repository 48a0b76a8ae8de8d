"""The node's config as Crossbar gets it: crossbar_config/config.yaml, with each endpoint's
`interface: "$VAR"` filled in from the environment, and with N proxies (`taxi run --proxies N`)
the changes crossbar_config/proxies.yaml describes, plus one config per proxy node.

Why. Crossbar substitutes environment variables in an endpoint's port ("$VAR") and in secrets
("${VAR}"), but takes an interface as written (crossbar/common/twisted/endpoint.py,
create_listening_endpoint_from_config): "$TAXI_BACKEND_HOST" would be bound as a host name. The
backend port's interface is the operator's choice (127.0.0.1 unless opened), so the launcher
fills in that one value and leaves everything else, secrets included, to Crossbar: the file it
writes into the node's private directory holds no secret. A shared port (`shared: true`, the
proxies' public port), a proxy's connection to the router (a client endpoint's path) and a
resource's `extra` are taken as written too: the launcher fills those in the same way.

The same goes for an endpoint's `tls` (its key's and certificate's files): Crossbar takes the
paths as written. The backend port's TLS is optional, so the config names both files by
variable and the launcher fills them in, or drops `tls` when neither is set (plain TCP, the
default on a loopback interface); one without the other, or a file taxi cannot read, stops the
start with one line.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Mapping

import yaml

VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
# The public transport is the one on TAXI_PORT (config.yaml).
PUBLIC_PORT = "$TAXI_PORT"
PROXY_TEMPLATE = "proxies.yaml"


class TLSUnusable(ValueError):
    """The TLS files an endpoint names cannot be used; the message says which and why."""


def write_node_config(source: str, node_dir: str, environ: Mapping[str, str], proxies: int = 0) -> str:
    """Writes the router node's config to `node_dir` and returns its path; with `proxies`, also
    each proxy node's, to proxy_config(node_dir, n) (the template: proxies.yaml beside `source`)."""
    config = _load(source)
    proxy_configs = []
    if proxies:
        template = _load(os.path.join(os.path.dirname(source), PROXY_TEMPLATE))
        public = _take_public_transport(config, template, environ)
        proxy_configs = [_proxy_node(template["proxy_node"], public, environ) for _ in range(proxies)]
    for endpoint in _endpoints(config):
        _fill(endpoint, "interface", environ)
        _fill_tls(endpoint, environ)
    for n, proxy in enumerate(proxy_configs, start=1):
        _write(proxy, proxy_config(node_dir, n))
    return _write(config, os.path.join(node_dir, "config.yaml"))


def check_tls(source: str, environ: Mapping[str, str]) -> bool:
    """Whether the backend port speaks TLS (the one endpoint of `source` that may), as the node
    will be written; TLSUnusable if the files `environ` names cannot be used. The launcher asks
    before it starts anything, so that a bad file is one line rather than a traceback, and says
    rss:// or rs:// from the answer."""
    endpoints = list(_endpoints(_load(source)))
    for endpoint in endpoints:
        _fill_tls(endpoint, environ)
    return any("tls" in endpoint for endpoint in endpoints)


def proxy_config(node_dir: str, n: int) -> str:
    """Proxy node n's config; its directory (its node key, its pid file) is its own."""
    return os.path.join(node_dir, f"proxy-{n}", "config.yaml")


def _take_public_transport(config: dict, template: dict, environ: Mapping[str, str]) -> dict:
    """Moves the public transport out of the router worker, which gets the proxies' instead."""
    router = next(worker for worker in config["workers"] if worker["type"] == "router")
    public = next(t for t in router["transports"] if t.get("endpoint", {}).get("port") == PUBLIC_PORT)
    router["transports"] = [t for t in router["transports"] if t is not public]
    router["transports"] += template["router_transports"]
    # Crossbar's shared port (crossbar/common/twisted/sharedport.py) takes its port as written.
    public["endpoint"]["shared"] = True
    _fill(public["endpoint"], "port", environ, int)
    healthz = copy.deepcopy(template["healthz"])
    _fill(healthz["extra"], "port", environ, int)
    paths = public.get("paths", {})
    public["paths"] = {path: (healthz if path == "healthz" else service) for path, service in paths.items()}
    return public


def _proxy_node(template: dict, public: dict, environ: Mapping[str, str]) -> dict:
    proxy = copy.deepcopy(template)
    for worker in proxy["workers"]:
        worker["transports"] = [copy.deepcopy(public)]
        for connection in worker["connections"].values():
            _fill(connection["transport"]["endpoint"], "path", environ)
    return proxy


def _endpoints(config: dict):
    for worker in config.get("workers", []):
        for transport in worker.get("transports", []):
            yield transport.setdefault("endpoint", {})


def _fill_tls(endpoint: dict, environ: Mapping[str, str]) -> None:
    tls = endpoint.get("tls")
    if not isinstance(tls, dict):
        return
    named = {part: VARIABLE.fullmatch(str(value)) for part, value in tls.items()}
    files = {part: environ.get(match[1], "").strip() if match else str(tls[part]) for part, match in named.items()}
    if not any(files.values()):
        del endpoint["tls"]
        return
    missing = [named[part][1] for part, path in files.items() if not path and named[part]]
    if missing:
        raise TLSUnusable(f"TLS needs both files: set {' and '.join(missing)} too (or neither, for plain TCP)")
    for part, path in files.items():
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            variable = named[part][1] if named[part] else part
            raise TLSUnusable(f"cannot read {variable} {path}: {error.strerror}") from error
        tls[part] = os.path.abspath(path)


def _fill(item: dict, key: str, environ: Mapping[str, str], kind=str) -> None:
    match = VARIABLE.fullmatch(str(item.get(key, "")))
    if match is None:
        return
    if match[1] not in environ:
        raise KeyError(f"the node's config sets {key} to ${match[1]}, which is not set")
    item[key] = kind(environ[match[1]])


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as file:
        return yaml.safe_load(file)


def _write(config: dict, path: str) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        yaml.safe_dump(config, file, sort_keys=False)
    return path

"""How a backend reaches the router: which transport, and which credential.

By default, on the router's host, the Unix socket in the node's private directory with the
run's ticket (taxi/supervisor.py makes both). From another host, TAXI_BACKEND_ROUTER (or
`taxi backend --router URL`) names the router's backend port, rs://HOST:PORT (tcp://HOST:PORT
too), or rss://HOST:PORT for TLS, checked against TAXI_BACKEND_CA_FILE if the router's
certificate is not one the system trusts; the backend proves itself with the private key in
TAXI_BACKEND_KEY_FILE (`taxi keygen`) through WAMP-cryptosign, and the router lets it in if it
lists the public key (components/backend_keys.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

from taxi_core.backend_keys import read_private_key
from taxi_core.config import Settings

BACKEND_AUTHID = "backend"
DEFAULT_PORTS = {"rs": 80, "tcp": 80, "rss": 443}


class RouterURLInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Link:
    endpoint: dict
    authentication: dict
    where: str  # for the log: the socket's path or the router's URL

    @property
    def is_local(self) -> bool:
        return self.endpoint["type"] == "unix"


def link_for(settings: Settings, environ=os.environ) -> Link:
    """The Unix socket and ticket, or, with a router URL, TCP and the key (ValueError if either is unusable)."""
    if not settings.backend_router:
        return Link(
            {"type": "unix", "path": settings.backend_socket},
            {"ticket": {"authid": BACKEND_AUTHID, "ticket": settings.backend_ticket}},
            settings.backend_socket,
        )
    endpoint = tcp_endpoint(settings.backend_router, environ.get("TAXI_BACKEND_CA_FILE") or None)
    if not settings.backend_key_file:
        raise ValueError("a backend joins a router by URL with a key: set TAXI_BACKEND_KEY_FILE (`taxi keygen` makes one)")
    try:
        privkey = read_private_key(settings.backend_key_file)
    except OSError as error:
        raise ValueError(f"cannot read TAXI_BACKEND_KEY_FILE {settings.backend_key_file}: {error.strerror}") from error
    # No authid: the router names the backend after its key (taxi_core/backend_keys.py).
    return Link(endpoint, {"cryptosign": {"privkey": privkey}}, settings.backend_router)


def tcp_endpoint(url: str, ca_file: str | None = None) -> dict:
    where = urlparse(url)
    if where.scheme not in DEFAULT_PORTS or not where.hostname or where.path not in ("", "/"):
        raise RouterURLInvalid(f"{url!r} is not a router's backend port; use rs://HOST:PORT (or rss:// for TLS)")
    try:
        port = where.port or DEFAULT_PORTS[where.scheme]
    except ValueError as error:
        raise RouterURLInvalid(f"{url!r}: {error}") from error
    endpoint = {"type": "tcp", "host": where.hostname, "port": port}
    if where.scheme == "rss":
        endpoint["tls"] = {"hostname": where.hostname, **({"trust_root": ca_file} if ca_file else {})}
    return endpoint

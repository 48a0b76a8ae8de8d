"""The node's config as Crossbar gets it: crossbar_config/config.yaml, with each endpoint's
`interface: "$VAR"` filled in from the environment.

Why. Crossbar substitutes environment variables in an endpoint's port ("$VAR") and in secrets
("${VAR}"), but takes an interface as written (crossbar/common/twisted/endpoint.py,
create_listening_endpoint_from_config): "$TAXI_BACKEND_HOST" would be bound as a host name. The
backend port's interface is the operator's choice (127.0.0.1 unless opened), so the launcher
fills in that one value and leaves everything else, secrets included, to Crossbar: the file it
writes into the node's private directory holds no secret.

The same goes for an endpoint's `tls` (its key's and certificate's files): Crossbar takes the
paths as written. The backend port's TLS is optional, so the config names both files by
variable and the launcher fills them in, or drops `tls` when neither is set (plain TCP, the
default on a loopback interface); one without the other, or a file taxi cannot read, stops the
start with one line.
"""

from __future__ import annotations

import os
import re
from typing import Mapping

import yaml

VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class TLSUnusable(ValueError):
    """The TLS files an endpoint names cannot be used; the message says which and why."""


def write_node_config(source: str, node_dir: str, environ: Mapping[str, str]) -> str:
    """Writes `source` with its interfaces and TLS files filled in to `node_dir`; returns the file's path."""
    config = _read(source)
    for endpoint in _endpoints(config):
        _fill_interface(endpoint, environ)
        _fill_tls(endpoint, environ)
    path = os.path.join(node_dir, "config.yaml")
    with open(path, "w", encoding="utf-8") as file:
        yaml.safe_dump(config, file, sort_keys=False)
    return path


def check_tls(source: str, environ: Mapping[str, str]) -> None:
    """TLSUnusable if the TLS files `environ` names for `source`'s endpoints cannot be used: the
    launcher asks before it starts anything, so that this is one line rather than a traceback."""
    for endpoint in _endpoints(_read(source)):
        _fill_tls(endpoint, environ)


def _read(source: str) -> dict:
    with open(source, encoding="utf-8") as file:
        return yaml.safe_load(file)


def _endpoints(config: dict):
    for worker in config.get("workers", []):
        for transport in worker.get("transports", []):
            yield transport.setdefault("endpoint", {})


def _fill_interface(endpoint: dict, environ: Mapping[str, str]) -> None:
    match = VARIABLE.fullmatch(str(endpoint.get("interface", "")))
    if match is None:
        return
    if match[1] not in environ:
        raise KeyError(f"the node's config binds an interface to ${match[1]}, which is not set")
    endpoint["interface"] = environ[match[1]]


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

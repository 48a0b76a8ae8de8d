"""The node's config as Crossbar gets it: crossbar_config/config.yaml, with each endpoint's
`interface: "$VAR"` filled in from the environment.

Why. Crossbar substitutes environment variables in an endpoint's port ("$VAR") and in secrets
("${VAR}"), but takes an interface as written (crossbar/common/twisted/endpoint.py,
create_listening_endpoint_from_config): "$TAXI_BACKEND_HOST" would be bound as a host name. The
backend port's interface is the operator's choice (127.0.0.1 unless opened), so the launcher
fills in that one value and leaves everything else, secrets included, to Crossbar: the file it
writes into the node's private directory holds no secret.
"""

from __future__ import annotations

import os
import re
from typing import Mapping

import yaml

VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def write_node_config(source: str, node_dir: str, environ: Mapping[str, str]) -> str:
    """Writes `source` with its interfaces filled in to `node_dir`; returns the file's path."""
    with open(source, encoding="utf-8") as file:
        config = yaml.safe_load(file)
    for worker in config.get("workers", []):
        for transport in worker.get("transports", []):
            _fill_interface(transport.get("endpoint", {}), environ)
    path = os.path.join(node_dir, "config.yaml")
    with open(path, "w", encoding="utf-8") as file:
        yaml.safe_dump(config, file, sort_keys=False)
    return path


def _fill_interface(endpoint: dict, environ: Mapping[str, str]) -> None:
    match = VARIABLE.fullmatch(str(endpoint.get("interface", "")))
    if match is None:
        return
    if match[1] not in environ:
        raise KeyError(f"the node's config binds an interface to ${match[1]}, which is not set")
    endpoint["interface"] = environ[match[1]]

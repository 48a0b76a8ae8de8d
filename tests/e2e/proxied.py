"""The contract through proxies: the node on which docs/contract.md is tested again, with two
Crossbar proxy nodes serving the public port in front of the router worker (`taxi run
--proxies 2`, crossbar_config/proxies.yaml).

Which tests run again, and why those: logging in (tickets, device keys: the dynamic
authenticators now run in the proxies), a trip's life and who may see it (the authorizer stays
in the router worker, the proxies forward every message), ending sessions (wamp.session.kill
reaches a client through its proxy) and retention. They are the parts a proxy takes over or
stands in the way of; the rest of the contract is the router's and the backend's, unchanged.
Each runs on SQLite only: what a proxy does is the same on either database, and doubling the
suite's time was not the point (tests/faults/test_multi_host.py has PostgreSQL behind proxies).
"""

from __future__ import annotations

import pytest

from ..support.shared import shared_node_now

PROXIES = 2
DATABASE = "sqlite"


@pytest.fixture(scope="session")
def proxied_node():
    return shared_node_now(DATABASE, proxies=PROXIES)

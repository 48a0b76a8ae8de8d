"""Fixtures of the fault tests: nodes to break, a crowd of reconnecting clients, and the load's
size (fast in CI, big with --long; `long_run` and `figure` come from tests/conftest.py)."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from twisted.internet import defer

from ..support.node import Node
from ..support.users import signup
from .harness import History, TripLoad
from .peer import Peer


@pytest.fixture
def trips(long_run) -> int:
    """Trip requests in a load (each raced for by two drivers: three operations a trip)."""
    return 1000 if long_run else 150


@pytest.fixture
def start_node(new_database, tmp_path):
    """start_node(database, *taxi_run_args): a `taxi run` of the test's own, stopped at the end;
    with separate=True, a `taxi router` and `backends` times `taxi backend` instead; `environment`:
    settings of the node's own (tests/support/node.py)."""
    with ExitStack() as cleanup:

        def start(database: str, *args: str, backends: int = 1, separate: bool = False, environment=None) -> Node:
            url = cleanup.enter_context(new_database(database))
            node = Node(url, tmp_path, *args, backends=backends, separate=separate, environment=environment)
            cleanup.callback(node.stop)
            node.wait_until_serving()
            return node

        yield start


class Crowd:
    """Riders and drivers, each a Peer that reconnects by itself; all stopped at the end."""

    def __init__(self):
        self.peers: list[Peer] = []

    async def join(self, port: int, role: str, n: int) -> list[Peer]:
        users = await defer.gatherResults([defer.ensureDeferred(signup(port, role)) for _ in range(n)])
        peers = [Peer(port, user) for user in users]
        self.peers += peers
        await defer.gatherResults([peer.start() for peer in peers])
        return peers

    async def trip_load(self, port: int, requests: int, follow=None) -> TripLoad:
        """Every fault test's load, not started yet: 8 riders and 4 drivers, joined (`follow`: TripLoad's)."""
        riders = await self.join(port, "rider", 8)
        drivers = await self.join(port, "driver", 4)
        return TripLoad(History(), riders, drivers, requests=requests, follow=follow)

    def by_name(self) -> dict[str, Peer]:
        return {peer.name: peer for peer in self.peers}

    def stop(self) -> defer.Deferred:
        return defer.gatherResults([peer.stop() for peer in self.peers])


@pytest.fixture
def crowd():
    crowd = Crowd()
    yield crowd
    crowd.stop()  # sessions leave; the node is stopped right after in any case

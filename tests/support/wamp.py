"""The tests' WAMP client: taxi.client (a client of the contract, as a user's program writes one)
on the node's port, in any serializer, plus what only a hostile client or the backend would do."""

from __future__ import annotations

import json
import time

from autobahn.twisted.rawsocket import WampRawSocketClientFactory
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import JsonObjectSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.serializer import _WAMPJsonEncoder
from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import UNIXClientEndpoint

from components import uris
from taxi import client
from taxi.client import EVENT_TIMEOUT, JOIN_TIMEOUT, Client, Events

__all__ = ["EVENT_TIMEOUT", "SERIALIZERS", "Client", "Events", "connect", "connect_backend", "error_of", "router_holds", "sleep"]


class _AsciiJsonObjectSerializer(JsonObjectSerializer):
    def serialize(self, obj) -> bytes:
        # Autobahn's encoder for what JSON lacks (bytes as "\\0" + base64), without its ensure_ascii=False.
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=True, cls=_WAMPJsonEncoder).encode("ascii")


class AsciiJsonSerializer(JsonSerializer):
    """JSON as many other clients write it: every non-ASCII character escaped. Autobahn's own
    JSON writes UTF-8, which cannot hold a lone surrogate; "\\ud800" as an escape it can, and the
    router's JSON reader accepts it, so a hostile client can send one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._serializer = _AsciiJsonObjectSerializer()


SERIALIZERS = {**client.SERIALIZERS, "json-ascii": AsciiJsonSerializer}


async def connect(port: int, *, serializer: str = "json", origin: str | None = None, **login) -> Client:
    """Join realm "taxi" on the node at `port` (login: authid, ticket, authrole, authmethods);
    raises ApplicationError if the router refuses."""
    return await client.connect(
        f"ws://127.0.0.1:{port}/ws", serializers=[SERIALIZERS[serializer]()],
        headers={"Origin": origin} if origin else None, **login,
    )  # fmt: skip


async def connect_backend(socket_path: str, ticket: str) -> Client:
    """Join as the backend does: over the node's Unix socket (rawsocket, msgpack) with its ticket."""
    session = Client(authid="backend", ticket=ticket)
    factory = WampRawSocketClientFactory(lambda: session, serializer=MsgPackSerializer())
    await UNIXClientEndpoint(reactor, socket_path).connect(factory)
    return await session.joined.addTimeout(JOIN_TIMEOUT, reactor)


async def router_holds(backend: Client, timeout: float = 30) -> dict:
    """What the router holds of trips (taxi.router.retained, the backend's to call), once no
    finished trip is in its grace any more: topics with a retained event, subscriptions."""
    deadline = time.monotonic() + timeout
    while (held := await backend.call(uris.ROUTER_RETAINED))["in_grace"]:
        if time.monotonic() > deadline:
            raise AssertionError(f"finished trips still in their grace after {timeout} s: {held}")
        await sleep(0.25)
    return held


async def error_of(deferred) -> ApplicationError:
    """The ApplicationError that `deferred` (a call, subscribe, register, ...) fails with; fails if it succeeds."""
    try:
        result = await deferred
    except ApplicationError as error:
        return error
    raise AssertionError(f"expected an error, got {result!r}")


def sleep(seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)

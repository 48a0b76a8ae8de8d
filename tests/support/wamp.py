"""The tests' WAMP client: taxi.client (a client of the contract, as a user's program writes one)
on the node's port, in any serializer, plus what only a hostile client would do (joining as the
backend, and asking the router what it holds, are taxi.client's: the benchmark's soak does too)."""

from __future__ import annotations

import json

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import JsonObjectSerializer, JsonSerializer
from autobahn.wamp.serializer import _WAMPJsonEncoder
from twisted.internet import defer, reactor, task

from taxi import client
from taxi.client import EVENT_TIMEOUT, Client, Events, connect_backend, connect_by_key, router_holds

__all__ = ["EVENT_TIMEOUT", "SERIALIZERS", "Client", "Events", "connect", "connect_backend", "connect_by_key", "error_of", "router_holds", "sleep"]


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
    """Join realm "taxi" on the node at `port` (login: authid, ticket or a device key, authrole, authmethods);
    raises ApplicationError if the router refuses."""
    return await client.connect(
        f"ws://127.0.0.1:{port}/ws", serializers=[SERIALIZERS[serializer]()],
        headers={"Origin": origin} if origin else None, **login,
    )  # fmt: skip


async def error_of(deferred) -> ApplicationError:
    """The ApplicationError that `deferred` (a call, subscribe, register, ...) fails with; fails if it succeeds."""
    try:
        result = await deferred
    except ApplicationError as error:
        return error
    raise AssertionError(f"expected an error, got {result!r}")


def sleep(seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)

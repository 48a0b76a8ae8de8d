"""A client of taxi's contract (docs/contract.md), as a user's own program would write one.

    rider = await connect("ws://127.0.0.1:8080/ws", authid="ada", ticket="s3cret-pass")
    trip = await rider.call(uris.TRIP_REQUEST, pick_up_address="Main St 1", drop_off_address="Station")
    events = await rider.events(uris.trip_topic(trip["nk"]), get_retained=True)
    latest = await events.next()
    await rider.close()

With a key (`key=`: a device's CryptosignKey registered with user.add_device, or a backend's
hex private key from `taxi keygen`) it logs in with WAMP-cryptosign instead. Without either it
joins anonymously (all anonymous may do is user.signup). A refusal, by the
router (wrong password, say) or already at the WebSocket handshake (a foreign Origin), fails
`connect` and the session's `joined` Deferred alike, rather than leaving them waiting.

The benchmark (taxi_bench) and the tests (tests/support/wamp.py) are clients of this one.
`connect_backend` joins as the backend does, which only a program holding the node's ticket can:
the tests and `taxi bench --soak` ask the router what it holds (`router_holds`).
"""

from __future__ import annotations

import time
from collections import deque
from urllib.parse import urlparse

from autobahn.twisted.rawsocket import WampRawSocketClientFactory
from autobahn.twisted.wamp import ApplicationSession
from autobahn.twisted.websocket import WampWebSocketClientFactory, WampWebSocketClientProtocol
from autobahn.wamp import message
from autobahn.wamp.cryptosign import CryptosignKey
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import ComponentConfig, SubscribeOptions
from twisted.internet import defer, task
from twisted.internet.endpoints import TCP4ClientEndpoint, UNIXClientEndpoint

from components.uris import REALM, ROUTER_RETAINED

# The WAMP serializations the node's public port speaks, by the names its config gives them.
SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
EVENT_TIMEOUT = 10
JOIN_TIMEOUT = 30
CONNECT_TIMEOUT = 30
# How many of the EVENT messages last delivered a session keeps: enough to look back on, and
# bounded, so that a long-lived subscriber (a driver on taxi.drivers) does not grow forever.
DELIVERED_KEPT = 1000


class Client(ApplicationSession):
    """A session that joins with a ticket (or anonymously).

    `joined` fires with the session once it has joined, or fails with the refusal; `left` fires
    with the details once it has left; `disconnected` once its connection is closed."""

    def __init__(
        self, config=None, *, authid=None, ticket=None, authrole=None, authmethods=None, key=None, pubkey=None,
        reactor=None,
    ):  # fmt: skip
        """`key`: a CryptosignKey (a device's) or a hex private key (`taxi keygen`'s) to join with
        WAMP-cryptosign instead of a ticket; `pubkey`: the public key to announce, by default the key's own (another one is
        what an impostor announces: a key it does not hold)."""
        super().__init__(config or ComponentConfig(REALM))
        self._authid = authid
        self._ticket = ticket
        self._key = CryptosignKey.from_bytes(bytes.fromhex(key)) if isinstance(key, str) else key
        self._pubkey = pubkey or (self._key.public_key() if self._key else None)
        self._authrole = authrole
        self._authmethods = authmethods
        self._reactor = reactor
        self.joined = defer.Deferred()
        self.left = defer.Deferred()
        self.disconnected = defer.Deferred()
        self.delivered = deque(maxlen=DELIVERED_KEPT)  # the EVENT messages the router sent, newest last
        # RESULT and ERROR messages with their details, which a call's value leaves out.
        self.replies = deque(maxlen=DELIVERED_KEPT)

    def onConnect(self):
        if self._key is not None:
            methods, authextra = self._authmethods or ["cryptosign"], {"pubkey": self._pubkey}
        else:
            methods, authextra = self._authmethods or (["ticket"] if self._ticket is not None else ["anonymous"]), None
        self.join(self.config.realm, authmethods=methods, authid=self._authid, authrole=self._authrole, authextra=authextra)

    def onChallenge(self, challenge):
        if challenge.method == "cryptosign" and self._key is not None:
            return self._key.sign_challenge(challenge)
        return self._ticket

    def onMessage(self, msg):
        # Recorded before Autobahn looks for a handler, so that what the router sent can be
        # told from what a subscription asked for.
        if isinstance(msg, message.Event):
            self.delivered.append(msg)
        elif isinstance(msg, (message.Result, message.Error)):
            self.replies.append(msg)
        return super().onMessage(msg)

    def onJoin(self, details):
        self.details = details
        self.joined.callback(self)

    def onLeave(self, details):
        if not self.joined.called:
            self.joined.errback(ApplicationError(details.reason, details.message))
        self.left.callback(details)
        self.disconnect()

    def onDisconnect(self):
        super().onDisconnect()
        if not self.disconnected.called:
            self.disconnected.callback(None)

    def close(self) -> defer.Deferred:
        """Leave, and fire once the connection is closed (at once if it already is)."""
        if self.is_attached():
            self.leave()
        elif self._transport is not None:
            self.disconnect()
        return _copy(self.disconnected)

    async def events(self, topic: str, *, get_retained: bool = False, match: str = "exact") -> Events:
        """Subscribe to `topic`: an Events queue of what arrives (the retained event first, if asked for)."""
        events = Events(self._reactor)
        events.subscription = await self.subscribe(
            events.put, topic, options=SubscribeOptions(get_retained=get_retained, match=match)
        )
        return events


class Events:
    """What a subscription has received, in order; `next()` waits for the following one."""

    def __init__(self, reactor=None):
        self._reactor = reactor or _global_reactor()
        self._queue = defer.DeferredQueue()
        self.received = []
        self.subscription = None  # set by Client.events once the router has said yes

    def put(self, *args, **kwargs):
        self.received.append(args[0] if len(args) == 1 and not kwargs else (args, kwargs))
        self._queue.put(self.received[-1])

    async def next(self, timeout: float = EVENT_TIMEOUT):
        d = self._queue.get()
        d.addTimeout(timeout, self._reactor)
        return await d

    async def quiet_for(self, seconds: float) -> list:
        """Everything that arrives within `seconds` (to show that nothing more comes)."""
        seen_before = len(self.received)
        await task.deferLater(self._reactor, seconds, lambda: None)
        return self.received[seen_before:]


class _HandshakeReportingProtocol(WampWebSocketClientProtocol):
    """A refused WebSocket handshake (say, for its Origin) never reaches the WAMP session: report it."""

    def onClose(self, wasClean, code, reason):
        super().onClose(wasClean, code, reason)
        session = self.factory.session
        if not session.joined.called:
            session.joined.errback(ConnectionError(f"connection closed before joining: {reason}"))
        if not session.disconnected.called:  # a session that never opened is told nothing by Autobahn
            session.disconnected.callback(None)


async def connect(
    url: str, *, authid=None, ticket=None, authrole=None, authmethods=None, serializers=None, headers=None,
    timeout: float = JOIN_TIMEOUT, reactor=None, **keys,
) -> Client:  # fmt: skip
    """Join realm "taxi" at `url` (ws://HOST:PORT/ws); raises ApplicationError if the router refuses,
    ConnectionError if the WebSocket handshake is refused, TimeoutError after `timeout` seconds.

    `serializers`: Autobahn serializer instances, JSON by default (say `[SERIALIZERS["msgpack"]()]`);
    `headers`: of the WebSocket handshake (a browser's Origin, say)."""
    reactor = reactor or _global_reactor()
    session = Client(authid=authid, ticket=ticket, authrole=authrole, authmethods=authmethods, reactor=reactor, **keys)
    factory = WampWebSocketClientFactory(
        lambda: session, url=url, serializers=serializers or [JsonSerializer()], headers=headers
    )
    factory.protocol = _HandshakeReportingProtocol
    factory.session = session
    where = urlparse(url)
    await TCP4ClientEndpoint(reactor, where.hostname, where.port, timeout=CONNECT_TIMEOUT).connect(factory)
    return await session.joined.addTimeout(timeout, reactor)


async def connect_backend(socket_path: str, ticket: str, *, timeout: float = JOIN_TIMEOUT, reactor=None) -> Client:
    """Join as the backend does: over the node's Unix socket (rawsocket, msgpack) with its ticket."""
    reactor = reactor or _global_reactor()
    session = Client(authid="backend", ticket=ticket, reactor=reactor)
    factory = WampRawSocketClientFactory(lambda: session, serializer=MsgPackSerializer())
    await UNIXClientEndpoint(reactor, socket_path).connect(factory)
    return await session.joined.addTimeout(timeout, reactor)


async def connect_by_key(url: str, key: str, *, timeout: float = JOIN_TIMEOUT, reactor=None, **login) -> Client:
    """Join as a backend on another host does: a router's backend port (rs://HOST:PORT; rawsocket,
    msgpack) with WAMP-cryptosign and the private key `key` (login: authid, authrole, pubkey)."""
    reactor = reactor or _global_reactor()
    session = Client(key=key, reactor=reactor, **login)
    factory = WampRawSocketClientFactory(lambda: session, serializer=MsgPackSerializer())
    where = urlparse(url)
    await TCP4ClientEndpoint(reactor, where.hostname, where.port, timeout=CONNECT_TIMEOUT).connect(factory)
    return await session.joined.addTimeout(timeout, reactor)


async def router_holds(backend: Client, timeout: float = 30) -> dict:
    """What the router holds of trips (taxi.router.retained, the backend's to call), once no
    finished trip is in its grace any more: topics with a retained event, subscriptions."""
    reactor = backend._reactor or _global_reactor()
    deadline = time.monotonic() + timeout
    while (held := await backend.call(ROUTER_RETAINED))["in_grace"]:
        if time.monotonic() > deadline:
            raise AssertionError(f"finished trips still in their grace after {timeout} s: {held}")
        await task.deferLater(reactor, 0.25, lambda: None)
    return held


def _copy(d: defer.Deferred) -> defer.Deferred:
    """A Deferred that fires with `d`'s result, leaving `d` itself as it is for other waiters."""
    copy = defer.Deferred()
    d.addBoth(lambda result: (copy.callback(result), result)[1])
    return copy


def _global_reactor():
    from twisted.internet import reactor  # at call time: a program may install another reactor first

    return reactor

"""A WAMP client for the tests, speaking to the node over WebSocket exactly as a user's client would."""

from __future__ import annotations

import json

from autobahn.twisted.rawsocket import WampRawSocketClientFactory
from autobahn.twisted.wamp import ApplicationSession
from autobahn.twisted.websocket import WampWebSocketClientFactory, WampWebSocketClientProtocol
from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import ComponentConfig, SubscribeOptions
from autobahn.wamp.serializer import CBORSerializer, JsonObjectSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.serializer import _WAMPJsonEncoder
from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint, UNIXClientEndpoint

REALM = "taxi"
EVENT_TIMEOUT = 10
JOIN_TIMEOUT = 30


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


SERIALIZERS = {"json": JsonSerializer, "json-ascii": AsciiJsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}


class Client(ApplicationSession):
    """A session that joins with a ticket (or anonymously) and fails its `joined` Deferred on refusal."""

    def __init__(self, config, authid=None, ticket=None, authrole=None, authmethods=None):
        super().__init__(config)
        self._authid = authid
        self._ticket = ticket
        self._authrole = authrole
        self._authmethods = authmethods
        self.joined = defer.Deferred()
        self.left = defer.Deferred()
        self.delivered = []  # every EVENT message the router sent this session
        self.replies = []  # every RESULT and ERROR, details and all: a call returns its value without them

    def onConnect(self):
        methods = self._authmethods or (["ticket"] if self._ticket is not None else ["anonymous"])
        self.join(REALM, authmethods=methods, authid=self._authid, authrole=self._authrole)

    def onChallenge(self, challenge):
        return self._ticket

    def onMessage(self, msg):
        # Recorded before Autobahn looks for a handler, so a test can show that the router
        # sent nothing at all for a subscription it refused.
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

    async def events(self, topic: str, *, get_retained: bool = False, match: str = "exact") -> "Events":
        events = Events()
        events.subscription = await self.subscribe(
            events.put, topic, options=SubscribeOptions(get_retained=get_retained, match=match)
        )
        return events


class _HandshakeReportingProtocol(WampWebSocketClientProtocol):
    """A refused WebSocket handshake (say, for its Origin) never reaches the WAMP session: report it."""

    def onClose(self, wasClean, code, reason):
        super().onClose(wasClean, code, reason)
        joined = self.factory.session.joined
        if not joined.called:
            joined.errback(ConnectionError(f"connection closed before joining: {reason}"))


class Events:
    """What a subscription has received, in order; `next()` waits for the following one."""

    def __init__(self):
        self._queue = defer.DeferredQueue()
        self.received = []
        self.subscription = None  # set by Client.events once the router has said yes

    def put(self, *args, **kwargs):
        self.received.append(args[0] if len(args) == 1 and not kwargs else (args, kwargs))
        self._queue.put(self.received[-1])

    async def next(self, timeout: float = EVENT_TIMEOUT):
        d = self._queue.get()
        d.addTimeout(timeout, reactor)
        return await d

    async def quiet_for(self, seconds: float) -> list:
        """Everything that arrives within `seconds` (used to show that nothing more comes)."""
        seen_before = len(self.received)
        await sleep(seconds)
        return self.received[seen_before:]


async def error_of(deferred) -> ApplicationError:
    """The ApplicationError that `deferred` (a call, subscribe, register, ...) fails with; fails if it succeeds."""
    try:
        result = await deferred
    except ApplicationError as error:
        return error
    raise AssertionError(f"expected an error, got {result!r}")


def sleep(seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)


async def connect(
    port: int, *, authid=None, ticket=None, authrole=None, serializer: str = "json", origin=None, authmethods=None
):
    """Join realm "taxi" on the node at `port`; raises ApplicationError if the router refuses."""
    session = Client(ComponentConfig(REALM), authid=authid, ticket=ticket, authrole=authrole, authmethods=authmethods)
    factory = WampWebSocketClientFactory(
        lambda: session,
        url=f"ws://127.0.0.1:{port}/ws",
        serializers=[SERIALIZERS[serializer]()],
        headers={"Origin": origin} if origin else None,
    )
    factory.protocol = _HandshakeReportingProtocol
    factory.session = session
    await TCP4ClientEndpoint(reactor, "127.0.0.1", port).connect(factory)
    return await session.joined.addTimeout(JOIN_TIMEOUT, reactor)


async def connect_backend(socket_path: str, ticket: str):
    """Join as the backend does: over the node's Unix socket (rawsocket, msgpack) with its ticket."""
    session = Client(ComponentConfig(REALM), authid="backend", ticket=ticket)
    factory = WampRawSocketClientFactory(lambda: session, serializer=MsgPackSerializer())
    await UNIXClientEndpoint(reactor, socket_path).connect(factory)
    return await session.joined.addTimeout(JOIN_TIMEOUT, reactor)

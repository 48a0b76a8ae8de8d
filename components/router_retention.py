"""Runs inside the Crossbar router worker (a router component, see crossbar_config/config.yaml):
a finished trip's retained event leaves the router's memory after a grace period.

Why. Crossbar keeps a topic that holds a retained event for ever: its broker deletes a
subscription only once it has neither subscribers nor retained events (Broker._unsubscribe and
Broker.detach; crossbario/crossbar#1258), and neither WAMP nor Crossbar has a way to drop a
retained event. So every taxi.trip.<nk> ever published stayed in the router worker with the
last trip it carried: measured, the worker's RSS grew by 3.8 KB for every finished trip (5,000
trips of taxi bench's workload). With a 1 s grace, and the backend's trip publications left
uncached (config.yaml), it stays flat.

How. The component subscribes to the prefix taxi.trip. as a trusted session, so it sees every
trip event right after the broker has retained it: a function call inside the worker, nothing
serialized. An event whose trip is final (taxi_core.domain.FINAL_STATUSES) starts the topic's
grace (TAXI_RETAIN_GRACE_SECONDS, default 600); a later event on the topic starts it again, or
stops it if the trip is not final any more. When the grace ends the topic's retained events
are dropped, and a subscription left with no subscriber is deleted and announced on
wamp.subscription.on_delete, as Crossbar does when a subscription's last subscriber leaves. A
subscriber still on the topic keeps its subscription; once it leaves, Crossbar's own
unsubscribe deletes it, as it holds nothing retained any more. A late subscriber gets nothing
retained; docs/contract.md tells it to call trip.get.

It lives in memory only, like what it trims: a restarted router holds nothing retained and no
grace. taxi.router.retained (the backend's to call) counts what the router holds, for the tests
and an operator. Checked against the Crossbar code it reaches into by
tests/unit/test_router_retention.py.
"""

from __future__ import annotations

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.types import SubscribeOptions
from crossbar.router.broker import SubscriptionExtra
from twisted.internet import defer

from components import uris
from taxi_core.config import Settings
from taxi_core.domain import FINAL_STATUSES

FINAL = frozenset(status.value for status in FINAL_STATUSES)
ON_DELETE = "wamp.subscription.on_delete"


class Retention:
    """The graces of a broker's finished trip topics. `clock` is the reactor (a Clock in tests);
    `session_id` names who deleted a subscription in the meta event (this component)."""

    def __init__(self, broker, clock, grace: float, session_id: int | None = None):
        self._broker = broker
        self._subscriptions = broker._subscription_map
        self._clock = clock
        self._grace = grace
        self._session_id = session_id
        self._graces = {}  # topic -> the delayed call that ends its grace

    def saw(self, topic: str, trip) -> None:
        """An event on `topic`, which the broker has just retained."""
        grace = self._graces.pop(topic, None)
        if grace is not None:
            grace.cancel()
        if isinstance(trip, dict) and trip.get("status") in FINAL:
            self._graces[topic] = self._clock.callLater(self._grace, self.drop, topic)

    def drop(self, topic: str) -> None:
        """The router no longer holds `topic`'s retained events, nor the subscription if no one is on it."""
        self._graces.pop(topic, None)
        subscription = self._subscriptions.get_observation(topic)
        if subscription is None or not isinstance(subscription.extra, SubscriptionExtra):
            return
        subscription.extra.retained_events = []
        if not subscription.observers:
            self._subscriptions.delete_observation(subscription)
            self._announce_deletion(subscription)

    def _announce_deletion(self, subscription) -> None:
        # As Broker._unsubscribe does: through the realm's service session, on a later turn.
        realm = self._broker._router._realm
        if realm and realm.session:
            self._broker._reactor.callLater(0, realm.session.publish, ON_DELETE, self._session_id, subscription.id)

    def count(self) -> dict:
        """What the router holds of trips: topics with a retained event, subscriptions, graces
        running, and authorizations it has cached for a trip's topic (config.yaml caches none)."""
        trips = [
            subscription
            for uri, subscription in self._subscriptions._observations_exact.items()
            if uri.startswith(uris.TRIP_TOPIC_PREFIX)
        ]
        retained = sum(1 for s in trips if isinstance(s.extra, SubscriptionExtra) and s.extra.retained_events)
        cache = self._broker._router._authorization_cache  # keyed (realm, authrole, uri, action)
        cached = sum(1 for _, _, uri, _ in cache if uri.startswith(uris.TRIP_TOPIC_PREFIX))
        return {"retained": retained, "subscriptions": len(trips), "in_grace": len(self._graces), "authorizations": cached}


class TripRetention(ApplicationSession):
    """The router component. Crossbar creates it with the config alone; a test passes a Clock
    and a grace. The grace is read from the environment (TAXI_RETAIN_GRACE_SECONDS), which the
    router worker inherits from `taxi run` (taxi/supervisor.py)."""

    def __init__(self, config=None, reactor=None, grace: float | None = None):
        super().__init__(config)
        if reactor is None:
            from twisted.internet import reactor
        self._clock = reactor
        self._grace = Settings.from_environ().retain_grace_seconds if grace is None else grace
        self.retention = None

    def onJoin(self, details):
        # A router component's transport is Crossbar's RouterApplicationSession, which holds the router.
        broker = self._transport._router._broker
        self.retention = Retention(broker, self._clock, self._grace, details.session)
        every_trip = SubscribeOptions(match="prefix", details=True)
        return defer.gatherResults(
            [
                self.subscribe(self._event, uris.TRIP_TOPIC_PREFIX, options=every_trip),
                self.register(self.retention.count, uris.ROUTER_RETAINED),
            ],
            consumeErrors=True,
        )

    def _event(self, *args, details, **kwargs):
        self.retention.saw(details.topic, args[0] if args else None)

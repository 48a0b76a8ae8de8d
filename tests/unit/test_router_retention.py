"""The retention component (components/router_retention.py) inside a real Crossbar router: the
pinned Crossbar's own router, broker and service session, in this process, with the sessions
attached as Crossbar attaches router components, and time on a Clock. The node itself is
tests/e2e/test_retention.py.

The component reaches into Crossbar's broker, so the first tests pin that code: an upgrade of
Crossbar that touches any of it fails here at once, rather than leaving trips retained for ever
again, or trimming a structure that has changed shape."""

import pytest
from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.types import ComponentConfig, PublishOptions, SubscribeOptions
from crossbar.router.broker import Broker, SubscriptionExtra
from crossbar.router.observation import UriObservationMap
from crossbar.router.router import Router
from crossbar.router.session import RouterApplicationSession
from twisted.internet.task import Clock
from twisted.logger import LogLevel

from components import uris
from components.router_retention import ON_DELETE, TripRetention
from taxi.supervisor import node_environment
from taxi_core.config import Settings
from taxi_core.domain import FINAL_STATUSES, TripStatus
from tests.support.fingerprints import assert_unchanged
from tests.support.router_realm import RouterRealmInProcess

GRACE = 600
# Crossbar 26.10.1's code the component leans on (setup.py pins it): where the broker retains
# an event (on the topic's exact subscription, in its SubscriptionExtra), hands it to a late
# subscriber, and deletes a subscription; the map's layout; how a router component reaches the router.
CROSSBAR_CODE = {
    Broker.processPublish: "1dd9ade51c829929",
    Broker.processSubscribe: "9f5499a99f1210ed",
    Broker._unsubscribe: "4df416194d963598",
    Broker.detach: "938a3f06ff9ccf4c",
    SubscriptionExtra.__init__: "7138bd694fe63aa7",
    UriObservationMap.__init__: "0ac2029fd1b1e852",
    UriObservationMap.get_observation: "961b0287cf0db042",
    UriObservationMap.delete_observation: "98409bfe5af3a269",
    RouterApplicationSession.__init__: "6497ab4250e30242",
    Router.authorize: "ae01aca610457785",
    Router.__init__: "509e506365c9ab07",
}


@pytest.mark.parametrize("method", CROSSBAR_CODE, ids=lambda method: method.__qualname__)
def test_crossbar_s_code_under_the_retention_is_the_code_it_was_written_for(method):
    assert_unchanged(method, CROSSBAR_CODE[method], read_against="components/router_retention.py (a finished trip's topic "
                     "may no longer be where it looks, or Crossbar may now drop it itself)")


class Peer(ApplicationSession):
    """A session attached to the router in-process, keeping what it receives."""

    def __init__(self):
        super().__init__(ComponentConfig(uris.REALM))
        self.received = []

    def keep(self, *args, **kwargs):
        self.received.append(args[0] if len(args) == 1 else args)


class InProcessRouter(RouterRealmInProcess):
    """The realm with the component, as config.yaml starts it, and time on a Clock."""

    def __init__(self, grace=GRACE):
        self.clock = Clock()
        super().__init__(reactor=self.clock)
        self.component = self.attach(TripRetention(ComponentConfig(uris.REALM), reactor=self.clock, grace=grace), "trusted")
        self.backend = self.peer("backend")

    def peer(self, role: str) -> Peer:
        return self.attach(Peer(), role)

    def publish(self, nk: str, status: TripStatus) -> dict:
        trip = {"nk": nk, "status": status.value}
        self.backend.publish(uris.trip_topic(nk), trip, options=PublishOptions(retain=True))
        return trip

    def late_subscriber(self, nk: str) -> Peer:
        session = self.peer("backend")
        subscribed = session.subscribe(session.keep, uris.trip_topic(nk), options=SubscribeOptions(get_retained=True))
        subscribed.addCallback(lambda subscription: setattr(session, "subscription", subscription))
        return session

    def count(self) -> dict:
        results = []
        self.backend.call(uris.ROUTER_RETAINED).addCallback(results.append)
        return results[0]


@pytest.fixture
def node():
    return InProcessRouter()


FINAL = sorted(FINAL_STATUSES)


def test_an_unfinished_trip_stays_retained(node):
    trip = node.publish("a" * 32, TripStatus.STARTED)
    node.clock.advance(100 * GRACE)
    assert node.late_subscriber("a" * 32).received == [trip]
    assert node.count() == {"retained": 1, "subscriptions": 1, "in_grace": 0, "authorizations": 0}


@pytest.mark.parametrize("final", FINAL)
def test_a_finished_trip_stays_retained_for_the_grace(node, final):
    node.publish("a" * 32, TripStatus.REQUESTED)
    trip = node.publish("a" * 32, final)
    node.clock.advance(GRACE - 1)
    assert node.late_subscriber("a" * 32).received == [trip]


@pytest.mark.parametrize("final", FINAL)
def test_after_the_grace_the_router_holds_nothing_of_a_finished_trip(node, final):
    node.publish("a" * 32, TripStatus.REQUESTED)
    node.publish("a" * 32, final)
    assert node.count() == {"retained": 1, "subscriptions": 1, "in_grace": 1, "authorizations": 0}
    node.clock.advance(GRACE)
    assert node.count() == {"retained": 0, "subscriptions": 0, "in_grace": 0, "authorizations": 0}
    assert node.late_subscriber("a" * 32).received == []


def test_only_the_finished_trip_goes(node):
    node.publish("a" * 32, TripStatus.COMPLETED)
    going_on = node.publish("b" * 32, TripStatus.IN_PROGRESS)
    node.clock.advance(GRACE)
    assert node.late_subscriber("b" * 32).received == [going_on]
    assert node.count()["retained"] == 1


def test_an_event_during_the_grace_starts_it_again(node):
    node.publish("a" * 32, TripStatus.CANCELED)
    node.clock.advance(GRACE - 1)
    again = node.publish("a" * 32, TripStatus.CANCELED)
    node.clock.advance(GRACE - 1)
    assert node.late_subscriber("a" * 32).received == [again]
    node.clock.advance(1)
    assert node.count()["retained"] == 0


def test_an_event_that_carries_no_trip_is_taken_for_an_unfinished_one(node):
    node.publish("a" * 32, TripStatus.COMPLETED)
    node.backend.publish(uris.trip_topic("a" * 32), "no trip", options=PublishOptions(retain=True))
    node.clock.advance(100 * GRACE)
    assert node.late_subscriber("a" * 32).received == ["no trip"]


def test_a_trip_that_is_not_final_any_more_stays_retained(node):
    node.publish("a" * 32, TripStatus.COMPLETED)
    reopened = node.publish("a" * 32, TripStatus.IN_PROGRESS)
    node.clock.advance(100 * GRACE)
    assert node.late_subscriber("a" * 32).received == [reopened]
    assert node.count() == {"retained": 1, "subscriptions": 1, "in_grace": 0, "authorizations": 0}


def test_a_subscriber_still_on_a_finished_trip_keeps_its_subscription_until_it_unsubscribes(node):
    rider = node.late_subscriber("a" * 32)
    done = node.publish("a" * 32, TripStatus.COMPLETED)
    node.clock.advance(GRACE)
    assert rider.received == [done]
    assert node.count() == {"retained": 0, "subscriptions": 1, "in_grace": 0, "authorizations": 0}
    rider.subscription.unsubscribe()
    assert node.count() == {"retained": 0, "subscriptions": 0, "in_grace": 0, "authorizations": 0}


def test_a_deleted_subscription_is_announced_as_crossbar_announces_its_own(node):
    watcher = node.peer("trusted")
    watcher.subscribe(watcher.keep, ON_DELETE)
    rider = node.late_subscriber("a" * 32)
    node.publish("a" * 32, TripStatus.COMPLETED)
    rider.subscription.unsubscribe()  # Crossbar keeps the subscription: it holds a retained event
    node.clock.advance(0)
    assert watcher.received == []
    node.clock.advance(GRACE)
    [(deleted_by, subscription)] = watcher.received
    assert deleted_by == node.component._session_id
    assert subscription == rider.subscription.id


def test_the_router_caches_no_authorization_for_a_trip_s_topic(node):
    node.publish("a" * 32, TripStatus.REQUESTED)
    node.publish("b" * 32, TripStatus.STARTED)
    node.backend.publish(uris.DRIVERS_TOPIC, {"status": "REQUESTED"}, options=PublishOptions(acknowledge=True))
    # Crossbar caches where config.yaml says so, one entry per URI: for taxi.drivers, one for good.
    cached = [uri for _, _, uri, _ in node.router._authorization_cache]
    assert cached == [uris.DRIVERS_TOPIC]
    assert node.count()["authorizations"] == 0


def test_the_grace_is_ten_minutes_unless_the_environment_says_otherwise():
    assert Settings.from_environ({}).retain_grace_seconds == 600
    one_second = Settings.from_environ({"TAXI_RETAIN_GRACE_SECONDS": "1"})
    assert one_second.retain_grace_seconds == 1
    # `taxi run` hands it on to the router worker, which reads it back the same way.
    environment = node_environment(one_second, "/nonexistent", LogLevel.info)
    assert Settings.from_environ(environment).retain_grace_seconds == 1
    with pytest.raises(ValueError, match="TAXI_RETAIN_GRACE_SECONDS"):
        Settings.from_environ({"TAXI_RETAIN_GRACE_SECONDS": "-1"})

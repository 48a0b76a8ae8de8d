"""What the outbox publishes of one event (components/outbox.py, Publisher._send): the trip on
its own topic, and on the drivers' topic one publication per driver notice: to every driver for
a trip without a location, or only to the drivers eligible with offer= and expires=, never
retained."""

from __future__ import annotations

from twisted.internet.defer import succeed

from components.outbox import Publisher
from taxi_core.events import DriverNotice, Publication

TRIP = {"nk": "a" * 32, "seq": 2, "status": "REQUESTED"}
WINDOW_END = "2026-01-01T12:00:15+00:00"


class RecordingSession:
    def __init__(self):
        self.published = []

    def publish(self, topic, *args, options, **kwargs):
        self.published.append((topic, args, kwargs, options))
        return succeed(None)


def sent(*notices: DriverNotice, retain=True) -> list:
    session = RecordingSession()
    Publisher._send(session, Publication(7, TRIP["nk"], 2, TRIP, retain=retain, notices=notices))
    return session.published


def test_an_event_without_notices_goes_to_its_trips_topic_only_retained():
    [(topic, args, kwargs, options)] = sent()
    assert (topic, args, kwargs) == (f"taxi.trip.{'a' * 32}", (TRIP,), {})
    assert options.retain is True and options.acknowledge is True


def test_a_notice_to_every_driver_is_the_trip_alone_to_everyone_on_the_drivers_topic():
    [_, (topic, args, kwargs, options)] = sent(DriverNotice())
    assert (topic, args, kwargs) == ("taxi.drivers", (TRIP,), {})
    assert options.eligible_authid is None and not options.retain and options.acknowledge


def test_offers_go_only_to_their_drivers_with_offer_and_expires_and_are_not_retained():
    opened, closed = DriverNotice(("ann", "bo"), "open", WINDOW_END), DriverNotice(("cy",), "closed")
    _, offer, passed_on = sent(opened, closed)
    assert offer[:3] == ("taxi.drivers", (TRIP,), {"offer": "open", "expires": WINDOW_END})
    assert offer[3].eligible_authid == ["ann", "bo"] and offer[3].retain is False
    assert passed_on[:3] == ("taxi.drivers", (TRIP,), {"offer": "closed"})
    assert passed_on[3].eligible_authid == ["cy"] and passed_on[3].retain is False

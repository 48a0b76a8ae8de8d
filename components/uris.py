"""Every procedure and topic of the contract (shared/DESIGN.md), named once.

The wire, in short: clients call the procedures with keyword arguments only; the router
discloses the caller (authid = username, authrole = rider | driver) to the backend, which
never trusts identity from the payload. Every event carries one positional argument, the
trip as it is after the change; events on a trip's own topic are retained, so a late
subscriber asking for get_retained gets the latest state at once.
"""

REALM = "taxi"

SIGNUP = "user.signup"
TRIP_REQUEST = "trip.request"
TRIP_UPDATE = "trip.update"
TRIP_CANCEL = "trip.cancel"
TRIP_GET = "trip.get"
TRIP_LIST = "trip.list"
TRIP_AVAILABLE = "trip.available"

AUTHENTICATE = "taxi.auth.authenticate"
AUTHORIZE = "taxi.auth.authorize"

DRIVERS_TOPIC = "taxi.drivers"
TRIP_TOPIC_PREFIX = "taxi.trip."


def trip_topic(nk: str) -> str:
    return TRIP_TOPIC_PREFIX + nk

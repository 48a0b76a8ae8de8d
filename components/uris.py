"""Every name of the contract (docs/contract.md) on the Python side, once: the realm, the
procedures, the topics and the error URIs. The statuses and roles are the domain's enums
(taxi_core.domain.TripStatus, Role); the web app's twin of this module is
crossbar_config/web/js/contract.js, and crossbar_config/config.yaml spells the names the
router needs for itself.

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

# components/errors.py says which domain error each of these answers.
INVALID_ARGUMENT = "taxi.error.invalid_argument"
USERNAME_TAKEN = "taxi.error.username_taken"
NOT_FOUND = "taxi.error.not_found"
TRIP_TAKEN = "taxi.error.trip_taken"
INVALID_TRANSITION = "taxi.error.invalid_transition"
INTERNAL = "taxi.error.internal"
# WAMP's own, for a refused login (also what the login throttle answers).
AUTHENTICATION_FAILED = "wamp.error.authentication_failed"


def trip_topic(nk: str) -> str:
    return TRIP_TOPIC_PREFIX + nk

"""Every name of the contract (docs/contract.md) on the Python side, once: the realm, the
procedures and the topics. The error URIs are in components/errors.py (beside the domain
errors they answer), the statuses and roles are the domain's enums (taxi_core.domain's
TripStatus and Role). The web app's twin of all these is crossbar_config/web/js/contract.js;
crossbar_config/config.yaml spells the names the router needs for itself.

The wire, in short: clients call the procedures with keyword arguments only; the router
discloses the caller (authid = username, authrole = rider | driver) to the backend, which
never trusts identity from the payload. Every event carries one positional argument, the
trip as it is after the change; events on a trip's own topic are retained, so a late
subscriber asking for get_retained gets the latest state at once.
"""

REALM = "taxi"

SIGNUP = "user.signup"
USER_ADD_DEVICE = "user.add_device"
USER_DEVICES = "user.devices"
USER_REMOVE_DEVICE = "user.remove_device"
USER_CHANGE_PASSWORD = "user.change_password"
TRIP_REQUEST = "trip.request"
TRIP_UPDATE = "trip.update"
TRIP_CANCEL = "trip.cancel"
TRIP_GET = "trip.get"
TRIP_HISTORY = "trip.history"
TRIP_LIST = "trip.list"
TRIP_AVAILABLE = "trip.available"
DRIVER_LOCATE = "driver.locate"
DRIVER_OFFLINE = "driver.offline"

AUTHENTICATE = "taxi.auth.authenticate"
AUTHORIZE = "taxi.auth.authorize"
AUTHENTICATE_DEVICE = "taxi.auth.authenticate_device"  # the router's cryptosign logins (components/devices.py)
# The router's meta API, for the backend alone: who joined (with which device), and ending a
# session that logged in with a device that is removed.
SESSION_ON_JOIN = "wamp.session.on_join"
SESSION_KILL = "wamp.session.kill"
# The reason a session ended that way is given, in its GOODBYE.
DEVICE_REMOVED = "taxi.close.device_removed"
# The router's own (components/router_retention.py): what it holds of trips; the backend's to call.
ROUTER_RETAINED = "taxi.router.retained"
# The backend's (components/health.py): does it serve, and does its database answer. Called by
# the router's own GET /healthz (components/router_health.py), never by a client.
HEALTH_CHECK = "taxi.health.check"

DRIVERS_TOPIC = "taxi.drivers"
TRIP_TOPIC_PREFIX = "taxi.trip."


def trip_topic(nk: str) -> str:
    return TRIP_TOPIC_PREFIX + nk

// Every name of the public contract (docs/contract.md) that the web app uses, once: the
// realm, the procedures, the topics, the statuses, the roles and the error URIs it handles.
// The Python side's twin is components/uris.py (with taxi_core.domain's TripStatus and Role).

export const REALM = "taxi";

export const AUTHMETHOD = Object.freeze({ ANONYMOUS: "anonymous", TICKET: "ticket", CRYPTOSIGN: "cryptosign" });

export const PROCEDURE = Object.freeze({
  SIGNUP: "user.signup",
  TRIP_REQUEST: "trip.request",
  TRIP_UPDATE: "trip.update",
  TRIP_CANCEL: "trip.cancel",
  TRIP_GET: "trip.get",
  TRIP_HISTORY: "trip.history",
  TRIP_LIST: "trip.list",
  TRIP_AVAILABLE: "trip.available",
  DRIVER_LOCATE: "driver.locate",
  DRIVER_OFFLINE: "driver.offline",
  USER_ADD_DEVICE: "user.add_device",
  USER_DEVICES: "user.devices",
  USER_REMOVE_DEVICE: "user.remove_device",
  USER_CHANGE_PASSWORD: "user.change_password",
});

export const DRIVERS_TOPIC = "taxi.drivers";

/** The reason in the GOODBYE of a session whose device key was removed (user.remove_device, user.change_password). */
export const DEVICE_REMOVED = "taxi.close.device_removed";

/** The topic of one trip's changes (only its rider and its driver may subscribe, exact match). */
export const tripTopic = (nk) => `taxi.trip.${nk}`;

export const STATUS = Object.freeze({
  REQUESTED: "REQUESTED",
  STARTED: "STARTED",
  IN_PROGRESS: "IN_PROGRESS",
  COMPLETED: "COMPLETED",
  CANCELED: "CANCELED",
  EXPIRED: "EXPIRED",
});

/** The keyword argument `offer` of an event on taxi.drivers that offers a located trip to some drivers. */
export const OFFER = Object.freeze({ OPEN: "open", CLOSED: "closed" });

/** A located trip's `dispatch.state`: how its dispatch stands (docs/contract.md, Dispatch). */
export const DISPATCH = Object.freeze({
  SEARCHING: "searching",
  OFFERING: "offering",
  EXPIRED: "expired",
  DONE: "done",
});

export const ROLE = Object.freeze({ RIDER: "rider", DRIVER: "driver" });

export const ERROR = Object.freeze({
  INVALID_ARGUMENT: "taxi.error.invalid_argument",
  USERNAME_TAKEN: "taxi.error.username_taken",
  NOT_FOUND: "taxi.error.not_found",
  TRIP_TAKEN: "taxi.error.trip_taken",
  INVALID_TRANSITION: "taxi.error.invalid_transition",
  INTERNAL: "taxi.error.internal",
  // The router's own.
  AUTHENTICATION_FAILED: "wamp.error.authentication_failed",
  NOT_AUTHORIZED: "wamp.error.not_authorized",
  NO_SUCH_PROCEDURE: "wamp.error.no_such_procedure",  // no backend registered (yet)
  CANCELED: "wamp.error.canceled",  // the backend serving the call went away
});

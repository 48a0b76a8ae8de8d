"""Every procedure against what a careless or hostile client might send.

Each case starts from a valid call, spoils one thing, and must be answered with
taxi.error.invalid_argument — whose text gives nothing away — while the database stays
exactly as it was, as seen through the contract and in the tables themselves.
"""

from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool
from twisted.internet import defer

from taxi_core.db import engine_url

from ..support import trial
from ..support.users import PASSWORD, gather, unique_name
from ..support.wamp import Client, error_of

pytestmark = pytest.mark.e2e

INVALID = "taxi.error.invalid_argument"
LEAKS = ("SELECT", "INSERT", "UPDATE trips", "Traceback", "sqlalchemy", "psycopg", "sqlite3", 'File "')
MISSING = object()
WRONG_TYPES = {"int": 1, "list": ["A"], "dict": {"a": "A"}, "None": None, "bool": True}
NK = "0123456789abcdef" * 2
MALFORMED_NKS = {"short": NK[:31], "long": NK + "0", "upper_case": NK.upper(), "not_hex": "g" * 32,
                 "uuid_with_dashes": "01234567-89ab-cdef-0123-456789abcdef", "sql": "x' OR '1'='1"}  # fmt: skip
KEY = "fedcba9876543210" * 4  # a well-formed device key nobody holds
MALFORMED_KEYS = {"short": KEY[:63], "upper_case": KEY.upper(), "not_hex": "g" * 64, "spaces_around": f" {KEY} ",
                  "ssh_style": "ssh-ed25519 " + KEY, "sql": "x' OR '1'='1"}  # fmt: skip


@dataclass
class Case:
    procedure: str
    label: str
    changes: dict = field(default_factory=dict)  # argument -> new value (or MISSING)
    positional: bool = False  # send the valid arguments' values by position instead

    def __str__(self):
        return f"{self.procedure}-{self.label}"


def text_cases(procedure, name, *, empty=True, blank=True, too_long=None):
    yield from (Case(procedure, f"{name}_{label}", {name: value}) for label, value in WRONG_TYPES.items())
    if empty:
        yield Case(procedure, f"{name}_empty", {name: ""})
    if blank:
        yield Case(procedure, f"{name}_whitespace_only", {name: " \t "})
    if too_long:
        yield Case(procedure, f"{name}_too_long", {name: "x" * too_long})


def nk_cases(procedure):
    yield Case(procedure, "nk_missing", {"nk": MISSING})
    yield from text_cases(procedure, "nk")
    yield from (Case(procedure, f"nk_{label}", {"nk": nk}) for label, nk in MALFORMED_NKS.items())


def number_cases(procedure, name, limit):
    yield Case(procedure, f"{name}_missing", {name: MISSING})
    wrong = {label: value for label, value in WRONG_TYPES.items() if label != "int"}  # an integer is a number
    yield from (Case(procedure, f"{name}_{label}", {name: value}) for label, value in {**wrong, "text": "52.5"}.items())
    for label, value in {"above": limit + 0.001, "below": -limit - 1, "huge": 10**300}.items():
        yield Case(procedure, f"{name}_{label}_range", {name: value})


def key_cases(procedure):
    yield Case(procedure, "public_key_missing", {"public_key": MISSING})
    yield from text_cases(procedure, "public_key", too_long=65)
    yield from (Case(procedure, f"public_key_{label}", {"public_key": key}) for label, key in MALFORMED_KEYS.items())


def common_cases(procedure, extra):
    yield Case(procedure, "extra_argument", extra)
    yield Case(procedure, "positional_arguments", positional=True)


CASES = [
    *common_cases("user.signup", {"email": "a@example.com"}),
    *(Case("user.signup", f"{name}_missing", {name: MISSING}) for name in ("username", "password", "role")),
    *text_cases("user.signup", "username", too_long=151),
    *text_cases("user.signup", "password", blank=False, too_long=257),  # spaces are a password's own
    Case("user.signup", "password_too_short", {"password": "1234567"}),
    *text_cases("user.signup", "role"),
    *(Case("user.signup", f"role_{role}", {"role": role}) for role in ("admin", "backend", "trusted", "anonymous")),
    *text_cases("user.signup", "first_name", empty=False, blank=False, too_long=1000),
    *text_cases("user.signup", "last_name", empty=False, blank=False, too_long=1000),
    *common_cases("trip.request", {"rider": "someone_else"}),
    Case("trip.request", "status_given", {"status": "COMPLETED"}),
    *(Case("trip.request", f"{name}_missing", {name: MISSING}) for name in ("pick_up_address", "drop_off_address")),
    *text_cases("trip.request", "pick_up_address", too_long=256),
    *text_cases("trip.request", "drop_off_address", too_long=256),
    Case("trip.request", "pick_up_address_with_nul", {"pick_up_address": "A\x00B"}),
    *text_cases("trip.request", "request_id", blank=False, too_long=65),
    *common_cases("trip.update", {"driver": "someone_else"}),
    *nk_cases("trip.update"),
    Case("trip.update", "status_missing", {"status": MISSING}),
    *text_cases("trip.update", "status"),
    *(Case("trip.update", f"status_{s}", {"status": s}) for s in ("ACCEPTED", "started", "DONE", "CANCELLED")),
    *common_cases("trip.cancel", {"reason": "changed my mind"}),
    *nk_cases("trip.cancel"),
    *common_cases("trip.get", {"full": True}),
    *nk_cases("trip.get"),
    *common_cases("trip.history", {"since": 1}),
    *nk_cases("trip.history"),
    *common_cases("trip.list", {"status": "REQUESTED"}),
    *(Case("trip.list", f"active_{label}", {"active": v}) for label, v in
      {"1": 1, "0": 0, "yes": "yes", "true_string": "true", "None": None, "list": [True], "dict": {}}.items()),  # fmt: skip
    *common_cases("trip.available", {"active": True}),
    *(Case("trip.request", f"pick_up_location_{label}", {"pick_up_location": value}) for label, value in
      {"list": [52.5, 13.4], "text": "52.5,13.4", "None": None, "empty": {}, "lat_only": {"lat": 52.5},
       "extra_key": {"lat": 52.5, "lng": 13.4, "alt": 1}, "lat_out_of_range": {"lat": 90.5, "lng": 0},
       "lng_out_of_range": {"lat": 0, "lng": -180.5}, "lat_text": {"lat": "52.5", "lng": 13.4},
       "lng_bool": {"lat": 52.5, "lng": True}}.items()),  # fmt: skip
    *common_cases("driver.locate", {"speed": 10}),
    *number_cases("driver.locate", "lat", 90),
    *number_cases("driver.locate", "lng", 180),
    *common_cases("driver.offline", {"lat": 52.5}),
    *common_cases("user.add_device", {"user": "someone_else"}),
    *key_cases("user.add_device"),
    *text_cases("user.add_device", "name", empty=False, blank=False, too_long=101),
    *common_cases("user.devices", {"all": True}),
    *common_cases("user.remove_device", {"user": "someone_else"}),
    *key_cases("user.remove_device"),
    *common_cases("user.change_password", {"username": "someone_else"}),
    *(Case("user.change_password", f"{name}_missing", {name: MISSING}) for name in ("old_password", "new_password")),
    # An empty or blank old password is just a wrong one (and would count as a failed login).
    *text_cases("user.change_password", "old_password", empty=False, blank=False, too_long=257),
    *text_cases("user.change_password", "new_password", blank=False, too_long=257),
    Case("user.change_password", "new_password_too_short", {"new_password": "1234567"}),
]
CALLER = {"user.signup": "anonymous", "trip.request": "rider", "trip.update": "other_driver",
          "trip.cancel": "rider", "trip.get": "rider", "trip.history": "rider", "trip.list": "rider",
          "trip.available": "driver", "driver.locate": "other_driver", "driver.offline": "other_driver",
          "user.add_device": "rider", "user.devices": "driver", "user.remove_device": "rider",
          "user.change_password": "other_driver"}  # fmt: skip


@dataclass
class World:
    anonymous: Client
    rider: Client
    driver: Client  # drives the rider's accepted trip
    other_driver: Client
    requested: dict
    accepted: dict
    database: Engine  # the node's own database, opened beside it
    at_start: dict | None = None

    def valid(self, procedure: str, trip: dict) -> dict:
        """Arguments that make a good call of `procedure` (on `trip` where it takes one)."""
        if procedure == "user.signup":
            return {"username": unique_name("bad"), "password": PASSWORD, "role": "rider", "first_name": "F", "last_name": "L"}
        if procedure == "trip.request":
            return {"pick_up_address": "A", "drop_off_address": "B", "request_id": unique_name("r")}
        if procedure == "trip.update":
            return {"nk": trip["nk"], "status": "STARTED"}
        if procedure in ("trip.cancel", "trip.get", "trip.history"):
            return {"nk": trip["nk"]}
        if procedure == "driver.locate":
            return {"lat": 52.5, "lng": 13.4}
        if procedure in ("user.add_device", "user.remove_device"):
            return {"public_key": KEY, **({"name": "phone"} if procedure == "user.add_device" else {})}
        if procedure == "user.change_password":
            return {"old_password": PASSWORD, "new_password": "a new passphrase"}
        return {"active": True} if procedure == "trip.list" else {}

    async def state(self) -> dict:
        """All that a bad call could have changed: the contract's views and the rows behind them."""
        views = {
            "rider_trips": await self.rider.call("trip.list"),
            "driver_trips": await self.driver.call("trip.list"),
            "available": await self.other_driver.call("trip.available"),
            "requested": await self.rider.call("trip.get", nk=self.requested["nk"]),
            "accepted": await self.rider.call("trip.get", nk=self.accepted["nk"]),
            "history": await self.rider.call("trip.history", nk=self.accepted["nk"]),
            "devices": await self.rider.call("user.devices"),
        }
        with self.database.connect() as connection:
            users = connection.execute(text("SELECT id, username, role, password_hash FROM users ORDER BY id")).all()
            devices = connection.execute(text("SELECT * FROM devices ORDER BY id")).all()
            trips = connection.execute(
                text("SELECT id, nk, status, rider_id, driver_id, request_id, updated, seq FROM trips ORDER BY id")
            ).all()
            events = connection.execute(text("SELECT trip_id, seq, status FROM trip_events ORDER BY id")).all()
            positions = connection.execute(text("SELECT * FROM driver_positions ORDER BY driver_id")).all()
        return {**views, "users": users, "trips": trips, "events": events, "positions": positions, "devices": devices}


async def spoil(world: World, case: Case) -> None:
    """One bad call: it must be refused as invalid, say nothing of the inside, and change nothing."""
    kwargs = {**world.valid(case.procedure, world.requested), **case.changes}
    kwargs = {name: value for name, value in kwargs.items() if value is not MISSING}
    args, kwargs = (tuple(kwargs.values()) or ("x",), {}) if case.positional else ((), kwargs)
    before = await world.state()

    error = await error_of(getattr(world, CALLER[case.procedure]).call(case.procedure, *args, **kwargs))

    assert error.error == INVALID, error
    message = " ".join(map(str, (*error.args, error.kwargs)))
    assert not [leak for leak in LEAKS if leak in message], message
    assert await world.state() == before


class BadInput:
    # A node of its own: on the shared node, the dispatcher expires other tests' located requests
    # in the background, and whole tables are compared here. An hour's timeout: no request made
    # here expires while the class runs either.
    environment = {"TAXI_REQUEST_TIMEOUT_SECONDS": "3600"}

    async def world(self) -> World:
        """The class's rider, drivers and trips (made by its first test), logged in anew; and the
        database as it was before any bad input."""
        [rider], drivers = await self.accounts("rider", 1), await self.accounts("driver", 2)
        rider, driver, other_driver = await gather(self.users.login(user) for user in (rider, *drivers))
        trips = await self.once("trips", lambda: defer.ensureDeferred(make_trips(rider, driver)))
        database = create_engine(engine_url(self.node.database_url), poolclass=NullPool)
        self.addCleanup(database.dispose)
        world = World(await self.users.anonymous(), rider, driver, other_driver, *trips, database)
        world.at_start = await self.once("at_start", lambda: defer.ensureDeferred(world.state()))
        return world

    async def bad_input_to(self, procedure: str) -> None:
        cases = [case for case in CASES if case.procedure == procedure]
        assert cases, procedure
        world = await self.world()
        failed = []
        for case in cases:
            try:
                await spoil(world, case)
            except AssertionError as error:
                failed.append(f"{case}: {error}")
        assert failed == [], "\n".join(failed)

    async def test_bad_input_to_user_signup_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("user.signup")

    async def test_bad_input_to_trip_request_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("trip.request")

    async def test_bad_input_to_trip_update_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("trip.update")

    async def test_bad_input_to_trip_cancel_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("trip.cancel")

    async def test_bad_input_to_trip_get_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("trip.get")

    async def test_bad_input_to_trip_history_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("trip.history")

    async def test_bad_input_to_trip_list_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("trip.list")

    async def test_bad_input_to_trip_available_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("trip.available")

    async def test_bad_input_to_driver_locate_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("driver.locate")

    async def test_bad_input_to_driver_offline_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("driver.offline")

    async def test_bad_input_to_user_add_device_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("user.add_device")

    async def test_bad_input_to_user_devices_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("user.devices")

    async def test_bad_input_to_user_remove_device_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("user.remove_device")

    async def test_bad_input_to_user_change_password_is_an_invalid_argument_that_changes_nothing(self):
        await self.bad_input_to("user.change_password")

    async def test_a_well_formed_key_of_no_trip_is_not_found_and_changes_nothing(self):
        world = await self.world()
        for procedure in ("trip.update", "trip.cancel", "trip.get", "trip.history"):
            before = await world.state()
            kwargs = world.valid(procedure, {"nk": NK})
            error = await error_of(getattr(world, CALLER[procedure]).call(procedure, **kwargs))
            assert (error.error, error.args) == ("taxi.error.not_found", ("no such trip",)), procedure
            assert await world.state() == before, procedure

    # Named to come last (trial and pytest alike run a class's tests in the order of their names).
    async def test_when_all_the_bad_input_is_done_the_database_is_as_it_was_and_good_calls_still_work(self):
        world = await self.world()
        assert await world.state() == world.at_start
        trip = await world.rider.call("trip.request", **world.valid("trip.request", None))
        assert trip["status"] == "REQUESTED"
        assert trip["nk"] in [t["nk"] for t in await world.other_driver.call("trip.available")]
        assert (await world.other_driver.call("trip.update", **world.valid("trip.update", trip)))["status"] == "STARTED"
        assert (await world.rider.call("trip.cancel", **world.valid("trip.cancel", trip)))["status"] == "CANCELED"
        assert (await world.rider.call("trip.get", **world.valid("trip.get", trip)))["status"] == "CANCELED"
        assert await world.rider.call("trip.list", **world.valid("trip.list", trip)) == [world.accepted, world.requested]
        user = await world.anonymous.call("user.signup", **world.valid("user.signup", trip))
        assert (user["role"], user["first_name"], user["last_name"]) == ("rider", "F", "L")


async def make_trips(rider: Client, driver: Client) -> tuple[dict, dict]:
    """The rider's two trips: one requested, one accepted by the driver."""
    requested = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    accepted = await rider.call("trip.request", pick_up_address="C", drop_off_address="D")
    return requested, await driver.call("trip.update", nk=accepted["nk"], status="STARTED")


class BadInputOnSQLite(BadInput, trial.OnSQLite):
    pass


class BadInputOnPostgreSQL(BadInput, trial.OnPostgreSQL):
    pass

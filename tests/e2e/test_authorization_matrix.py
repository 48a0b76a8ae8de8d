"""The whole authorization matrix of docs/contract.md, asked of the real router and compared
with a table written from the contract: every role (anonymous, rider, driver — each rider and
driver both as a trip's own and as a stranger — and backend) × every procedure and topic of the
contract, the backend's own procedures and the router's meta API × call / subscribe / publish /
register × exact, prefix and wildcard match (subscribe and register take a match policy; call
and publish have none).

"Allowed": the call reached the backend (a result or a taxi.error.*), or the subscription,
registration or acknowledged publication was granted. "Refused": wamp.error.not_authorized
(or wamp.error.invalid_uri for publishing or registering in the router's reserved wamp.*).
Registrations force re-registration, so that the router asks the authorizer before it looks for
an existing registration (test_authorization.py shows the other answer).

The client roles' matrix is run twice, the second time in reverse order: whatever the router
and the authorizer cached in the first pass (one rider allowed a topic, one refused) must not
change a single answer of the second.

What the contract's "everything" means for backend, read here: every URI of the contract's
own namespaces (trip.*, user.*, driver.*, taxi.*) for calls and subscriptions; registering trip.*,
user.*, driver.*, taxi.auth.* and taxi.health.*; publishing taxi.*; and of the router's wamp.* meta API
exactly three URIs: calling wamp.session.count (its metrics' sessions by role), subscribing to
wamp.session.on_join and calling wamp.session.kill (device keys: who joined with which key, and ending
a removed device's sessions). Nothing else: no other meta procedure or event, not a foreign namespace.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, RegisterOptions, SubscribeOptions

from ..support import trial
from ..support.wamp import Events, connect_backend

pytestmark = pytest.mark.e2e

NOT_AUTHORIZED = "wamp.error.not_authorized"
ACCOUNT = ["user.add_device", "user.devices", "user.remove_device", "user.change_password"]
PROCEDURES = ["user.signup", "trip.request", "trip.update", "trip.cancel", "trip.get", "trip.history", "trip.list",
              "trip.available", "driver.locate", "driver.offline", *ACCOUNT]
BACKEND_PROCEDURES = ["taxi.auth.authenticate", "taxi.auth.authorize", "taxi.auth.authenticate_device",
                      "taxi.health.check"]
ROUTER_PROCEDURES = ["taxi.router.retained"]  # the router's own, for the backend (components/router_retention.py)
META = ["wamp.session.list", "wamp.session.count", "wamp.registration.list", "wamp.session.on_join",
        "wamp.subscription.on_subscribe", "wamp.session.kill", "wamp.session.kill_by_authid", "wamp.session.on_leave"]
MADE_UP = ["trip.delete", "user.delete", "driver.teleport", "taxi.made_up", "taxi.trip.NOT-A-KEY", "taxi.trip.x.y",
           "com.example.news"]
MAY_CALL = {
    "anonymous": {"user.signup"},
    "rider": {"trip.request", "trip.cancel", "trip.list", "trip.get", "trip.history", *ACCOUNT},
    "driver": {"trip.update", "trip.list", "trip.get", "trip.history", "trip.available", "driver.locate",
               "driver.offline", *ACCOUNT},
}
# Who is who: (name, role). Alice's trips: "requested" (up for grabs), "accepted" (Dan drives it).
CAST = [("anonymous", "anonymous"), ("alice", "rider"), ("bob", "rider"), ("dan", "driver"), ("eve", "driver")]
FOLLOWERS = {"requested": {"alice"}, "accepted": {"alice", "dan"}}
PATTERNS = {
    "prefix": ["taxi", "taxi.", "taxi.trip", "taxi.trip.", "taxi.drivers", "taxi.trip.{requested}", "taxi.auth.",
               "trip", "trip.", "trip.request", "user.", "driver.", "wamp.", "com."],
    "wildcard": ["taxi..", "taxi.trip.", "taxi.drivers", "taxi.trip.{accepted}", ".drivers", "trip.", ".request",
                 "user.", "taxi.auth.", "..", "wamp.session."],
}  # fmt: skip


def topics(trips: dict) -> dict[str, str]:
    """Every topic of the contract (and a well-formed one of no trip), by what it is."""
    return {"taxi.drivers": "drivers", f"taxi.trip.{trips['requested']}": "requested",
            f"taxi.trip.{trips['accepted']}": "accepted", "taxi.trip." + "0" * 32: "no trip"}  # fmt: skip


def cases(trips: dict) -> list[tuple[str, str, str]]:
    """(action, uri, match) for every question the matrix asks of one session."""
    exact = [*PROCEDURES, *BACKEND_PROCEDURES, *ROUTER_PROCEDURES, *META, *topics(trips), *MADE_UP]
    patterns = [(uri.format(**trips), match) for match, uris in PATTERNS.items() for uri in uris]
    return [
        *(("call", uri, "exact") for uri in exact),
        *(("publish", uri, "exact") for uri in exact),
        *((action, uri, "exact") for action in ("subscribe", "register") for uri in exact),
        *((action, uri, match) for action in ("subscribe", "register") for uri, match in patterns),
    ]


def contract_allows(name: str, role: str, action: str, uri: str, match: str, trips: dict) -> bool:
    """The contract's table (docs/contract.md, "Roles"), for anonymous, riders and drivers."""
    if action == "call":
        return uri in MAY_CALL[role]
    if action != "subscribe" or match != "exact":
        return False  # no client publishes or registers; subscriptions are to exact topics only
    topic = topics(trips).get(uri)
    if topic == "drivers":
        return role == "driver"
    return name in FOLLOWERS.get(topic, ())


def backend_allows(action: str, uri: str) -> bool:
    """The backend's row, as read in the module's docstring."""
    topic = uri.startswith("taxi.") and not uri.startswith(("taxi.auth.", "taxi.health."))  # those are procedures
    return {
        "call": uri.startswith(("trip.", "user.", "driver.", "taxi.")) or uri in ("wamp.session.count", "wamp.session.kill"),
        "subscribe": topic or uri == "wamp.session.on_join",
        "register": uri.startswith(("trip.", "user.", "driver.", "taxi.auth.", "taxi.health.")),
        "publish": topic,
    }[action]


# A call the router let through: the backend refused its (missing) arguments, or no one
# had registered the URI (a topic's, say); runtime_error is Autobahn's answer when the
# backend's own procedures (taxi.auth.*) are called without theirs.
PASSED_ON = ("taxi.error.", "wamp.error.no_such_procedure", "wamp.error.runtime_error")
# WAMP reserves wamp.* for the router: it refuses to publish or register there before it asks
# about roles, with this error instead of not_authorized.
RESERVED = "wamp.error.invalid_uri"


async def attempt(session, action: str, uri: str, match: str, force: bool = True) -> str:
    """Ask the router; answer "allowed", "refused" or what else came back (always a mismatch).

    `force`: register with force_reregister (for sessions that must be refused); the backend
    joins the registered procedures' pools instead, with their own invocation policy."""
    try:
        if action == "call":
            await session.call(uri)
        elif action == "publish":
            await session.publish(uri, {"probe": True}, options=PublishOptions(acknowledge=True))
        elif action == "subscribe":
            granted = await session.subscribe(Events().put, uri, options=SubscribeOptions(match=match))
            await granted.unsubscribe()
        else:
            invoke = "first" if uri == "taxi.auth.authenticate" and match == "exact" else "roundrobin"
            options = RegisterOptions(match=match, invoke=invoke, force_reregister=force)
            granted = await session.register(lambda *a, **kw: None, uri, options=options)
            await granted.unregister()
    except ApplicationError as error:
        if error.error == NOT_AUTHORIZED or (error.error == RESERVED and uri.startswith("wamp.")):
            return "refused"
        return "allowed" if action == "call" and error.error.startswith(PASSED_ON) else error.error
    return "allowed"


@dataclass
class Tally:
    cases: int = 0
    mismatches: list = None

    def check(self, who: str, action: str, uri: str, match: str, expected: bool, answer: str) -> None:
        self.cases += 1
        if answer != ("allowed" if expected else "refused"):
            self.mismatches.append((who, action, uri, match, "allowed" if expected else "refused", answer))

    def figure(self, label: str) -> str:
        agree = self.cases - len(self.mismatches)
        return f"{label}: {self.cases} cases, {agree} as the contract says ({100 * agree / self.cases:.1f}%)"


class ClientRoles:
    async def cast(self) -> tuple[dict, dict]:
        """Every session of CAST, and Alice's two trips' keys."""
        sessions = {"anonymous": await self.users.anonymous()}
        for name, role in CAST[1:]:
            sessions[name], _ = await self.users.new(role)
        requested = await sessions["alice"].call("trip.request", pick_up_address="A", drop_off_address="B")
        accepted = await sessions["alice"].call("trip.request", pick_up_address="C", drop_off_address="D")
        await sessions["dan"].call("trip.update", nk=accepted["nk"], status="STARTED")
        return sessions, {"requested": requested["nk"], "accepted": accepted["nk"]}

    async def test_every_client_role_gets_exactly_what_the_contract_gives_it_and_caching_changes_nothing(self):
        sessions, trips = await self.cast()
        tally = Tally(mismatches=[])
        questions = [(name, role, *case) for name, role in CAST for case in cases(trips)]
        for run in (questions, questions[::-1]):
            for name, role, action, uri, match in run:
                answer = await attempt(sessions[name], action, uri, match)
                tally.check(name, action, uri, match, contract_allows(name, role, action, uri, match, trips), answer)
        allowed = Counter(f"{name}:{case[0]}" for name, role, *case in questions if contract_allows(name, role, *case, trips))
        self.figure(tally.figure(f"{len(CAST)} sessions x {len(questions) // len(CAST)} questions x 2 orders") + f"; allowed {dict(allowed)}")
        assert tally.mismatches == [], "\n".join(map(str, sorted(set(m[1:] for m in tally.mismatches))))
        assert all(session.is_attached() for session in sessions.values())


class ClientRolesOnSQLite(ClientRoles, trial.OnSQLite):
    pass


class ClientRolesOnPostgreSQL(ClientRoles, trial.OnPostgreSQL):
    pass


class BackendRole(trial.OnSQLite):
    separate = True  # `taxi router` and `taxi backend` run apart, so that the test knows the backend's ticket

    async def test_the_backend_role_gets_exactly_what_the_contract_gives_it(self):
        backend = await connect_backend(self.node.backend_socket, self.node.backend_ticket)
        self.users.sessions.append(backend)
        assert backend.details.authrole == "backend"
        trips = {"requested": "1" * 32, "accepted": "2" * 32}
        tally = Tally(mismatches=[])
        for action, uri, match in cases(trips):
            if action == "call" and uri == "taxi.auth.authenticate":
                continue  # it would count as a failed login; the row's other calls show the rule
            answer = await attempt(backend, action, uri, match, force=False)
            tally.check("backend", action, uri, match, backend_allows(action, uri), answer)
        self.figure(tally.figure("backend"))
        assert tally.mismatches == [], "\n".join(map(str, sorted(set(m[1:] for m in tally.mismatches))))

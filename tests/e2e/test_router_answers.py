"""What the router's answers tell a client about the backend: nothing.

- A REGISTER from any client role — anonymous, rider, driver, and a client that asked the
  public port for the backend role (it joins, as what it is) — of any procedure the backend
  has registered, under any invocation policy, or of a URI nobody has registered, is answered
  wamp.error.not_authorized, in words that differ only by the URI. Crossbar 26.10.1 alone
  answers a taken URI with the registration's invocation policy (docs/crossbar-workarounds.md).
- No RESULT, and no ERROR of a call, carries the callee's session id, authid or authrole.

Both are components/router_guard.py's work; here they are asked of a real node, over the wire.
"""

from __future__ import annotations

import secrets

import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions

from components import uris
from components.errors import INVALID_ARGUMENT, NOT_AUTHORIZED
from tests.support.wamp import connect, error_of

pytestmark = pytest.mark.e2e

PROCEDURES = [uris.SIGNUP, uris.TRIP_REQUEST, uris.TRIP_UPDATE, uris.TRIP_CANCEL, uris.TRIP_GET, uris.TRIP_HISTORY,
              uris.TRIP_LIST, uris.TRIP_AVAILABLE, uris.DRIVER_LOCATE, uris.DRIVER_OFFLINE, uris.USER_ADD_DEVICE,
              uris.USER_DEVICES, uris.USER_REMOVE_DEVICE, uris.USER_CHANGE_PASSWORD, uris.AUTHENTICATE,
              uris.AUTHORIZE, uris.AUTHENTICATE_DEVICE]  # fmt: skip
# The backend registers with "roundrobin" and "first": a policy that differs from the
# registration's is what made Crossbar name it; force_reregister skips that look-up.
REGISTER_OPTIONS = {
    **{invoke: RegisterOptions(invoke=invoke) for invoke in ("single", "first", "last", "roundrobin", "random")},
    "force_reregister": RegisterOptions(force_reregister=True),
}


async def client_sessions(node, users) -> dict:
    """One session of every kind a client can have on the public port, by name."""
    rider, _ = await users.new("rider")
    driver, _ = await users.new("driver")
    rider_asking_for_backend = await users.login(await users.signup("rider"), authrole="backend")
    anonymous_asking_for_backend = await connect(node.port, authrole="backend")
    users.sessions.append(anonymous_asking_for_backend)
    sessions = {"anonymous": await users.anonymous(), "rider": rider, "driver": driver,
                "rider asking for backend": rider_asking_for_backend,
                "anonymous asking for backend": anonymous_asking_for_backend}  # fmt: skip
    assert {name: s.details.authrole for name, s in sessions.items()} == {
        "anonymous": "anonymous", "rider": "rider", "driver": "driver",
        "rider asking for backend": "rider", "anonymous asking for backend": "anonymous",
    }  # fmt: skip
    return sessions


async def register_answer(session, uri: str, options: RegisterOptions) -> tuple[str, str]:
    """(error URI, its text with the URI taken out), or ("registered", "") if the router let it through."""
    try:
        registration = await session.register(lambda *a, **kw: "hijacked", uri, options=options)
    except ApplicationError as error:
        return error.error, " ".join(map(str, error.args)).replace(uri, "<uri>")
    await registration.unregister()
    return "registered", ""


@pytest_twisted.ensureDeferred
async def test_every_client_role_registering_anything_is_told_not_authorized_and_nothing_more(node, users):
    sessions = await client_sessions(node, users)
    made_up = f"trip.made_up_{secrets.token_hex(4)}"
    answers = {
        (name, uri, label): await register_answer(session, uri, options)
        for name, session in sessions.items()
        for uri in [*PROCEDURES, made_up]
        for label, options in REGISTER_OPTIONS.items()
    }
    assert {case: error for case, (error, _) in answers.items() if error != NOT_AUTHORIZED} == {}
    # The same words whether the URI is registered or not, and whoever asks.
    assert len({text for _, text in answers.values()}) == 1, {text for _, text in answers.values()}
    # Nobody was let into the backend's pool or kicked out of it: it still answers.
    assert (await error_of(sessions["anonymous"].call(uris.SIGNUP))).error == INVALID_ARGUMENT
    assert (await error_of(sessions["rider"].call(uris.TRIP_REQUEST))).error == INVALID_ARGUMENT


def callee_details(reply) -> tuple:
    return reply.callee, reply.callee_authid, reply.callee_authrole, reply.forward_for


@pytest_twisted.ensureDeferred
async def test_no_result_or_call_error_a_client_receives_names_the_callee(node, users):
    anonymous = await users.anonymous()
    rider, _ = await users.new("rider")
    driver, _ = await users.new("driver")
    trip = await rider.call(uris.TRIP_REQUEST, pick_up_address="A", drop_off_address="B")
    await rider.call(uris.TRIP_GET, nk=trip["nk"])
    await rider.call(uris.TRIP_LIST, active=True)
    await driver.call(uris.TRIP_AVAILABLE)
    await driver.call(uris.TRIP_UPDATE, nk=trip["nk"], status="STARTED")
    await anonymous.call(uris.SIGNUP, username=f"someone_{secrets.token_hex(4)}", password="long enough", role="rider")
    # Errors from the backend, and one from the router itself.
    await error_of(rider.call(uris.TRIP_REQUEST))
    await error_of(rider.call(uris.TRIP_GET, nk="0" * 32))
    await error_of(driver.call(uris.TRIP_UPDATE, nk=trip["nk"], status="COMPLETED"))
    await error_of(anonymous.call(uris.SIGNUP))
    await error_of(rider.call(uris.TRIP_AVAILABLE))

    replies = {name: session.replies for name, session in [("anonymous", anonymous), ("rider", rider), ("driver", driver)]}
    kinds = {name: sorted(type(reply).__name__ for reply in got) for name, got in replies.items()}
    assert kinds == {"anonymous": ["Error", "Result"], "rider": ["Error"] * 3 + ["Result"] * 3,
                     "driver": ["Error", "Result", "Result"]}  # fmt: skip
    disclosed = [(name, type(reply).__name__, callee_details(reply))
                 for name, got in replies.items() for reply in got if callee_details(reply) != (None,) * 4]  # fmt: skip
    assert disclosed == []

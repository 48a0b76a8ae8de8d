"""The web app and the backend spell the contract alike: each side names it once
(crossbar_config/web/js/contract.js; components/uris.py, components/errors.py and taxi_core.domain),
and the two agree."""

from __future__ import annotations

import re
from pathlib import Path

from components import uris
from components.errors import AUTHENTICATION_FAILED, DATABASE_UNREACHABLE, ERROR_URIS, INTERNAL
from taxi_core.domain import Role, TripStatus
from taxi_core.events import OFFER_CLOSED, OFFER_OPEN

CONTRACT_JS = Path(__file__).parents[2] / "crossbar_config" / "web" / "js" / "contract.js"
CONSTANT = re.compile(r'^export const (\w+) = "([^"]*)";', re.M)
FROZEN = re.compile(r"^export const (\w+) = Object\.freeze\(\{(.*?)\}\);", re.M | re.S)
ENTRY = re.compile(r'(\w+): "([^"]*)"')
TRIP_TOPIC = re.compile(r"^export const tripTopic = \(nk\) => `([^`]*)\$\{nk\}`;", re.M)


def _contract_js() -> dict:
    text = CONTRACT_JS.read_text()
    names: dict = dict(CONSTANT.findall(text))
    names.update({name: dict(ENTRY.findall(body)) for name, body in FROZEN.findall(text)})
    names["tripTopic prefix"] = TRIP_TOPIC.search(text)[1]
    return names


JS = _contract_js()


def test_the_web_app_joins_the_backends_realm():
    assert JS["REALM"] == uris.REALM


def test_the_web_app_knows_every_procedure_a_client_may_call_by_its_uri():
    public = {uris.SIGNUP, uris.TRIP_REQUEST, uris.TRIP_UPDATE, uris.TRIP_CANCEL, uris.TRIP_GET, uris.TRIP_HISTORY,
              uris.TRIP_LIST, uris.TRIP_AVAILABLE, uris.DRIVER_LOCATE, uris.DRIVER_OFFLINE, uris.USER_ADD_DEVICE,
              uris.USER_DEVICES, uris.USER_REMOVE_DEVICE, uris.USER_CHANGE_PASSWORD}  # fmt: skip
    assert set(JS["PROCEDURE"].values()) == public
    assert {name: getattr(uris, name) for name in JS["PROCEDURE"]} == JS["PROCEDURE"]


def test_the_web_app_subscribes_to_the_topics_the_backend_publishes():
    assert JS["DRIVERS_TOPIC"] == uris.DRIVERS_TOPIC
    assert JS["tripTopic prefix"] == uris.TRIP_TOPIC_PREFIX


def test_the_web_app_knows_why_the_router_ends_a_removed_device_s_session():
    assert JS["DEVICE_REMOVED"] == uris.DEVICE_REMOVED


def test_the_web_app_reads_an_offer_on_the_drivers_topic_as_the_outbox_publishes_it():
    assert JS["OFFER"] == {"OPEN": OFFER_OPEN, "CLOSED": OFFER_CLOSED}


def test_the_web_app_knows_every_status_and_role_as_the_domain_spells_them():
    assert JS["STATUS"] == {status.name: status.value for status in TripStatus}
    assert JS["ROLE"] == {role.name: role.value for role in Role}


def test_every_error_uri_of_the_web_app_is_one_the_service_answers_or_a_wamp_one():
    ours = {uri for uri in JS["ERROR"].values() if not uri.startswith("wamp.error.")}
    # database_unreachable answers only the router's health check (taxi.health.check), never a client.
    to_clients = {uri for uri in ERROR_URIS.values() if uri.startswith("taxi.error.")} - {DATABASE_UNREACHABLE}
    assert ours == to_clients | {INTERNAL}
    assert JS["ERROR"]["AUTHENTICATION_FAILED"] == AUTHENTICATION_FAILED

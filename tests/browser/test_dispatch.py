"""Dispatch in the browser, the issue's done-when story as people live it: a rider and two
drivers, each in a browser of their own with Playwright's geolocation, on a node that dispatches
in seconds (conftest.DISPATCH: one driver a round, 8 s windows, expiry after 18 s). A located
request goes to the nearer driver first, then to the other, then expires; a driver refused
geolocation types his position in; a driver who goes offline is offered nothing."""

import itertools
import random

import pytest
from playwright.sync_api import expect

from taxi_core.geo import KM_PER_DEGREE

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Each test dispatches around a city of its own, hundreds of km from the others' (the node, and
# the positions its drivers sent, outlive a test; TAXI_DISPATCH_MAX_KM is 10).
_cities = itertools.count()


@pytest.fixture
def city() -> dict:
    n = next(_cities)
    return {"lat": -50 + 4 * (n % 25), "lng": round(random.uniform(-170, 170), 5)}


@pytest.fixture
def street(city):
    """street("Elm St 5") -> an address no other test on the node uses: a request an earlier test
    left open, without a location, is on every driver's list (test_accounts.py leaves "Elm St 5")."""
    return lambda name: f"{name}, city {city['lat']},{city['lng']}"


def north(point: dict, km: float) -> dict:
    return {"lat": round(point["lat"] + km / KM_PER_DEGREE, 6), "lng": point["lng"]}


def test_a_located_request_goes_to_the_nearer_driver_then_to_the_other_then_expires(people, city, street):
    elm = street("Elm St 5")
    ann = people("rider ann", at=city)
    bob, cy = people("driver bob", at=north(city, 1)), people("driver cy", at=north(city, 2))
    ann.sign_up("rider", "Ann", "Rider")
    bob.sign_up("driver", "Bob", "Driver")
    cy.sign_up("driver", "Cy", "Driver")
    for driver in (bob, cy):
        driver.go_online()
        expect(driver.presence).to_contain_text("(from this device)")
    # Her browser knows where she is: the pick-up point is filled in.
    latitude, longitude = ann.pick_up_point
    expect(latitude).to_have_value(f"{city['lat']:.5f}")
    expect(longitude).to_have_value(f"{city['lng']:.5f}")

    ann.request_ride(elm, "Airport")
    expect(bob.offer_from(elm)).to_contain_text("Offered to you · ends in")
    expect(cy.request_from(elm)).to_have_count(0)  # the router never sent it to Cy
    expect(ann.dispatch).to_have_text("Offered to the 1 driver nearest you, within 1.0 km")
    expect(ann.ride).to_contain_text("Expires in")
    bob.shot("offer")
    ann.shot("offered-to-the-nearest")

    # Bob's window ends: his offer goes, and the next driver out gets it.
    expect(cy.offer_from(elm)).to_be_visible()
    expect(bob.request_from(elm)).to_have_count(0)
    expect(ann.dispatch).to_have_text("Widening the search: offered to 2 drivers so far, within 2.0 km")
    cy.shot("offer")
    ann.shot("widening")

    # Nobody takes it.
    expect(ann.ride).to_contain_text("No driver accepted in time: your request expired")
    expect(ann.ride.locator(".status")).to_have_text("Expired")
    expect(ann.dispatch).to_have_text("Offered to 2 drivers; nobody took it. Request again to try once more.")
    expect(ann.toasts).to_contain_text("No driver accepted in time: your request expired.")
    expect(ann.ride.get_by_role("button", name="Cancel ride")).to_have_count(0)
    expect(ann.history.locator("li", has_text=f"{elm} → Airport")).to_contain_text("Expired · ")
    for driver in (bob, cy):
        expect(driver.request_from(elm)).to_have_count(0)
    ann.shot("expired")


def test_a_driver_refused_geolocation_types_his_position_in_and_takes_the_offer(people, city, street):
    oak = street("Oak Av 3")
    ann, eve = people("rider ann"), people("driver eve")  # neither browser may tell where they are
    ann.sign_up("rider", "Ann", "Rider")
    eve.sign_up("driver", "Eve", "Driver")
    eve.page.get_by_role("button", name="Go online").click()
    expect(eve.presence).to_contain_text("Location permission is denied. Enter your position below")
    expect(eve.presence).to_contain_text("Going online: waiting for your position")
    eve.set_position_by_hand(north(city, 0.5))
    expect(eve.presence).to_contain_text("You are online")
    expect(eve.presence).to_contain_text("(entered by hand)")
    eve.shot("position-by-hand")

    ann.page.get_by_role("button", name="Use my location").click()
    expect(ann.page.locator("#pick-up-note")).to_contain_text("Location permission is denied")
    ann.request_ride(oak, "Museum", at=city)
    expect(ann.dispatch).to_have_text("Offered to the 1 driver nearest you, within 0.5 km")
    expect(eve.offer_from(oak)).to_be_visible()
    expect(eve.toasts).to_contain_text(f"Ride offer for you from Ann Rider: {oak} → Museum")
    eve.accept(oak)
    expect(eve.ride).to_contain_text("Pick up Ann Rider at Oak Av 3")
    expect(eve.requests).not_to_contain_text(oak)
    expect(ann.ride).to_contain_text("Eve Driver is coming to pick you up")
    expect(ann.dispatch).to_have_count(0)  # over: the card says who comes


def test_a_driver_who_goes_offline_is_offered_nothing_until_he_is_back_online(people, city, street):
    pine = street("Pine Rd 8")
    ann, dan = people("rider ann", at=city), people("driver dan", at=north(city, 1))
    ann.sign_up("rider", "Ann", "Rider")
    dan.sign_up("driver", "Dan", "Driver")
    dan.go_online()
    dan.go_offline()
    ann.request_ride(pine, "Harbour")
    # Round 1 is made in the request itself: had Dan been available, it would name him.
    expect(ann.dispatch).to_have_text("Searching for drivers nearby…")
    expect(dan.request_from(pine)).to_have_count(0)
    ann.shot("searching")

    dan.go_online()
    expect(dan.offer_from(pine)).to_be_visible()
    expect(ann.dispatch).to_have_text("Offered to the 1 driver nearest you, within 1.0 km")

"""A ride in the browser, the seed's WebSocketTripTest as people live it: a rider and two
drivers, each in a browser of their own, on one node."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def ann_bob_and_cy(people):
    """A rider (Ann) and two drivers (Bob, Cy), signed up and looking at their screens."""
    ann, bob, cy = people("rider ann"), people("driver bob"), people("driver cy")
    ann.sign_up("rider", "Ann", "Rider")
    bob.sign_up("driver", "Bob", "Driver")
    cy.sign_up("driver", "Cy", "Driver")
    return ann, bob, cy


def test_a_ride_from_request_to_completion_seen_live_by_the_rider_and_both_drivers(ann_bob_and_cy):
    ann, bob, cy = ann_bob_and_cy
    ann.request_ride("Main St 1", "Central Station")
    ann.shot("requested")
    for driver in (bob, cy):
        expect(driver.request_from("Main St 1")).to_contain_text("Ann Rider needs a ride")
        expect(driver.toasts).to_contain_text("New ride request: Main St 1 → Central Station")
    bob.shot("request-arrived")

    bob.accept("Main St 1")
    expect(bob.ride).to_contain_text("Pick up Ann Rider at Main St 1")
    expect(bob.request_from("Main St 1")).to_have_count(0)
    expect(cy.request_from("Main St 1")).to_have_count(0)
    expect(ann.ride).to_contain_text("Bob Driver is coming to pick you up")
    expect(ann.toasts).to_contain_text("Bob Driver is coming to pick you up.")
    # Each sees the other on the card, not themselves.
    expect(ann.ride.locator("dl")).to_have_text(re.compile(r"^From\s*Main St 1\s*To\s*Central Station\s*Driver\s*Bob Driver\s*Requested"))
    expect(bob.ride.locator("dl")).to_have_text(re.compile(r"^From\s*Main St 1\s*To\s*Central Station\s*Rider\s*Ann Rider\s*Requested"))
    ann.shot("driver-coming")
    bob.shot("accepted")
    cy.shot("request-gone")

    bob.next_step("Rider picked up: start the ride")
    expect(bob.ride).to_contain_text("Drive Ann Rider to Central Station")
    expect(ann.ride).to_contain_text("On your way to Central Station")
    expect(ann.toasts).to_contain_text("On your way to Central Station.")
    ann.shot("in-progress")
    bob.shot("in-progress")

    bob.next_step("Rider dropped off: complete the ride")
    expect(bob.ride).to_contain_text("No ride right now")
    expect(bob.toasts).to_contain_text("Ride completed")
    expect(ann.ride).to_contain_text("You have arrived at Central Station")
    expect(ann.toasts).to_contain_text("You have arrived at Central Station.")
    expect(ann.ride.get_by_role("button", name="Cancel ride")).to_have_count(0)
    for person, other in ((ann, "driver Bob Driver"), (bob, "rider Ann Rider")):
        past = person.history.locator("li", has_text="Main St 1 → Central Station")
        expect(past).to_contain_text("Completed · ")
        expect(past).to_contain_text(other)
    expect(cy.history).to_contain_text("No past rides yet.")
    ann.shot("completed")
    bob.shot("completed")


def test_the_rider_cancels_while_a_driver_is_on_his_way_and_he_is_told(ann_bob_and_cy):
    ann, bob, cy = ann_bob_and_cy
    ann.request_ride("Park Lane 9", "Zoo")
    bob.accept("Park Lane 9")
    expect(ann.ride).to_contain_text("Bob Driver is coming to pick you up")
    ann.ride.get_by_role("button", name="Cancel ride").click()
    expect(ann.ride).to_contain_text("This ride was cancelled")
    expect(ann.history).to_contain_text("Cancelled")
    expect(bob.toasts).to_contain_text("Ann Rider cancelled the ride.")
    expect(bob.ride).to_contain_text("No ride right now")
    expect(bob.history.locator("li", has_text="Park Lane 9")).to_contain_text("Cancelled")
    ann.shot("cancelled")
    bob.shot("rider-cancelled")


def test_a_request_cancelled_before_anyone_accepts_vanishes_from_every_driver(ann_bob_and_cy):
    ann, bob, cy = ann_bob_and_cy
    ann.request_ride("Hill Rd 2", "Beach")
    for driver in (bob, cy):
        expect(driver.request_from("Hill Rd 2")).to_be_visible()
    ann.ride.get_by_role("button", name="Cancel ride").click()
    for driver in (bob, cy):
        expect(driver.request_from("Hill Rd 2")).to_have_count(0)
    expect(ann.ride).to_contain_text("This ride was cancelled")


def test_the_second_driver_to_accept_is_told_another_driver_was_faster(people):
    ann, bob, cy = people("rider ann"), people("driver bob"), people("driver cy", relay=True)
    ann.sign_up("rider", "Ann", "Rider")
    bob.sign_up("driver", "Bob", "Driver")
    cy.sign_up("driver", "Cy", "Driver")
    ann.request_ride("Quay 4", "Castle")
    expect(cy.request_from("Quay 4")).to_be_visible()
    with cy.relay.hold():  # Cy's screen lags behind: the news of Bob's accept is still on its way
        bob.accept("Quay 4")
        expect(ann.ride).to_contain_text("Bob Driver is coming to pick you up")
        cy.accept("Quay 4")
        expect(cy.toasts).to_contain_text("Another driver was faster: that ride is taken.")
        expect(cy.request_from("Quay 4")).to_have_count(0)
        cy.shot("another-driver-was-faster")
    expect(cy.ride).to_contain_text("No ride right now")

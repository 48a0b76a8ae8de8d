"""Signing up, logging in and out in the browser, and what the page says when it goes wrong."""

import pytest
from playwright.sync_api import expect

from .app import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_new_rider_signs_up_and_sees_the_request_form(people):
    ann = people("rider ann")
    ann.shot("welcome")
    username = ann.sign_up("rider", "Ann", "Rider")
    expect(ann.page.get_by_role("heading", name="Where to?")).to_be_visible()
    expect(ann.page.locator("#account")).to_contain_text(f"{username} (rider)")
    expect(ann.ride).to_contain_text("No ride yet")
    ann.shot("rider-empty")


def test_a_new_driver_signs_up_and_sees_the_requests_made_before_he_came(people):
    ann = people("rider ann")
    ann.sign_up("rider", "Ann")
    ann.request_ride("Old Mill 3", "Airport")
    bob = people("driver bob")
    bob.sign_up("driver", "Bob", "Driver")
    expect(bob.page.locator("#account")).to_contain_text("(driver)")
    expect(bob.request_from("Old Mill 3")).to_contain_text("Ann needs a ride")
    bob.shot("driver-requests")


def test_a_taken_username_is_refused_with_a_clear_message(people):
    first = people("rider ann")
    username = first.sign_up("rider", "Ann")
    second = people("rider other")
    second.submit_sign_up("driver", "Someone", "Else", username)
    expect(second.signup_error()).to_have_text("That username is taken: choose another one.")
    expect(second.page.locator("#signup-form").get_by_role("button", name="Sign up")).to_be_enabled()
    second.shot("username-taken")


def test_a_wrong_password_is_refused_with_a_clear_message_and_the_right_one_then_works(people):
    ann = people("rider ann")
    username = ann.sign_up("rider", "Ann")
    ann.log_out()
    ann.log_in(username, PASSWORD + " but wrong")
    expect(ann.login_error()).to_have_text("Wrong username or password.")
    ann.shot("wrong-password")
    ann.log_in(username, PASSWORD)
    expect(ann.page.locator("#rider")).to_be_visible()
    expect(ann.login_error()).to_be_hidden()


def test_logging_out_and_in_again_shows_the_same_rides(people):
    ann = people("rider ann")
    username = ann.sign_up("rider", "Ann")
    ann.request_ride("Elm St 5", "Museum")
    ann.log_out()
    expect(ann.page.locator("#rider")).to_be_hidden()
    ann.log_in(username)
    expect(ann.ride).to_contain_text("Elm St 5")
    expect(ann.ride).to_contain_text("Looking for a driver")


def test_what_people_type_is_shown_to_others_as_text_never_as_markup(people):
    mallory, bob = people("rider mallory"), people("driver bob")
    mallory.sign_up("rider", "<img src=x onerror=alert(1)>")
    bob.sign_up("driver", "Bob")
    mallory.request_ride("<b>Bold St</b>", "<script>alert(2)</script>")
    request = bob.request_from("<b>Bold St</b>")
    expect(request).to_contain_text("<img src=x onerror=alert(1)> needs a ride")
    expect(request).to_contain_text("<script>alert(2)</script>")
    expect(bob.requests.locator("b, img, script")).to_have_count(0)
    expect(mallory.ride).to_contain_text("<b>Bold St</b>")

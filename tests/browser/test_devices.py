"""Staying logged in with a device key (docs/contract.md, "Logging in with a device"): the page
registers a key after the password login and logs in with it from then on, so a reload keeps
the user logged in and following the ride; "Log out" removes the device; a device removed from
another session sends the page back to the login form."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from .app import PASSWORD, ann_on_a_ride_bob_accepted

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# A password session of the user's own, elsewhere (a Python client of the contract, in a process
# of its own: these tests are synchronous, the client runs on Twisted).
ELSEWHERE = """
import json, sys
from twisted.internet import defer, task
from taxi.client import connect

async def main(reactor, port, username, password, procedure, kwargs):
    session = await connect(f"ws://127.0.0.1:{port}/ws", authid=username, ticket=password)
    print(json.dumps(await session.call(procedure, **json.loads(kwargs))))
    await session.close()

task.react(lambda reactor, *argv: defer.ensureDeferred(main(reactor, *argv)), sys.argv[1:])
"""
PUBLIC_KEY = "autobahn.auth_cryptosign.public_key(autobahn.auth_cryptosign.load_private_key('taxi.device.seed'))"


def elsewhere(node, username: str, procedure: str, **kwargs):
    done = subprocess.run([sys.executable, "-c", ELSEWHERE, str(node.port), username, PASSWORD, procedure,
                           json.dumps(kwargs)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def logged_in_with_the_key(app) -> bool:
    return app.page.evaluate("localStorage.getItem('taxi.device.user')") == app.username


def test_a_reload_during_a_ride_keeps_the_rider_logged_in_and_following_it(people, node):
    ann, bob = ann_on_a_ride_bob_accepted(people)
    ann.page.wait_for_function("localStorage.getItem('taxi.device.user') !== null")
    assert logged_in_with_the_key(ann)
    [device] = elsewhere(node, ann.username, "user.devices")
    ann.page.reload()
    expect(ann.page.locator("#rider")).to_be_visible()  # no password asked for
    expect(ann.page.locator("#login-form")).to_be_hidden()
    expect(ann.ride).to_contain_text("Bob Driver is coming to pick you up")
    bob.next_step("Rider picked up: start the ride")
    expect(ann.ride).to_contain_text("On your way to Central Station")
    ann.shot("after-reload")
    # The reload logged in with the key: the device was used again, and no password is in the page.
    [again] = elsewhere(node, ann.username, "user.devices")
    assert again["public_key"] == device["public_key"] and again["last_used"] is not None
    assert PASSWORD not in ann.page.evaluate("JSON.stringify(localStorage)")


def test_logging_out_removes_the_device_and_a_reload_then_asks_for_the_password(people, node):
    ann = people("rider ann")
    ann.sign_up("rider", "Ann", "Rider")
    expect(ann.page.locator("#rider")).to_be_visible()
    assert len(elsewhere(node, ann.username, "user.devices")) == 1
    ann.log_out()
    assert elsewhere(node, ann.username, "user.devices") == []
    ann.page.reload()
    expect(ann.page.locator("#login-form")).to_be_visible()
    expect(ann.page.locator("#rider")).to_be_hidden()
    ann.log_in(ann.username)  # the password still works, and makes a new device
    expect(ann.page.locator("#rider")).to_be_visible()


def test_a_device_removed_from_another_session_goes_back_to_the_login_form(people, node):
    bob = people("driver bob")
    bob.sign_up("driver", "Bob", "Driver")
    expect(bob.page.locator("#driver")).to_be_visible()
    [device] = elsewhere(node, bob.username, "user.devices")
    assert bob.page.evaluate(PUBLIC_KEY) == device["public_key"]
    elsewhere(node, bob.username, "user.remove_device", public_key=device["public_key"])
    expect(bob.page.locator("#login-form")).to_be_visible()
    expect(bob.toasts).to_contain_text("no longer one of your devices")
    bob.shot("device-removed")
    bob.page.reload()
    expect(bob.page.locator("#login-form")).to_be_visible()

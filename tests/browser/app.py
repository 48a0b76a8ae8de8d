"""The web app as a person sees it: what they fill in, click and read (Playwright locators by
label, role and text, so the tests also check that the page says what it does)."""

from __future__ import annotations

import itertools
import re
import secrets
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, WebSocketRoute, expect

PASSWORD = "correct horse battery"
_names = itertools.count()


def unique_username(first_name: str) -> str:
    letters = re.sub(r"\W", "", first_name.lower())[:20]
    return f"{letters}{next(_names)}_{secrets.token_hex(3)}"



def ann_on_a_ride_bob_accepted(people, pick_up: str = "Main St 1") -> tuple["App", "App"]:
    """Rider Ann and driver Bob, signed up; Ann's request taken by Bob, and Ann told he is coming.
    The start of every story about what happens to a ride under way."""
    ann, bob = people("rider ann"), people("driver bob")
    ann.sign_up("rider", "Ann", "Rider")
    bob.sign_up("driver", "Bob", "Driver")
    ann.request_ride(pick_up, "Central Station")
    bob.accept(pick_up)
    expect(ann.ride).to_contain_text("Bob Driver is coming to pick you up")
    return ann, bob

class App:
    def __init__(self, page: Page, url: str, who: str, screenshots: Path):
        self.page = page
        self.url = url
        self.who = who
        self._screenshots = screenshots
        self.username: str | None = None
        self.relay: EventRelay | None = None  # set by the people fixture when asked for
        page.goto(url)

    # --- the welcome screen

    def sign_up(self, role: str, first_name: str, last_name: str = "", username: str | None = None) -> str:
        """Signs up (which also logs in) and waits for the rider's or driver's screen."""
        self.submit_sign_up(role, first_name, last_name, username or unique_username(first_name))
        expect(self.page.locator(f"#{role}")).to_be_visible()
        return self.username

    def submit_sign_up(self, role: str, first_name: str, last_name: str, username: str, password: str = PASSWORD):
        form = self.page.locator("#signup-form")
        form.get_by_label("ride (rider)" if role == "rider" else "drive (driver)").check()
        form.get_by_label("Username").fill(username)
        form.get_by_label("Password").fill(password)
        form.get_by_label("First name").fill(first_name)
        form.get_by_label("Last name").fill(last_name)
        form.get_by_role("button", name="Sign up").click()
        self.username = username

    def log_in(self, username: str, password: str = PASSWORD):
        form = self.page.locator("#login-form")
        form.get_by_label("Username").fill(username)
        form.get_by_label("Password").fill(password)
        form.get_by_role("button", name="Log in").click()
        self.username = username

    def log_out(self):
        self.page.get_by_role("button", name="Log out").click()
        expect(self.page.locator("#login-form")).to_be_visible()

    def login_error(self):
        return self.page.locator("#login-form .error")

    def signup_error(self):
        return self.page.locator("#signup-form .error")

    # --- the rider's screen

    def request_ride(self, pick_up: str, drop_off: str, at: dict | None = None):
        """at: the pick-up point to type in; without it, whatever the form holds (by default none)."""
        form = self.page.locator("#request-form")
        form.get_by_label("Pick-up address").fill(pick_up)
        form.get_by_label("Drop-off address").fill(drop_off)
        if at is not None:
            form.get_by_label("Latitude").fill(str(at["lat"]))
            form.get_by_label("Longitude").fill(str(at["lng"]))
        form.get_by_role("button", name="Request a ride").click()
        expect(self.ride).to_contain_text("Looking for a driver")

    @property
    def pick_up_point(self):
        """The request form's (latitude, longitude) inputs."""
        form = self.page.locator("#request-form")
        return form.get_by_label("Latitude"), form.get_by_label("Longitude")

    @property
    def dispatch(self):
        """The line on the rider's card that says how the dispatch of her request stands."""
        return self.ride.locator(".dispatch")

    @property
    def ride(self):
        """The card of the rider's or the driver's current ride."""
        return self.page.locator("#rider-current, #driver-current").filter(visible=True)

    # --- the driver's screen

    @property
    def presence(self):
        return self.page.locator("#presence")

    def go_online(self):
        """Online, and waits until the service has his position (from the browser or by hand)."""
        self.page.get_by_role("button", name="Go online").click()
        expect(self.presence).to_contain_text("You are online")

    def go_offline(self):
        self.page.get_by_role("button", name="Go offline").click()
        expect(self.presence).to_contain_text("You are offline")

    def set_position_by_hand(self, at: dict):
        form = self.page.locator("#position-form")
        if not form.is_visible():
            self.page.get_by_text("Set your position by hand").click()
        form.get_by_label("Latitude").fill(str(at["lat"]))
        form.get_by_label("Longitude").fill(str(at["lng"]))
        form.get_by_role("button", name="Use this position").click()

    def offer_from(self, pick_up: str):
        """A located request offered to him (his alone), on his list."""
        return self.requests.locator("li.offer", has_text=pick_up)

    @property
    def requests(self):
        return self.page.locator("#available")

    def request_from(self, pick_up: str):
        return self.requests.locator("li", has_text=pick_up)

    def accept(self, pick_up: str):
        self.page.get_by_role("button", name=f"Accept ride from {pick_up}").click()

    def next_step(self, name: str):
        self.ride.get_by_role("button", name=name).click()

    # --- on every screen

    @property
    def history(self):
        return self.page.locator("#rider-history, #driver-history").filter(visible=True)

    @property
    def toasts(self):
        return self.page.locator("#toasts")

    @property
    def offline_banner(self):
        return self.page.get_by_role("alert").filter(has_text="Offline")

    def shot(self, name: str):
        """Saves the screen as test-artifacts/screenshots/<test>/<n>-<who>-<name>.png."""
        number = len(list(self._screenshots.iterdir())) + 1
        who = self.who.replace(" ", "-")
        self.page.screenshot(path=self._screenshots / f"{number:02d}-{who}-{name}.png", full_page=True)


class EventRelay:
    """Passes a page's WebSocket through Playwright, so that a test can hold back the events
    the router sends it (WAMP EVENT messages) while calls and their answers still flow: a screen
    that lags behind the world, deterministically."""

    EVENT = re.compile(r"^\[\s*36\s*,")  # [EVENT, subscription, publication, details, args]; JSON

    def __init__(self):
        self.holding = False
        self.held: list[tuple[WebSocketRoute, str]] = []

    def route(self, page_side: WebSocketRoute):
        router_side = page_side.connect_to_server()
        page_side.on_message(router_side.send)
        router_side.on_message(lambda message: self._from_router(page_side, message))

    def _from_router(self, page_side: WebSocketRoute, message):
        if self.holding and isinstance(message, str) and self.EVENT.match(message):
            self.held.append((page_side, message))
        else:
            page_side.send(message)

    @contextmanager
    def hold(self):
        """Events for the page wait until the end of the block, then arrive in order."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            held, self.held = self.held, []
            for page_side, message in held:
                page_side.send(message)

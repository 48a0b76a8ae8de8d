"""Losing the connection: the node stops and starts again on the same port and database. The
pages say they are offline meanwhile, reconnect by themselves, subscribe again and refetch, so
they show what happened while they were away and go on live."""

import pytest
from playwright.sync_api import expect

from ..support.databases import BACKENDS
from ..support.node import Node
from .app import ann_on_a_ride_bob_accepted

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Autobahn|JS tries again at most every 3 s (js/connection.js); starting a node takes a few.
RECONNECTED = 30_000  # ms


class SamePortNodes:
    """`taxi run` nodes one after another on one port and one database, as a restarted server."""

    def __init__(self, database_url, workdir):
        self.database_url = database_url
        self.workdir = workdir
        self.runs: list[Node] = []

    def start(self) -> Node:
        workdir = self.workdir / f"run-{len(self.runs) + 1}"
        workdir.mkdir()
        # The first takes a free port; the next ones the same, the port the pages know.
        running = Node(self.database_url, workdir, port=self.runs[0].port if self.runs else None)
        self.runs.append(running)
        running.wait_until_serving()
        return running

    def stop(self):
        assert self.runs[-1].stop() == 0, self.runs[-1].log_tail()


@pytest.fixture(params=BACKENDS)
def nodes(request, new_database, tmp_path):
    with new_database(request.param) as url:
        nodes = SamePortNodes(url, tmp_path)
        try:
            yield nodes
        finally:
            for run in nodes.runs:
                run.stop()


@pytest.fixture
def node(nodes):
    """This module's pages use a node of their own, since the tests stop it."""
    return nodes.start()


def test_pages_show_offline_while_the_node_is_down_and_catch_up_when_it_is_back(people, nodes):
    ann, bob = ann_on_a_ride_bob_accepted(people)

    # Their browsers cannot connect until we say so, then the node goes down under them.
    for person in (ann, bob):
        person.page.context.set_offline(True)
    nodes.stop()
    for person in (ann, bob):
        expect(person.offline_banner).to_have_text("Offline — reconnecting…")
        expect(person.page.locator("main")).to_have_attribute("inert", "")
    ann.shot("offline")

    # The node is back. While Ann and Bob are still away, Dan asks for a ride.
    nodes.start()
    dan = people("rider dan")
    dan.sign_up("rider", "Dan")
    dan.request_ride("Harbour 7", "Old Town")

    # Bob is back: his ride, and Dan's request that came while he was away.
    bob.page.context.set_offline(False)
    expect(bob.offline_banner).to_be_hidden(timeout=RECONNECTED)
    expect(bob.ride).to_contain_text("Pick up Ann Rider at Main St 1")
    expect(bob.request_from("Harbour 7")).to_contain_text("Dan needs a ride")
    bob.next_step("Rider picked up: start the ride")
    expect(bob.ride).to_contain_text("Drive Ann Rider to Central Station")
    bob.shot("back-online")

    # Ann is back: she sees the step Bob took while she was away, and then the next one live.
    ann.page.context.set_offline(False)
    expect(ann.offline_banner).to_be_hidden(timeout=RECONNECTED)
    expect(ann.ride).to_contain_text("On your way to Central Station")
    expect(ann.toasts).to_contain_text("On your way to Central Station.")
    ann.shot("back-online")
    bob.next_step("Rider dropped off: complete the ride")
    expect(ann.ride).to_contain_text("You have arrived at Central Station")
    expect(dan.ride).to_contain_text("Looking for a driver")


def test_a_page_that_loses_the_node_reconnects_by_itself(people, nodes):
    ann, bob = people("rider ann"), people("driver bob")
    ann.sign_up("rider", "Ann", "Rider")
    bob.sign_up("driver", "Bob", "Driver")
    ann.request_ride("Elm St 5", "Museum")
    expect(bob.request_from("Elm St 5")).to_be_visible()
    nodes.stop()
    for person in (ann, bob):
        expect(person.offline_banner).to_be_visible()
    nodes.start()
    for person in (ann, bob):
        expect(person.offline_banner).to_be_hidden(timeout=RECONNECTED)
    # Live again, on the new node's subscriptions: the request is taken, and both see it.
    bob.accept("Elm St 5")
    expect(ann.ride).to_contain_text("Bob Driver is coming to pick you up")
    expect(bob.request_from("Elm St 5")).to_have_count(0)

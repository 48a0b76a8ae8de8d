"""The city's audit: every offer event reached exactly the drivers the database offered it to."""

from __future__ import annotations

import pytest

from taxi_bench.city.audit import audit, exact
from taxi_bench.city.ledger import Delivery

pytestmark = pytest.mark.bench

# Trip "a": round 1 to ann and bob, round 2 to cy; then cy accepted.
OFFERS = {("a", "ann"): 1, ("a", "bob"): 1, ("a", "cy"): 2}
AS_IT_SHOULD_BE = [
    Delivery("ann", "a", 1, "open", 1),
    Delivery("bob", "a", 1, "open", 1),
    Delivery("ann", "a", 2, "closed", 2),  # passed on to round 2
    Delivery("bob", "a", 2, "closed", 2),
    Delivery("cy", "a", 2, "open", 2),
    *(Delivery(who, "a", 3, "closed", 2) for who in ("ann", "bob", "cy")),  # taken
]


def test_offers_that_reached_exactly_their_batches_pass():
    result = audit(AS_IT_SHOULD_BE, OFFERS, ended={"a"})
    assert exact(result)
    assert result == {**result, "offers_made": 3, "events": 8, "open": 3, "closed": 5, "stray": 0, "missed": 0,
                      "duplicates": 0, "left_open": 0}  # fmt: skip


def test_an_offer_to_a_driver_it_was_not_made_to_is_stray():
    result = audit([*AS_IT_SHOULD_BE, Delivery("dan", "a", 1, "open", 1)], OFFERS, ended={"a"})
    assert result["stray"] == 1 and not exact(result)
    assert "dan" in result["stray_examples"][0]


def test_an_offer_of_another_round_than_the_drivers_own_is_stray_and_his_own_missed():
    wrong_round = [d if d.authid != "cy" or d.offer != "open" else Delivery("cy", "a", 1, "open", 1)
                   for d in AS_IT_SHOULD_BE]  # fmt: skip
    result = audit(wrong_round, OFFERS, ended={"a"})
    assert (result["stray"], result["missed"]) == (1, 1)


def test_a_closing_before_the_drivers_own_round_is_stray():
    result = audit([*AS_IT_SHOULD_BE, Delivery("cy", "a", 2, "closed", 1)], OFFERS, ended={"a"})
    assert result["stray"] == 1


def test_an_event_of_a_trip_without_an_offer_is_stray():
    result = audit([*AS_IT_SHOULD_BE, Delivery("ann", "a", 1, None, 0)], OFFERS, ended={"a"})
    assert result["stray"] == 1


def test_an_offer_that_never_arrived_is_missed():
    result = audit([d for d in AS_IT_SHOULD_BE if d.authid != "bob"], OFFERS, ended={"a"})
    assert result["missed"] == 1 and result["left_open"] == 1 and not exact(result)


def test_a_duplicate_is_counted_apart_and_is_no_stray():
    result = audit([*AS_IT_SHOULD_BE, AS_IT_SHOULD_BE[0]], OFFERS, ended={"a"})
    assert result["duplicates"] == 1 and exact(result)


def test_an_offer_of_a_trip_still_under_way_is_not_left_open_yet():
    opened_only = [d for d in AS_IT_SHOULD_BE if d.offer == "open"]
    assert audit(opened_only, OFFERS, ended=set())["left_open"] == 0
    assert audit(opened_only, OFFERS, ended={"a"})["left_open"] == 3
